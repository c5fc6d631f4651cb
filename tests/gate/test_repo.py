"""GitRepository against real temporary repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import GateError
from pipeline.vcs import GitRepository, repo_path


def test_resolves_refs_and_rejects_unknown_ones(git_project) -> None:
    first = git_project.commit("one")
    with GitRepository(git_project.root) as repo:
        assert repo.resolve("main") == first
        assert repo.resolve("HEAD") == first
        assert repo.head_sha() == first
        for bad in ("no-such-branch", "HEAD~7", "", "--all", "deadbeef" * 5):
            with pytest.raises(GateError) as info:
                repo.resolve(bad)
            assert "ref" in str(info.value)
            assert info.value.exit_code == 2


def test_not_a_repository_and_missing_folder(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GateError, match="not inside a git repository"):
        GitRepository(plain)
    with pytest.raises(GateError, match="does not exist"):
        GitRepository(tmp_path / "missing")


def test_reads_files_of_a_commit_not_the_working_tree(git_project) -> None:
    git_project.write("Formal/A.lean", "theorem a : True := trivial\n")
    git_project.write("Formal/Sub/B.lean", "theorem b : True := trivial\n")
    git_project.write("Formal/notes.md", "not lean\n")
    sha = git_project.commit()
    git_project.write("Formal/A.lean", "theorem a : False := sorry\n")
    with GitRepository(git_project.root) as repo:
        files = repo.files(sha, "Formal", ".lean")
        assert files == {
            "Formal/A.lean": b"theorem a : True := trivial\n",
            "Formal/Sub/B.lean": b"theorem b : True := trivial\n",
        }
        assert repo.files(sha, "claims", ".toml") == {}
        assert not repo.is_clean(["Formal"])
        assert repo.is_clean(["claims"])


def test_untracked_files_make_a_path_dirty(git_project) -> None:
    git_project.write("Formal/A.lean", "x\n")
    git_project.commit()
    with GitRepository(git_project.root) as repo:
        assert repo.is_clean(["Formal"])
        git_project.write("Formal/New.lean", "y\n")
        assert not repo.is_clean(["Formal"])


def test_export_leaves_the_working_tree_alone(git_project) -> None:
    git_project.write("Formal/A.lean", "old\n")
    old = git_project.commit("old")
    git_project.write("Formal/A.lean", "new\n")
    git_project.commit("new")
    git_project.write("Formal/A.lean", "dirty\n")
    before = git_project.status()
    with GitRepository(git_project.root) as repo:
        with repo.exported(old) as tree:
            assert (tree / "Formal/A.lean").read_text() == "old\n"
            kept = tree
        assert not kept.exists()
    assert git_project.read("Formal/A.lean") == "dirty\n"
    assert git_project.status() == before


def test_merge_base_and_default_branch(git_project) -> None:
    root = git_project.commit("root")
    git_project.branch("feature")
    git_project.write("f.txt", "f\n")
    feature = git_project.commit("feature")
    git_project.switch("main")
    git_project.write("m.txt", "m\n")
    git_project.commit("main moves")
    with GitRepository(git_project.root) as repo:
        assert repo.merge_base(feature, "main") == root
        assert repo.default_branch() == "main"


def test_project_prefix_and_hooks_dir(git_project, tmp_path: Path) -> None:
    git_project.commit()
    (git_project.root / "sub" / "proj").mkdir(parents=True)
    with GitRepository(git_project.root / "sub" / "proj") as repo:
        assert repo.root == git_project.root.resolve()
        assert repo.project_prefix(git_project.root / "sub" / "proj") == "sub/proj"
        assert repo.project_prefix(git_project.root) == ""
        with pytest.raises(GateError, match="not inside the repository"):
            repo.project_prefix(tmp_path)
        assert repo.hooks_dir() == git_project.root.resolve() / ".git" / "hooks"
    assert repo_path("sub/proj", "Formal/A.lean") == "sub/proj/Formal/A.lean"
    assert repo_path("", "Formal/A.lean") == "Formal/A.lean"
