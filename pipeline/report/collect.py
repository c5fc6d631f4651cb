"""Assembling :class:`ReportData` from the other components' public APIs (the only I/O of
the report besides writing files): the claims registry and its derived status
(:mod:`pipeline.claims`), the hypothesis verdicts (:mod:`pipeline.evidence.store`), the
agents' sessions, attempts and reviews (:mod:`pipeline.agents.store`), and the Lean text
of each claim's declaration (:mod:`pipeline.lean.syntax`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.agents.store import attempts_for, latest_review, sessions_for
from pipeline.claims.library import LeanLibrary
from pipeline.claims.models import HypothesisSummary
from pipeline.claims.registry import relative
from pipeline.errors import GateError, SequentError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.evidence.models import HypothesisVerdict
from pipeline.evidence.store import latest_verdicts, recorded_runs
from pipeline.lean.checker import Checker
from pipeline.lean.syntax import blank_comments_and_strings, strip_comments
from pipeline.report import paths
from pipeline.report.ab_page import comparisons
from pipeline.report.models import (
    ClaimEntry,
    PlotRef,
    ReportData,
    RunInfo,
    SubmissionRef,
)
from pipeline.report.node_status import node_status, run_evidence
from pipeline.settings import Settings
from pipeline.store.db import Database

if TYPE_CHECKING:
    from pipeline.claims.proof_status import ClaimsReport, ClaimStatus

Progress = Callable[[str], None]


def default_out_dir(settings: Settings) -> Path:
    """Where ``sequent report`` writes the site unless told otherwise."""
    return settings.state / "report"


def collect(
    settings: Settings,
    checker: Checker,
    *,
    claims_report: ClaimsReport | None = None,
    db: Database | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Everything the report shows, as of now. ``claims_report``: a status the caller just
    evaluated (otherwise it is evaluated here, with ``checker``; cached checks are reused)."""
    from pipeline.claims.proof_status import evaluate

    say = progress or (lambda _msg: None)
    report = claims_report if claims_report is not None else evaluate(settings, checker, EVIDENCE_CHECKS)
    say("claims status")
    database = db or Database(settings.db_url)
    try:
        runs = [RunInfo.model_validate(r.model_dump()) for r in recorded_runs(database)]
        run_ids = [r.id for r in runs]
        library = _library(settings)
        entries: list[ClaimEntry] = []
        plots: list[PlotRef] = []
        seen_runs: list[str] = []
        for status in report.claims:
            entry, claim_plots = _entry(settings, status, database, run_ids, library)
            entries.append(entry)
            plots.extend(claim_plots)
            for ev in entry.runs:
                if ev.run_id not in seen_runs:
                    seen_runs.append(ev.run_id)
            say(status.claim.id)
        ab_runs = comparisons(database)
    finally:
        if db is None:
            database.close()
    known = {r.id for r in runs}
    ordered_runs = [r for r in runs if r.id in seen_runs]
    ordered_runs += [RunInfo(id=r) for r in seen_runs if r not in known]
    return ReportData(
        project=project_name(settings),
        generated_at=now or datetime.now(UTC),
        git_commit=_git_commit(settings),
        claims=tuple(entries),
        runs=tuple(ordered_runs),
        issues=tuple(_registry_issues(report)),
        plots=tuple(plots),
        ab=ab_runs,
    )


def claims_summary(report: ClaimsReport) -> tuple[str, tuple[str, ...]]:
    """One line about the claims' status, and the registry's consistency errors."""
    statuses = list(report.claims)
    proved = sum(1 for s in statuses if s.proved)
    fully = sum(1 for s in statuses if s.fully_proved)
    warnings = len(report.warnings())
    line = f"{len(statuses)} claims: {proved} proved, {fully} fully proved"
    if warnings:
        line += f", {warnings} warning(s)"
    return line, tuple(str(i) for i in report.errors())


# ---- the claims registry and status ---------------------------------------------------------
def _registry_issues(report: ClaimsReport) -> list[str]:
    """Problems that belong to no claim shown (a claim's own are shown on its page)."""
    shown = {s.claim.id for s in report.claims}
    return [str(i) for i in report.issues if i.claim_id is None or i.claim_id not in shown]


