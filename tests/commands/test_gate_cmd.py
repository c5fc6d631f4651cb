"""``sequent gate`` / ``sequent hooks install`` usage errors: exit 2 with a clear message,
before any Lean runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.commands.app import run


def _sequent(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_unknown_base_or_head_ref_exits_2(git_project, capsys) -> None:
    git_project.write("lakefile.lean", "-- test\n")
    git_project.commit()
    for option in ("--base", "--head"):
        code, out, err = _sequent(["gate", "--project", str(git_project.root), option, "no-such-ref"], capsys)
        assert code == 2
        assert "unknown git ref 'no-such-ref'" in err
        assert "Traceback" not in out + err
    assert git_project.status() == ""


def test_not_a_repository_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "lakefile.lean").write_text("-- test\n")
    code, _, err = _sequent(["gate", "--project", str(tmp_path)], capsys)
    assert code == 2
    assert "not inside a git repository" in err


def test_bad_options_exit_2(git_project, capsys) -> None:
    git_project.commit()
    code, _, err = _sequent(["gate", "--project", str(git_project.root), "--format", "pdf"], capsys)
    assert code == 2 and "pdf" in err
    code, _, err = _sequent(["gate", "--project", str(git_project.root), "--new-theorem", "maybe"], capsys)
    assert code == 2 and "maybe" in err
    code, _, err = _sequent(["gate", "--project", str(git_project.root / "missing")], capsys)
    assert code == 2 and "not a folder" in err


def test_bad_gate_configuration_exits_2(git_project, capsys) -> None:
    git_project.write("pyproject.toml", "[tool.sequent.gate]\nnew_theorem = 'often'\n")
    git_project.commit()
    code, _, err = _sequent(["gate", "--project", str(git_project.root)], capsys)
    assert code == 2 and "new_theorem" in err and "pyproject.toml" in err


def test_hooks_install_command(git_project, capsys) -> None:
    git_project.commit()
    code, out, _ = _sequent(["hooks", "install", "--project", str(git_project.root)], capsys)
    assert code == 0
    hook = git_project.root / ".git" / "hooks" / "pre-push"
    assert "installed" in out and hook.is_file()
    hook.write_text("#!/bin/sh\nexit 0\n")
    code, _, err = _sequent(["hooks", "install", "--project", str(git_project.root)], capsys)
    assert code == 2 and "--force" in err
    code, _, _ = _sequent(["hooks", "install", "--force", "--project", str(git_project.root)], capsys)
    assert code == 0


def test_pre_push_with_malformed_stdin_exits_2(git_project, capsys, monkeypatch) -> None:
    import io

    git_project.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO("garbage\n"))
    code, _, err = _sequent(["hooks", "pre-push", "--project", str(git_project.root), "origin", "url"], capsys)
    assert code == 2 and "pre-push input line 1" in err
