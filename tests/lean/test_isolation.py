"""If the policy ever missed, a checked file still cannot touch the project or other checks.

The policy is switched to `trusted_tooling` here on purpose, so that `#eval` of IO really runs
inside the check (it does on this build: `IO.println` prints) and only the sandbox stands in
the way: private working folder, wasm mounts, Node's permission model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Policy
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]


def test_eval_cannot_write_or_read_the_project(project: Path) -> None:
    secret = project / "secret.txt"
    secret.write_text("project secret")
    target = project / "pwned.txt"
    cache_db = project / ".sequent" / "sequent.db"
    src = (
        f'#eval IO.println "sandbox-probe"\n'
        f'#eval IO.FS.writeFile "{target}" "owned"\n'
        f'#eval do let s ← IO.FS.readFile "{secret}"; IO.println s!"leaked:{{s}}"\n'
        f'#eval IO.FS.writeFile "{cache_db}" "corrupt"\n'
    )
    settings = make_settings(project)
    with Checker(settings, warm=False) as checker:
        result = checker.check(CheckRequest(source=src, policy=Policy(trusted_tooling=True)))
        assert not target.exists()
        texts = " ".join(m.text for m in result.messages)
        assert "leaked:project secret" not in texts
        assert "sandbox-probe" in texts or result.messages  # the file did run (so the sandbox was tested)
        # the cache database is intact and still answers
        again = checker.check(CheckRequest(source="theorem still_ok : True := trivial\n"))
        assert again.accepted, again.diagnostics()
    assert secret.read_text() == "project secret"
