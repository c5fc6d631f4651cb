"""Export to a review branch on a real git repository: the user's tree is never touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git
import pytest

from pipeline.errors import GateError
from pipeline.service.errors import Conflict
from pipeline.service.export import ExportRequest, export_submission
from tests.conftest import make_settings

SOURCE = "import Formal.Demo\n\ntheorem sequent_submission : True := trivial\n"


def _repo(root: Path) -> git.Repo:
    (root / "Formal").mkdir(parents=True)
    (root / "Formal" / "Demo.lean").write_text("-- demo\n")
    (root / "lakefile.lean").write_text("-- test\n")
    repo = git.Repo.init(root)
    repo.git.add(A=True)
    repo.git.commit("-m", "init", env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    return repo


def _req(source: str = SOURCE, sid: str = "0190abc") -> ExportRequest:
    return ExportRequest(submission_id=sid, claim_id="demo", agent="agent-7", source=source,
                         statement="True")


def test_export_commits_on_a_review_branch_without_touching_the_worktree(project: Path) -> None:
    repo = _repo(project)
    (project / "Formal" / "Demo.lean").write_text("-- uncommitted edit\n")
    (project / "scratch.txt").write_text("untracked\n")
    repo.git.add("scratch.txt")  # something staged in the user's index
    head, branch = repo.head.commit.hexsha, repo.active_branch.name
    status = repo.git.status("--porcelain")

    done = export_submission(make_settings(project), _req())

    assert done.branch == "sequent/review/0190abc"
    assert done.path == "Formal/Submissions/demo_0190abc.lean"
    assert repo.git.show(f"{done.branch}:{done.path}", strip_newline_in_stdout=False) == SOURCE
    commit = repo.commit(done.branch)
    assert [p.hexsha for p in commit.parents] == [head]
    assert commit.author.name == "agent-7 (via Sequent)"
    assert set(commit.stats.files) == {done.path}
    # the user's branch, index and working tree are exactly as they were
    assert repo.head.commit.hexsha == head and repo.active_branch.name == branch
    assert repo.git.status("--porcelain") == status
    assert (project / "Formal" / "Demo.lean").read_text() == "-- uncommitted edit\n"
    assert not (project / done.path).exists()


def test_export_is_idempotent_and_refuses_a_different_file(project: Path) -> None:
    _repo(project)
    settings = make_settings(project)
    first = export_submission(settings, _req())
    assert export_submission(settings, _req()) == first
    with pytest.raises(Conflict, match="different"):
        export_submission(settings, _req(source=SOURCE + "-- changed\n"))


def test_export_outside_a_repository_is_a_clear_error(project: Path) -> None:
    with pytest.raises(GateError, match="not inside a git repository"):
        export_submission(make_settings(project), _req())


def test_export_in_a_repository_without_commits(project: Path) -> None:
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    with pytest.raises(Conflict, match="no commit"):
        export_submission(make_settings(project), _req())