# ---- one claim ----------------------------------------------------------------------------------
def _entry(settings: Settings, status: ClaimStatus, db: Database, runs: list[str],
           library: LeanLibrary | None) -> tuple[ClaimEntry, list[PlotRef]]:
    claim = status.claim
    hyps = tuple(
        HypothesisSummary.of(h) for h in claim.hypotheses
    )
    per_run, plots, refs = _verdicts(db, claim.id, runs)
    proved = status.proved
    templates = {c.name: (c.guarantee, c.vacuous_at_least) for c in claim.conclusions
                 if c.guarantee}
    evidence = run_evidence(hyps, per_run, proved=proved, plots=plots, guarantees=templates,
                            conclusions=[c.name for c in claim.conclusions])
    lean = claim.lean
    entry = ClaimEntry(
        id=claim.id,
        title=claim.title,
        statement=claim.statement,
        argument=claim.argument,
        source=claim.source,
        path=relative(settings, claim.path),
        module=lean.module,
        declaration=lean.declaration,
        lean_statement=lean.statement,
        witness=lean.witness,
        lean_text=declaration_text(library, lean.module, lean.declaration),
        depends_on=tuple(claim.depends_on),
        hypotheses=hyps,
        status=node_status(
            pinned=status.stated,
            proved=proved,
            fully_proved=status.fully_proved,
            hypotheses=hyps,
            runs=evidence,
        ),
        check=status.proof,
        witness_check=status.witness,
        issues=tuple(str(i) for i in status.issues),
        runs=tuple(evidence),
        sessions=tuple(sessions_for(db, claim.id)),
        attempts=tuple(attempts_for(db, claim.id)),
        review=latest_review(db, claim.id),
        submissions=_submissions(db, claim.id),
    )
    return entry, refs


def _submissions(db: Database, claim_id: str) -> tuple[SubmissionRef, ...]:
    """The service's submissions of the claim (API and MCP), newest first; none where the
    database has no service tables (a report made before any server ran)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.service.tables import SubmissionRow

    try:
        with db.session() as session:
            rows = session.scalars(select(SubmissionRow).where(SubmissionRow.claim_id == claim_id)
                                   .order_by(SubmissionRow.id.desc()).limit(200))
            return tuple(SubmissionRef(id=r.id, agent=r.agent, channel=r.channel, status=r.status,
                                       created_at=r.created_at, finished_at=r.finished_at) for r in rows)
    except SQLAlchemyError:
        return ()


def project_name(settings: Settings) -> str:
    """The project's name from its configuration: ``[tool.sequent] name`` or ``[project] name``
    in ``pyproject.toml``, else the Lake ``package`` in ``lakefile.lean``; the folder's name
    only when none says."""
    import re
    import tomllib

    root = settings.project_root
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    for name in (data.get("tool", {}).get("sequent", {}).get("name"), data.get("project", {}).get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    try:
        lakefile = (root / "lakefile.lean").read_text(encoding="utf-8")
    except OSError:
        lakefile = ""
    found = re.search(r"^\s*package\s+(?:«([^»]+)»|([A-Za-z_][\w.']*))", lakefile, re.MULTILINE)
    if found:
        return found.group(1) or found.group(2)
    return root.resolve().name


def _verdicts(
    db: Database, claim_id: str, runs: list[str]
) -> tuple[dict[str, list[HypothesisVerdict]], dict[tuple[str, str], str], list[PlotRef]]:
    """The latest verdict of each binder on each run, and the evidence plots to show."""
    per_run: dict[str, list[HypothesisVerdict]] = {}
    plots: dict[tuple[str, str], str] = {}
    refs: list[PlotRef] = []
    for run_id in runs:
        verdicts = latest_verdicts(db, claim_id, run_id=run_id)
        if not verdicts:
            continue
        per_run[run_id] = verdicts
        for v in verdicts:
            if v.plot and v.plot.endswith(".png") and Path(v.plot).is_file():
                name = paths.evidence_plot(claim_id, run_id, v.binder)
                plots[(run_id, v.binder)] = name
                refs.append(PlotRef(name=name, source=Path(v.plot)))
    return per_run, plots, refs


def _library(settings: Settings) -> LeanLibrary | None:
    """The Lean library's source, or ``None`` when a module cannot be read (the registry's
    status reports that problem; the report just shows no Lean text)."""
    try:
        return LeanLibrary.load(settings)
    except SequentError:
        return None


def declaration_text(library: LeanLibrary | None, module: str, name: str) -> str | None:
    """The text of declaration ``name`` in project module ``module`` (``None`` if absent)."""
    mod = library.module(module) if library is not None else None
    decl = mod.find(name) if mod is not None else None
    return without_trailing_comments(decl.text) if decl is not None else None


def without_trailing_comments(text: str) -> str:
    """``text`` without the comment lines it ends with: a declaration's text runs up to the
    next declaration, so it can end with that one's doc comment."""
    end = len(blank_comments_and_strings(text).rstrip())
    if strip_comments(text[end:]).strip():
        return text.rstrip()  # a string literal ends the declaration: keep it all
    newline = text.find("\n", end)
    return text[: newline if newline != -1 else len(text)].rstrip()


def _git_commit(settings: Settings) -> str | None:
    from pipeline.vcs import GitRepository

    try:
        with GitRepository(settings.project_root) as repo:
            return repo.head_sha()
    except GateError:
        return None


__all__ = ["claims_summary", "collect", "declaration_text", "default_out_dir"]
