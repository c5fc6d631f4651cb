"""What the report shows, as data: :class:`ReportData` is assembled once (``collect.py``)
and rendered to pages (``site.py``). Nothing here reads files, the database or Lean.

Node status is derived (``status.py``), never entered by hand.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pipeline.ab.compare import Comparison
from pipeline.agents.models import Attempt, ClaimReview
from pipeline.agents.store import DraftSession
from pipeline.claims.models import HypothesisSummary
from pipeline.evidence.evaluate import Application
from pipeline.evidence.models import HypothesisVerdict, RecordedRun
from pipeline.lean.models import CheckResult
from pipeline.models import Frozen


class Level(StrEnum):
    """How far a claim has come, the colour of its node in the graph."""

    unstated = "unstated"
    """No pinned Lean statement (or the pin does not match Formal/)."""
    pinned = "pinned"
    """The Lean statement is pinned and elaborates, but is not proved."""
    proved = "proved"
    """Lean accepted the proof; some claim it depends on is not proved."""
    fully_proved = "fully_proved"
    """It and everything it depends on are proved."""


LEVEL_LABELS: dict[Level, str] = {
    Level.unstated: "not stated",
    Level.pinned: "statement pinned",
    Level.proved: "proved",
    Level.fully_proved: "fully proved",
}


class NodeStatus(Frozen):
    """The derived status of one claim."""

    pinned: bool
    proved: bool
    fully_proved: bool
    empirical: int
    """How many hypotheses have an empirical check (not assumed)."""
    hypotheses_checked: bool
    """Every empirical hypothesis has a verdict on at least one run."""
    applies_to: tuple[str, ...] = ()
    """Runs R on which the claim applies: proved, and every empirical hypothesis holds on R."""
    proxy_runs: tuple[str, ...] = ()
    """Runs among ``applies_to`` where some hypothesis holds only through a proxy."""
    alarms: tuple[tuple[str, str], ...] = ()
    """Soundness alarms: (run, conclusion) where every hypothesis holds and it fails."""

    @property
    def level(self) -> Level:
        if self.fully_proved:
            return Level.fully_proved
        if self.proved:
            return Level.proved
        if self.pinned:
            return Level.pinned
        return Level.unstated

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]



class PlotRef(Frozen):
    """A PNG shown in the site: ``name`` is its path inside the site, ``source`` the file."""

    name: str
    source: Path


class VerdictRow(Frozen):
    """One hypothesis verdict on one run, with the site path of its plot (if any)."""

    verdict: HypothesisVerdict
    plot: str | None = None
    """Path of the evidence plot inside the site."""

    @property
    def no_data(self) -> bool:
        """The run holds no data this check can use (inconclusive on zero samples): the
        hypothesis was not tested there at all."""
        return self.verdict.outcome == "inconclusive" and self.verdict.n == 0

    @property
    def thin(self) -> bool:
        """The evidence is thin: inconclusive, few samples, or a CI that straddles the
        threshold."""
        v = self.verdict
        if v.outcome == "inconclusive" or v.n < 30:
            return True
        if v.ci is not None and v.threshold is not None:
            return v.ci.low <= v.threshold <= v.ci.high
        return False


class Guarantee(Frozen):
    """A conclusion's guarantee on one run, with the claim's numbers filled in."""

    conclusion: str
    text: str
    vacuous: bool = False
    """The bound says nothing (e.g. a probability bound ≥ 1)."""
    parameters: str = ""
    """The parameters the guarantee was evaluated with and how each was bound, e.g.
    ``q = 0.05 (claim), ε = 0.05 (claim)``."""


class RunEvidence(Application):
    """Everything known about one claim on one run: what its verdicts there mean (the
    :class:`Application`, whose ``applies`` here also needs an empirical hypothesis), the
    verdicts themselves and the guarantees they certify."""

    run_id: str
    rows: tuple[VerdictRow, ...]
    """The latest verdict of each hypothesis on this run, in the claim's hypothesis order."""
    missing: tuple[str, ...] = ()
    """Empirical hypotheses with no verdict on this run."""
    guarantees: tuple[Guarantee, ...] = ()
    """The conclusions' guarantees with this run's parameter values filled in."""

    @property
    def no_data(self) -> bool:
        """No hypothesis of the claim could be tested on this run."""
        return all(row.no_data for row in self.rows)


