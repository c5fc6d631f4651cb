"""Export an accepted submission as a commit on a review branch, for a human to merge.

The commit **replaces the proof of the claim's declaration in its module** (the module as
``HEAD`` holds it): the declaration's header (everything before ``:=``) is kept to the byte,
so its type and the claim's meaning pin are unchanged, and its body becomes::

    := by
      revert <the binders before the colon>   -- the goal is now the pinned statement
      <the submitted tactics>                 -- or `exact <the submitted term>`

so the exported branch passes the gate as it stands: no new theorem, the claim's declaration
proved by the submitted proof. Where the declaration cannot be rewritten so (it is not found
in its module, or has an anonymous binder before the colon) the commit adds
``<formal_dir>/Submissions/<claim>_<id>.lean`` (exactly the file Lean accepted) instead, and
``mode`` says so. The commit is written through a temporary index, so the user's checked-out
branch, index and working tree are never touched. The branch ``sequent/review/<id>`` is created
with a compare-and-swap on a missing ref; exporting the same submission again returns the
existing commit.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path, PurePosixPath

from pipeline.claims.library import binders
from pipeline.errors import GateError, SequentError
from pipeline.lean.syntax import blank_comments_and_strings, declarations, top_level_index
from pipeline.service.claim_responses import RegistryCache
from pipeline.service.errors import Conflict
from pipeline.service.models import ExportView
from pipeline.service.submissions import Exportable, SubmissionStore
from pipeline.settings import Settings
from pipeline.vcs import GitRepository

REVIEW_PREFIX = "sequent/review/"


class ExportRequest(Exportable):
    """An accepted submission (what the store gives export) and where its claim's proof lives."""

    module: str | None = None
    """The claim's Lean module and declaration: the proof replaces the declaration's there."""
    declaration: str | None = None


class ExportService:
    """``POST /v1/submissions/{id}/export``: an accepted, audited submission (read through the
    store) as a commit on its review branch."""

    def __init__(self, settings: Settings, registry: RegistryCache, store: SubmissionStore) -> None:
        self._settings, self._registry, self._store = settings, registry, store

    def export(self, submission_id: str) -> ExportView:
        view = self._store.get(submission_id)
        if view.status != "accepted":
            raise Conflict(f"submission {submission_id} is {view.status}; only accepted proofs export")
        sub = self._store.exportable(submission_id)
        if not sub.audited:
            raise Conflict(f"submission {submission_id} was accepted without the compiled-environment "
                           "audit; submit the proof again to have it audited before export")
        req = ExportRequest(**sub.model_dump())
        try:
            pinned = self._registry.claim(req.claim_id)
        except SequentError:  # the claim left the registry: export the accepted file alone
            pinned = None
        if pinned is not None and pinned.lean.statement == req.statement:
            req = req.model_copy(update={"module": pinned.lean.module, "declaration": pinned.lean.declaration})
        return export_submission(self._settings, req)


def _before_colon(signature: str) -> str | None:
    """The bracketed binder groups of a declaration signature (``theorem t (x : T) : Q``)."""
    blanked = blank_comments_and_strings(signature)
    m = re.search(r"\b(?:theorem|lemma)\s+\S+", blanked)
    if m is None:
        return None
    i, depth, start = m.end(), 0, m.end()
    pairs = {"(": ")", "{": "}", "[": "]", "⦃": "⦄"}
    while i < len(blanked):
        ch = blanked[i]
        if ch in pairs:
            depth += 1
        elif ch in pairs.values():
            depth -= 1
        elif ch == ":" and depth == 0:
            return signature[start:i]
        i += 1
    return None


def _tactics(proof: str) -> list[str]:
    """The submitted proof as tactic lines that run on the pinned statement's goal."""
    body = proof.strip("\n")
    stripped = body.lstrip()
    if stripped.startswith("by") and (len(stripped) == 2 or not (stripped[2].isalnum() or stripped[2] in "_'")):
        rest = stripped[2:]
        first, _, more = rest.partition("\n")
        lines = ([first.strip()] if first.strip() else []) + textwrap.dedent(more).split("\n")
        return [ln for ln in lines if ln.strip() or ln == ""]
    lines = body.split("\n")
    return ["exact " + lines[0].lstrip(), *("  " + ln for ln in lines[1:])]


