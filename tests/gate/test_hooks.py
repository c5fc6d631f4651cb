"""The pre-push hook: parsing git's lines, planning gate runs, installing the script."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from pipeline.errors import InputError
from pipeline.gate.hooks import (
    HOOK_MARKER,
    GateRange,
    install_pre_push,
    parse_push_lines,
    plan_push,
)
from pipeline.vcs import ZERO_SHA, GitRepository


def test_parse_push_lines() -> None:
    a, b = "a" * 40, "b" * 40
    updates = parse_push_lines(f"refs/heads/x {a} refs/heads/x {b}\n\nrefs/heads/y {ZERO_SHA} refs/heads/y {b}\n")
    assert [u.local_ref for u in updates] == ["refs/heads/x", "refs/heads/y"]
    assert not updates[0].deletes and updates[1].deletes
    assert parse_push_lines("") == []
    for bad in ("refs/heads/x abc refs/heads/x def", "only three fields here", f"r {a} r {b} extra"):
        with pytest.raises(InputError, match="pre-push input line 1"):
            parse_push_lines(bad)


def test_plan_push_uses_remote_sha_or_merge_base(git_project) -> None:
    root = git_project.commit("root")
    git_project.branch("feature")
    git_project.write("a.txt", "1\n")
    first = git_project.commit("first")
    git_project.write("a.txt", "2\n")
    second = git_project.commit("second")
    with GitRepository(git_project.root) as repo:
        # an update of a branch the remote has: base is the remote's commit
        (r,) = plan_push(parse_push_lines(f"refs/heads/feature {second} refs/heads/feature {first}"), repo)
        assert r == GateRange(ref="refs/heads/feature", head=second, base=first)
        # a new branch: base is the merge base with the default branch
        (r,) = plan_push(parse_push_lines(f"refs/heads/feature {second} refs/heads/feature {ZERO_SHA}"), repo)
        assert r.base == root
        # the remote has a commit we do not: fall back to the merge base too
        (r,) = plan_push(parse_push_lines(f"refs/heads/feature {second} refs/heads/feature {'c' * 40}"), repo)
        assert r.base == root
        # deleting a branch, or pushing what the remote has: nothing to gate
        assert plan_push(parse_push_lines(f"refs/heads/feature {ZERO_SHA} refs/heads/feature {second}"), repo) == []
        assert plan_push(parse_push_lines(f"refs/heads/feature {second} refs/heads/feature {second}"), repo) == []


def test_install_writes_an_executable_hook_and_respects_foreign_hooks(git_project) -> None:
    git_project.commit()
    with GitRepository(git_project.root) as repo:
        path = install_pre_push(repo, python="/opt/py/bin/python3", project="sub dir")
        assert path == git_project.root.resolve() / ".git" / "hooks" / "pre-push"
        text = path.read_text()
        assert text.startswith("#!/bin/sh\n") and HOOK_MARKER in text
        assert "exec /opt/py/bin/python3 -c 'from pipeline.cli import main; main()' hooks pre-push" in text
        assert "--project 'sub dir' \"$@\"" in text
        assert path.stat().st_mode & stat.S_IXUSR
        install_pre_push(repo)  # ours: replaced without --force
        path.write_text("#!/bin/sh\necho mine\n")
        with pytest.raises(InputError, match="--force"):
            install_pre_push(repo)
        assert path.read_text() == "#!/bin/sh\necho mine\n"
        install_pre_push(repo, force=True)
        assert HOOK_MARKER in path.read_text()


def test_install_honours_core_hooks_path(git_project) -> None:
    git_project.commit()
    git_project.repo.git.config("core.hooksPath", "githooks")
    with GitRepository(git_project.root) as repo:
        path = install_pre_push(repo)
    assert path == git_project.root.resolve() / "githooks" / "pre-push"


def test_hook_script_is_valid_shell(git_project) -> None:
    git_project.commit()
    with GitRepository(git_project.root) as repo:
        path = install_pre_push(repo)
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert result.returncode == 0, result.stderr
