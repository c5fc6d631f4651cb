"""LeanDojo as ``sequent trace``'s optional engine: a clear reason where it cannot run, and
a real trace where ``lean-dojo-v2`` and a native toolchain are installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.lean import dojo


def test_without_lean_dojo_or_a_native_toolchain_it_says_why(tmp_path: Path) -> None:
    reason = dojo.unavailable()
    if reason is None:
        pytest.skip("lean-dojo-v2 and a native toolchain are installed here")
    assert "lean-dojo-v2" in reason or "native Lean toolchain" in reason
    with pytest.raises(InputError, match="cannot trace with LeanDojo"):
        list(dojo.steps(tmp_path))


@pytest.mark.native_lean
@pytest.mark.skipif(dojo.unavailable() is not None, reason=f"LeanDojo cannot run here: {dojo.unavailable()}")
def test_lean_dojo_traces_a_project_in_the_same_layout(tmp_path: Path) -> None:  # pragma: no cover
    root = tmp_path / "proj"
    (root / "Proj").mkdir(parents=True)
    (root / "lakefile.lean").write_text('import Lake\nopen Lake DSL\npackage proj\nlean_lib Proj\n')
    version = subprocess.run(["lean", "--short-version"], capture_output=True, text=True, check=True)
    (root / "lean-toolchain").write_text(f"leanprover/lean4:v{version.stdout.strip()}\n")
    (root / "Proj" / "Basic.lean").write_text(
        "theorem two (n : Nat) (h : n = 2) : n + 0 = 2 := by\n  rw [Nat.add_zero]\n  exact h\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                  "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    traced = [s for s in dojo.steps(root) if s.declaration == "two"]
    assert [s.tactic for s in traced] == ["rw [Nat.add_zero]", "exact h"]
    assert "Nat.add_zero" in [p.full_name for p in traced[0].premises]
    assert traced[-1].goals_after == ()
