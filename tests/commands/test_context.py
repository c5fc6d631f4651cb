"""Every command that reads a project gets its settings from one application context, so
``--project`` is checked the same way everywhere (a real process, no Lean needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.test_check_cmd import sequent


@pytest.mark.parametrize("args", [
    ["hypotheses", "check", "--run", "run"],
    ["claims", "list"],
    ["build"],
])
def test_a_project_that_is_not_a_folder_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "run").mkdir()
    done = sequent(*args, "--project", str(tmp_path / "nope"), cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"--project {tmp_path / 'nope'}: not a folder" in done.stderr.replace("\n", "")
    assert "Traceback" not in done.stderr
