"""One gate run, from refs to a :class:`~pipeline.gate.models.GateReport`.

1. Resolve the refs (an unknown ref is a :class:`GateError`, exit 2).
2. Pick the head tree: the working tree when ``--head`` is omitted, or names the commit
   checked out under a clean working tree; otherwise the head commit exported to a
   temporary directory (the user's working tree is never touched).
3. Build ``Formal/`` incrementally there (``build_project``).
4. Evaluate every claim (``pipeline.claims.proof_status.evaluate``): statement, sorry, trust
   policy, witness.
5. Re-check the claims' registered reference runs and regenerate their reference experiments
   at quick settings (:mod:`pipeline.gate.evidence`): a soundness alarm, or a hypothesis that
   fails on a reference experiment, fails the gate; alarms on other recorded runs are warnings.
6. With a base: diff declarations and registry entries and apply :mod:`pipeline.gate.rules`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import InputError
from pipeline.gate.changes import LocatedDeclaration, Sides, index_declarations
from pipeline.gate.claim_cases import base_registry, claim_cases, head_claim_pins
from pipeline.gate.config import load_gate_config
from pipeline.gate.evidence import Experiments, evidence_cases
from pipeline.gate.findings import result_findings
from pipeline.gate.models import (
    ClaimChange,
    DeclarationChange,
    Finding,
    GateCase,
    GateReport,
    Location,
    NewTheoremPolicy,
    Revision,
    Severity,
)
from pipeline.gate.rules import change_cases
from pipeline.lean.build import BuildReport, build_project
from pipeline.lean.checker import Checker
from pipeline.lean.provenance import refuse_tracked_state
from pipeline.models import Frozen
from pipeline.settings import Settings
from pipeline.vcs import GitRepository, repo_path

ProgressFn = Callable[[str], None]


class GateOptions(Frozen):
    base: str | None = None
    """The ref to compare against (``origin/main``); ``None``: no change checks."""
    head: str | None = None
    """The ref to check; ``None``: the working tree."""
    new_theorem: NewTheoremPolicy | None = None
    """``None``: as configured in ``[tool.sequent.gate]`` (default ``warn``)."""


def checkout_settings(settings: Settings, root: Path) -> Settings:
    """Settings for a project exported to ``root``: its own (reused) build folder under the
    user's state, the user's Lean install and database (so the result cache is shared)."""
    return settings.model_copy(
        update={
            "project_root": root,
            "state_dir": settings.state / "gate",
            "lean_home": settings.lean_dir,
            "database_url": settings.db_url,
        }
    )


def watched_paths(settings: Settings, prefix: str) -> list[str]:
    """Repository paths whose uncommitted changes make the working tree differ from HEAD
    for the gate's purposes."""
    names = [settings.formal_dir, f"{settings.formal_dir}.lean", settings.claims_dir, "lakefile.lean"]
    return [repo_path(prefix, name) for name in names]


@contextmanager
def head_tree(
    repo: GitRepository, settings: Settings, prefix: str, head: str | None
) -> Iterator[tuple[Settings, Revision]]:
    """The settings rooted at the tree to check, and which revision it is."""
    checked_out = repo.head_sha()
    if head is None:
        yield settings, Revision(label="working tree", sha=checked_out, working_tree=True)
        return
    sha = repo.resolve(head)
    if sha == checked_out and repo.is_clean(watched_paths(settings, prefix)):
        yield settings, Revision(label=head, sha=sha, working_tree=True)
        return
    with repo.exported(sha) as tree:
        root = tree / prefix if prefix else tree
        yield checkout_settings(settings, root), Revision(label=head, sha=sha)


def read_lean_files(settings: Settings, prefix: str) -> dict[str, str]:
    """``Formal.lean`` and ``Formal/**/*.lean`` of a project folder, by repository path."""
    root = settings.project_root
    paths = sorted(settings.formal_path.rglob("*.lean")) if settings.formal_path.is_dir() else []
    top = root / f"{settings.formal_dir}.lean"
    if top.is_file():
        paths.insert(0, top)
    return {
        repo_path(prefix, p.relative_to(root).as_posix()): p.read_bytes().decode("utf-8", errors="replace")
        for p in paths
    }


def read_base_lean_files(repo: GitRepository, sha: str, settings: Settings, prefix: str) -> dict[str, str]:
    """The same files as :func:`read_lean_files`, read from the git objects of commit ``sha``."""
    formal = repo_path(prefix, settings.formal_dir)
    blobs = repo.files(sha, formal, ".lean")
    top = repo.file(sha, f"{formal}.lean")
    if top is not None:
        blobs = {f"{formal}.lean": top, **blobs}
    return {path: data.decode("utf-8", errors="replace") for path, data in blobs.items()}


def build_cases(build: BuildReport, prefix: str) -> list[GateCase]:
    cases: list[GateCase] = []
    for module in build.modules:
        file = repo_path(prefix, module.path)
        if module.up_to_date:
            cases.append(GateCase(suite="build", name=module.module, check="build"))
        elif module.result is None:
            cases.append(_build_error(module.module, module.skipped_reason or "not built", file))
        else:
            cases.append(GateCase(suite="build", name=module.module, check="build",
                                  findings=tuple(result_findings(module.result, file)),
                                  elapsed_s=module.result.elapsed_s))
    return cases