class RunInfo(RecordedRun):
    """A run that has verdicts, as the report labels it."""

    @property
    def label(self) -> str:
        origin = self.source.removeprefix("experiment:") if self.source else self.kind
        return f"{origin} · {self.id[:8]}" if origin else self.id


class SubmissionRef(Frozen):
    """One proof submitted through the service (HTTP API or MCP) for a claim."""

    id: str
    agent: str
    channel: str
    """``http``, ``mcp`` or ``cli``."""
    status: str
    """``queued``, ``running``, ``accepted``, ``rejected`` or ``error``."""
    created_at: datetime
    finished_at: datetime | None = None


class ClaimEntry(Frozen):
    """One claim, as its page and its graph node show it."""

    id: str
    title: str
    statement: str
    """Informal statement (Markdown)."""
    argument: str
    """Informal proof sketch (Markdown)."""
    source: str = ""
    path: str = ""
    """The claim's TOML file, relative to the project."""
    module: str | None = None
    declaration: str | None = None
    lean_statement: str | None = None
    witness: str | None = None
    lean_text: str | None = None
    """The declaration's text from Formal/ (statement and proof), if found."""
    depends_on: tuple[str, ...] = ()
    hypotheses: tuple[HypothesisSummary, ...] = ()
    status: NodeStatus
    check: CheckResult | None = None
    """The checker's verdict on the proof (the pipeline-assembled file)."""
    witness_check: CheckResult | None = None
    issues: tuple[str, ...] = ()
    """Consistency problems the claims status found for this claim."""
    runs: tuple[RunEvidence, ...] = ()
    sessions: tuple[DraftSession, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    review: ClaimReview | None = None
    submissions: tuple[SubmissionRef, ...] = ()
    """The service's submissions for this claim (API and MCP), newest first."""

    def evidence_on(self, run_id: str) -> RunEvidence | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    @property
    def tested_runs(self) -> tuple[RunEvidence, ...]:
        """Runs where at least one hypothesis could be tested."""
        return tuple(r for r in self.runs if not r.no_data)

    @property
    def untested_runs(self) -> tuple[RunEvidence, ...]:
        return tuple(r for r in self.runs if r.no_data)


class ReportData(Frozen):
    """Everything the report shows."""

    title: str = "Sequent report"
    project: str
    generated_at: datetime
    git_commit: str | None = None
    claims: tuple[ClaimEntry, ...]
    runs: tuple[RunInfo, ...] = ()
    """Every run with at least one verdict, oldest first."""
    issues: tuple[str, ...] = ()
    """Registry-wide consistency problems."""
    plots: tuple[PlotRef, ...] = ()
    """Evidence PNGs to copy into the site."""
    ab: tuple[Comparison, ...] = ()
    """Every A/B run's comparison (the A/B page)."""

    def claim(self, claim_id: str) -> ClaimEntry | None:
        return next((c for c in self.claims if c.id == claim_id), None)

    def run(self, run_id: str) -> RunInfo:
        return next((r for r in self.runs if r.id == run_id), RunInfo(id=run_id))

    @property
    def tested_runs(self) -> tuple[RunInfo, ...]:
        """Runs on which some claim's hypothesis could be tested (the matrix's columns)."""
        tested = {ev.run_id for c in self.claims for ev in c.tested_runs}
        return tuple(r for r in self.runs if r.id in tested)

    @property
    def untested_runs(self) -> tuple[RunInfo, ...]:
        tested = {r.id for r in self.tested_runs}
        return tuple(r for r in self.runs if r.id not in tested)

    def used_by(self, claim_id: str) -> tuple[ClaimEntry, ...]:
        """The claims that depend on ``claim_id``."""
        return tuple(c for c in self.claims if claim_id in c.depends_on)


__all__ = [
    "LEVEL_LABELS",
    "ClaimEntry",
    "Level",
    "NodeStatus",
    "PlotRef",
    "ReportData",
    "RunEvidence",
    "RunInfo",
    "SubmissionRef",
    "VerdictRow",
]