def replaced_module(module_text: str, declaration: str, proof: str) -> str | None:
    """``module_text`` with ``declaration``'s proof replaced by ``proof`` (module docstring);
    None when that cannot be done faithfully."""
    found = next((d for d in declarations(module_text) if d.name == declaration), None)
    if found is None or found.kind not in ("theorem", "lemma"):
        return None
    groups = _before_colon(found.signature)
    if groups is None:
        return None
    names = [b.name for b in binders(f"theorem t {groups} : True")] if groups.strip() else []
    if any(not n or n == "_" for n in names):
        return None
    lines = module_text.split("\n")
    text = "\n".join(lines[found.line - 1:found.end_line])
    blanked = blank_comments_and_strings(text)
    at = top_level_index(blanked, ":=")
    if at < 0:
        return None
    indent = "  "
    body = [f"{indent}revert {' '.join(names)}"] if names else []
    body += [(indent + ln) if ln.strip() else "" for ln in _tactics(proof)]
    new = text[:at].rstrip() + " := by\n" + "\n".join(body).rstrip()
    return "\n".join([*lines[:found.line - 1], new, *lines[found.end_line:]])


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


def export_submission(settings: Settings, req: ExportRequest) -> ExportView:
    with GitRepository(settings.project_root) as repo:
        return _export(repo, settings, req)


def _export(repo: GitRepository, settings: Settings, req: ExportRequest) -> ExportView:
    path = export_path(settings, repo.root, req.claim_id, req.id)
    content, mode = req.source, "file"
    branch = review_branch(req.id)
    existing = repo.find(f"refs/heads/{branch}")
    if existing is not None:
        return _existing(repo, existing, branch, path, req)
    head = repo.find("HEAD")
    if head is None:
        raise Conflict("the repository has no commit yet; commit something before exporting")
    if req.module and req.declaration and req.proof:
        module_path = _module_path(settings, repo.root, req.module)
        original = repo.text(head, module_path)
        replaced = replaced_module(original, req.declaration, req.proof) if original is not None else None
        if replaced is not None:
            content, mode, path = replaced, "module", module_path
    identity = {
        "GIT_AUTHOR_NAME": f"{req.agent} (via Sequent)"[:200],
        "GIT_AUTHOR_EMAIL": "sequent@localhost",
        "GIT_COMMITTER_NAME": "Sequent service",
        "GIT_COMMITTER_EMAIL": "sequent@localhost",
    }
    what = (f"replaces the proof of {req.declaration} in {path}" if mode == "module"
            else f"adds the accepted file {path}")
    message = (
        f"Sequent: accepted proof of {req.claim_id} ({req.id})\n\n"
        f"Submitted by {req.agent}; checked by Lean under the submission trust policy.\n"
        f"This commit {what}.\n"
        f"Statement: {req.statement}\n"
    )
    commit = repo.commit_file(head, path, content, message, identity)
    if not repo.create_branch(branch, commit):  # it appeared meanwhile: that export's commit
        existing = repo.find(f"refs/heads/{branch}")
        if existing is None:  # pragma: no cover - created, then deleted at once
            raise Conflict(f"branch {branch} changed while exporting; try again")
        return _existing(repo, existing, branch, path, req)
    return ExportView(submission_id=req.id, branch=branch, commit=commit, path=path, mode=mode)


def _module_path(settings: Settings, root: Path, module: str) -> str:
    source = settings.project_root.resolve() / Path(*module.split(".")).with_suffix(".lean")
    try:
        return source.relative_to(root.resolve()).as_posix()
    except ValueError as exc:
        raise GateError(f"{source} is not inside the repository at {root}") from exc


def _existing(repo: GitRepository, commit: str, branch: str, path: str, req: ExportRequest) -> ExportView:
    """The branch an earlier export made: it must be that export (one commit, its message)."""
    changed = repo.changed_paths(commit)
    marker = f"Sequent: accepted proof of {req.claim_id} ({req.id})"
    if len(changed) != 1 or not repo.message(commit).startswith(marker):
        raise Conflict(f"branch {branch} exists with a different commit")
    if changed[0] == path:
        if repo.text(commit, path) != req.source:
            raise Conflict(f"branch {branch} exists with a different {path}")
        return ExportView(submission_id=req.id, branch=branch, commit=commit, path=path, mode="file")
    return ExportView(submission_id=req.id, branch=branch, commit=commit, path=changed[0], mode="module")


__all__ = ["ExportRequest", "ExportService", "export_path", "export_submission", "replaced_module",
           "review_branch"]