def _build_error(name: str, message: str, file: str) -> GateCase:
    """A build case that fails with one error at ``file``."""
    return GateCase(suite="build", name=name, check="build",
                    findings=(Finding(severity=Severity.error, message=message,
                                      location=Location(file=file)),))


def run_gate(
    settings: Settings, options: GateOptions, *, progress: ProgressFn | None = None,
    experiments: Experiments | None = None,
) -> GateReport:
    """Run every check of the gate; the report says what passed (nothing is raised for a
    failing proof; :class:`GateError` for a repository problem). ``experiments`` gives the
    reference experiments the claims name (``experiments.REFERENCE``, from the composition
    root); without it a named experiment is a warning, not regenerated."""
    started = time.monotonic()
    say = progress or (lambda _msg: None)
    refuse_tracked_state(settings)  # the checkout may not supply build artifacts or results
    new_theorem = options.new_theorem or load_gate_config(settings.project_root).new_theorem
    with GitRepository(settings.project_root) as repo:
        prefix = repo.project_prefix(settings.project_root)
        base_sha = repo.resolve(options.base) if options.base is not None else None
        base = Revision(label=options.base, sha=base_sha) if options.base is not None else None
        with head_tree(repo, settings, prefix, options.head) as (head_settings, head):
            cases: list[GateCase] = []
            if not head.working_tree:
                cases += _committed_state_cases(settings, head_settings, prefix)
            say("building Formal/")
            with Checker(head_settings) as checker:
                try:
                    build = build_project(
                        head_settings, checker, progress=lambda module, _r: say(f"built {module}")
                    )
                except InputError as exc:
                    cases.append(_broken_build_case(str(exc), head_settings, prefix))
                    build = None
                if build is not None:
                    cases += build_cases(build, prefix)
                say("checking claims")
                cases += claim_cases(head_settings, checker, prefix, build)
            say("re-checking registered reference runs and regenerating reference experiments")
            cases += evidence_cases(head_settings, prefix, experiments)

            declaration_changes: list[DeclarationChange] = []
            claim_changes: list[ClaimChange] = []
            if base_sha is not None:
                say("comparing with the base")
                base_index = index_declarations(
                    read_base_lean_files(repo, base_sha, settings, prefix), module_root=prefix
                )
                head_index = index_declarations(read_lean_files(head_settings, prefix), module_root=prefix)
                change_cases_, declaration_changes, claim_changes = _changes(
                    repo, base_sha, settings, head_settings, prefix, base_index, head_index, new_theorem
                )
                cases += change_cases_
    return GateReport(
        project=str(settings.project_root),
        base=base,
        head=head,
        cases=tuple(cases),
        declaration_changes=tuple(declaration_changes),
        claim_changes=tuple(claim_changes),
        elapsed_s=round(time.monotonic() - started, 3),
    )


def _changes(
    repo: GitRepository,
    base_sha: str,
    settings: Settings,
    head_settings: Settings,
    prefix: str,
    base_index: dict[str, LocatedDeclaration],
    head_index: dict[str, LocatedDeclaration],
    new_theorem: NewTheoremPolicy,
) -> tuple[list[GateCase], list[DeclarationChange], list[ClaimChange]]:
    base_claims, unreadable_base = base_registry(repo, base_sha, settings, prefix)
    sides = Sides(base_claims=base_claims, head_claims=head_claim_pins(head_settings, prefix),
                  base_index=base_index, head_index=head_index, unreadable_base=unreadable_base)
    return change_cases(sides, new_theorem), sides.declaration_changes, sides.claim_changes


def _committed_state_cases(settings: Settings, head_settings: Settings, prefix: str) -> list[GateCase]:
    """An error when the head commit tracks files where the pipeline keeps its state (the
    gate never reads them: an exported head gets its own state folder; but a checkout of it
    would be refused, see ``provenance.refuse_tracked_state``)."""
    root = settings.project_root.resolve()
    folders = {Path(".sequent")}  # the default place, for whoever checks the branch out
    if settings.state.is_relative_to(root):
        folders.add(settings.state.relative_to(root))
    for relative in sorted(folders):
        committed = head_settings.project_root / relative
        files = sorted(p.relative_to(head_settings.project_root).as_posix()
                       for p in committed.rglob("*") if p.is_file()) if committed.is_dir() else []
        if files:
            break
    else:
        return []
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return [GateCase(suite="build", name=f"{relative.as_posix()}/ not committed", check="state", findings=(
        Finding(severity=Severity.error, location=Location(file=repo_path(prefix, relative.as_posix())),
                message=(f"the commit tracks {len(files)} file(s) under the pipeline's state folder "
                         f"({shown}); the gate never reads them, and every check refuses a checkout that "
                         f"tracks them: untrack them (`git rm -r --cached {relative.as_posix()}`)")),))]


def _broken_build_case(message: str, settings: Settings, prefix: str) -> GateCase:
    return _build_error(settings.formal_dir, message, repo_path(prefix, settings.formal_dir))


__all__ = ["GateOptions", "build_cases", "checkout_settings", "head_tree", "run_gate", "watched_paths"]
