"""`sequent check` and `sequent lean info` as a user runs them (real process, real Lean)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import lean_home, needs_lean


def sequent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SEQUENT_LEAN_HOME=str(lean_home()), SEQUENT_POOL_SIZE="1")
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.lean
@needs_lean
def test_check_exit_codes_and_json(project: Path) -> None:
    (project / "Good.lean").write_text("theorem good : 1 + 1 = 2 := rfl\n")
    (project / "Bad.lean").write_text("theorem bad : 1 + 1 = 3 := rfl\n")
    ok = sequent("check", "Good.lean", cwd=project)
    assert ok.returncode == 0, ok.stderr
    assert "accepted" in ok.stdout
    mixed = sequent("check", "Good.lean", "Bad.lean", "--json", cwd=project)
    assert mixed.returncode == 1
    payload = json.loads(mixed.stdout)
    assert [p["verdict"] for p in payload] == ["accepted", "rejected"]
    assert payload[0]["cached"] is True  # second run of an unchanged file: answered from the cache
    assert payload[1]["messages"][0]["pos"]["line"] == 1


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        (lambda p: None, ["check", "Missing.lean"], "no such file"),
        (lambda p: (p / "L1.lean").write_bytes(b"\xff\xfe"), ["check", "L1.lean"], "UTF-8"),
        (lambda p: (p / "E.lean").write_text(""), ["check", "E.lean"], "empty"),
        (lambda p: (p / "Big.lean").write_text("x" * 2_000_000), ["check", "Big.lean"], "over the limit"),
        (lambda p: None, ["check", "/etc/hostname"], "outside the project"),
        (lambda p: None, ["check"], "Missing argument"),
    ],
)
def test_bad_input_exits_2_without_traceback(project: Path, setup, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    setup(project)
    res = sequent(*args, cwd=project)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_lean_info_json(project: Path) -> None:
    res = sequent("lean", "info", "--json", cwd=project)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["backend"] in {"embedded", "native"}
    assert info["toolchain_pin"] == "leanprover/lean4:v4.28.0"
