"""`sequent trace` as a user runs it (real process, real Lean): JSON Lines of tactic steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands.test_check_cmd import sequent
from tests.conftest import needs_lean


@pytest.mark.lean
@needs_lean
def test_trace_writes_json_lines(project: Path) -> None:
    (project / "T.lean").write_text(
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n  · exact hp\n  · exact hq\n")
    out = project / "trace.jsonl"
    done = sequent("trace", "T.lean", "--out", str(out), cwd=project)
    assert done.returncode == 0, done.stderr
    assert "traced 3 tactic steps from 1 files" in done.stderr
    steps = [json.loads(line) for line in out.read_text().splitlines()]
    assert [s["tactic"] for s in steps] == ["constructor", "· exact hp", "· exact hq"]
    assert steps[0]["state_before"].endswith("⊢ p ∧ q") and "⊢ p" in steps[0]["state_after"]
    assert {"file", "declaration", "statement", "state_before", "state_after", "premises"} <= set(steps[0])
    missing = sequent("trace", "Nope.lean", cwd=project)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_trace_with_lean_dojo_where_it_cannot_run_says_why(project: Path) -> None:
    from pipeline.lean import dojo

    reason = dojo.unavailable()
    if reason is None:
        pytest.skip("lean-dojo-v2 and a native toolchain are installed here")
    done = sequent("trace", "--engine", "dojo", cwd=project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot trace with LeanDojo" in done.stderr and reason.split(" (")[0] in done.stderr
    both = sequent("trace", "T.lean", "--engine", "dojo", cwd=project)
    assert both.returncode == 2 and "no FILE" in both.stderr
