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
    return ExportRequest(id=sid, claim_id="demo", agent="agent-7", source=source, statement="True",
                         proof="by trivial", audited=True)


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


MODULE = """module

public import Init

namespace Formal.Demo

/-- A demo theorem. -/
theorem demo_thm (n : Nat) {m : Nat}
    (h_eq : n = m) : m = n := by
  -- the library's own proof
  exact h_eq.symm

theorem after : True := trivial

end Formal.Demo
"""


def test_export_replaces_the_proof_of_the_claims_declaration_in_its_module(project: Path) -> None:
    repo = _repo(project)
    (project / "Formal" / "Demo.lean").write_text(MODULE)
    repo.git.add(A=True)
    repo.git.commit("-m", "module", env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    proof = "by\n  intro n m h_eq\n  subst h_eq\n  rfl"
    req = _req().model_copy(update={"module": "Formal.Demo", "declaration": "Formal.Demo.demo_thm",
                                    "proof": proof})
    done = export_submission(make_settings(project), req)
    assert done.mode == "module" and done.path == "Formal/Demo.lean"
    exported = repo.git.show(f"{done.branch}:{done.path}", strip_newline_in_stdout=False)
    assert exported == MODULE.replace(
        "    (h_eq : n = m) : m = n := by\n  -- the library's own proof\n  exact h_eq.symm\n",
        "    (h_eq : n = m) : m = n := by\n  revert n m h_eq\n  intro n m h_eq\n  subst h_eq\n  rfl\n")
    assert set(repo.commit(done.branch).stats.files) == {"Formal/Demo.lean"}  # no new theorem, no new file
    assert export_submission(make_settings(project), req) == done  # idempotent

    term = _req(sid="0190abd").model_copy(update={
        "module": "Formal.Demo", "declaration": "Formal.Demo.demo_thm",
        "proof": "fun n m h_eq =>\n  h_eq.symm"})
    as_term = export_submission(make_settings(project), term)
    assert "  revert n m h_eq\n  exact fun n m h_eq =>\n      h_eq.symm\n" in repo.git.show(
        f"{as_term.branch}:{as_term.path}", strip_newline_in_stdout=False)

    missing = _req(sid="0190abe").model_copy(update={
        "module": "Formal.Demo", "declaration": "Formal.Demo.nope", "proof": proof})
    assert export_submission(make_settings(project), missing).mode == "file"  # not found: the file alone
