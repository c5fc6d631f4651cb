"""Export an accepted submission as a commit on a review branch, for a human to merge.

The commit adds ``<formal_dir>/Submissions/<claim>_<id>.lean`` (exactly the file Lean
accepted) on top of ``HEAD`` and is written through a temporary index, so the user's
checked-out branch, index and working tree are never touched. The branch
``sequent/review/<id>`` is created with a compare-and-swap on a missing ref; exporting
the same submission again returns the existing commit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

import git

from pipeline.errors import GateError
from pipeline.models import Frozen
from pipeline.service.errors import Conflict
from pipeline.settings import Settings

ZERO_SHA = "0" * 40
REVIEW_PREFIX = "sequent/review/"


class ExportRequest(Frozen):
    submission_id: str
    claim_id: str
    agent: str
    source: str
    statement: str


class Exported(Frozen):
    branch: str
    commit: str
    path: str


def review_branch(submission_id: str) -> str:
    return REVIEW_PREFIX + submission_id


def export_path(settings: Settings, repo_root: Path, claim_id: str, submission_id: str) -> str:
    formal = settings.formal_path.resolve()
    try:
        rel = formal.relative_to(repo_root.resolve())
    except ValueError as exc:
        raise GateError(f"{formal} is not inside the repository at {repo_root}") from exc
    safe_claim = "".join(c if c.isalnum() or c == "_" else "_" for c in claim_id)
    return str(PurePosixPath(*rel.parts, "Submissions", f"{safe_claim}_{submission_id}.lean"))


def _open_repo(settings: Settings) -> git.Repo:
    try:
        return git.Repo(settings.project_root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GateError(f"{settings.project_root} is not inside a git repository") from exc


def export_submission(settings: Settings, req: ExportRequest) -> Exported:
    repo = _open_repo(settings)
    try:
        return _export(repo, settings, req)
    except git.GitCommandError as exc:
        raise GateError(f"git failed while exporting {req.submission_id}: {exc.stderr.strip()}") from exc
    finally:
        repo.close()


def _export(repo: git.Repo, settings: Settings, req: ExportRequest) -> Exported:
    if repo.working_tree_dir is None:
        raise GateError("the repository is bare; export needs a working repository")
    root = Path(repo.working_tree_dir)
    path = export_path(settings, root, req.claim_id, req.submission_id)
    branch = review_branch(req.submission_id)
    ref = f"refs/heads/{branch}"
    existing = _resolve(repo, ref)
    if existing is not None:
        return _existing(repo, existing, branch, path, req)
    head = _resolve(repo, "HEAD")
    if head is None:
        raise Conflict("the repository has no commit yet; commit something before exporting")
    identity = {
        "GIT_AUTHOR_NAME": f"{req.agent} (via Sequent)"[:200],
        "GIT_AUTHOR_EMAIL": "sequent@localhost",
        "GIT_COMMITTER_NAME": "Sequent service",
        "GIT_COMMITTER_EMAIL": "sequent@localhost",
    }
    with tempfile.TemporaryDirectory(prefix="sequent-export-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity}
        blob_file = Path(tmp) / "proof.lean"
        blob_file.write_text(req.source, encoding="utf-8")
        blob = repo.git.hash_object("-w", str(blob_file))
        repo.git.read_tree(head, env=env)
        repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = repo.git.write_tree(env=env)
        message = (
            f"Sequent: accepted proof of {req.claim_id} ({req.submission_id})\n\n"
            f"Submitted by {req.agent}; checked by Lean under the submission trust policy.\n"
            f"Statement: {req.statement}\n"
        )
        commit = repo.git.commit_tree(tree, "-p", head, "-m", message, env=env)
    try:
        repo.git.update_ref(ref, commit, ZERO_SHA)  # create only: fails if it appeared meanwhile
    except git.GitCommandError:
        existing = _resolve(repo, ref)
        if existing is None:
            raise
        return _existing(repo, existing, branch, path, req)
    return Exported(branch=branch, commit=commit, path=path)


def _resolve(repo: git.Repo, ref: str) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}"))
    except git.GitCommandError:
        return None


def _existing(repo: git.Repo, commit: str, branch: str, path: str, req: ExportRequest) -> Exported:
    try:
        content = repo.git.show(f"{commit}:{path}", strip_newline_in_stdout=False)
    except git.GitCommandError as exc:
        raise Conflict(f"branch {branch} exists and does not hold {path}") from exc
    if content != req.source:
        raise Conflict(f"branch {branch} exists with a different {path}")
    return Exported(branch=branch, commit=commit, path=path)


__all__ = ["ExportRequest", "Exported", "export_path", "export_submission", "review_branch"]
