"""The demo's five stages, one function each. A stage reads what the earlier ones left in
:class:`DemoRun`, leaves its own result there, and returns ``(summary, details)``; it raises
:class:`StageFailed` (or a :class:`~pipeline.errors.SequentError`) to stop the demo."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.agents.config import AgentConfig
from pipeline.agents.loop import draft
from pipeline.agents.providers.replay import recording_path
from pipeline.claims.proof_status import ClaimsReport, evaluate
from pipeline.claims.registry import load_registry
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.evidence.evaluate import check_run
from pipeline.lean.build import build_project, discover
from pipeline.lean.checker import Checker
from pipeline.report.collect import claims_summary, collect
from pipeline.report.site import write_site
from pipeline.settings import Settings
from pipeline.store.db import Database

Advance = Callable[[str], None]
"""Called once per unit of work done in a stage, with a short description."""

Done = tuple[str, tuple[str, ...]]
"""A stage's summary and its details."""

SEED = 0


class StageFailed(Exception):
    def __init__(self, summary: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(summary)
        self.summary, self.details = summary, details


@dataclass
class DemoRun:
    """What the command gives the demo, and what one stage hands to the next."""

    settings: Settings
    checker: Checker
    reference: Mapping[str, Callable[..., Path]]
    """The reference experiments (``experiments.REFERENCE``)."""
    agents: AgentConfig
    db: Database
    out: Path
    """Where the report goes."""
    claim_id: str | None = None
    """The claim to draft (default: the first in registry order with a replay recording)."""
    claims: ClaimsReport | None = None
    runs: list[Path] = field(default_factory=list)
    index: Path | None = None


def demo_dir(settings: Settings) -> Path:
    return settings.state / "demo"


def build(run: DemoRun, advance: Advance) -> Done:
    """Build Formal/ and check every claim."""
    report = build_project(run.settings, run.checker, progress=lambda name, _r: advance(name))
    if not report.ok:
        raise StageFailed(
            f"{len(report.failures())} of {len(report.modules)} Formal/ modules do not build",
            tuple(f"{m.path}: {m.result.summary() if m.result else m.skipped_reason}"
                  for m in report.failures()),
        )
    run.claims = evaluate(run.settings, run.checker, EVIDENCE_CHECKS, build=report)
    advance("claims checked")
    summary, problems = claims_summary(run.claims)
    if problems:
        raise StageFailed(f"the claims registry is inconsistent: {len(problems)} issue(s)", problems)
    return f"{len(discover(run.settings))} modules built; {summary}", ()


def experiments(run: DemoRun, advance: Advance) -> Done:
    """Run the reference experiments with short settings."""
    if not run.reference:
        raise StageFailed("no reference experiment was given")
    root = demo_dir(run.settings) / "runs"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name, experiment in run.reference.items():
        run.runs.append(Path(experiment(root / name, seed=SEED, quick=True)))
        advance(name)
    return f"{len(run.runs)} reference experiments run (quick settings, seed {SEED})", ()


def hypotheses(run: DemoRun, advance: Advance) -> Done:
    """Check every empirical hypothesis on the runs."""
    registry = load_registry(run.settings)
    counts = {"holds": 0, "fails": 0, "inconclusive": 0, "error": 0}
    details: list[str] = []
    for run_dir in run.runs:
        for v in check_run(run.settings, registry, run_dir):
            if v.outcome == "inconclusive" and v.n == 0:
                continue  # the run holds nothing this check can use
            counts[v.outcome] += 1
            details.append(f"{v.claim_id}.{v.binder} on {Path(run_dir).name}: {v.outcome} "
                           f"({v.reason})")
        advance(Path(run_dir).name)
    total = sum(counts.values())
    if total == 0:
        raise StageFailed("no hypothesis was tested: the reference runs hold no data for any "
                          "claim's checks")
    summary = (f"{total} hypothesis verdicts: {counts['holds']} hold, {counts['fails']} fail, "
               f"{counts['inconclusive']} inconclusive"
               + (f", {counts['error']} check errors" if counts["error"] else ""))
    return summary, tuple(details)


def draft_proof(run: DemoRun, advance: Advance) -> Done:
    """Draft a proof of one claim with the replay provider."""
    target = run.claim_id or recorded_claim(run.settings, run.agents)
    outcome = draft(run.settings, run.checker, load_registry(run.settings).get(target), "replay",
                    config=run.agents, db=run.db, progress=advance)
    lean_attempts = len(outcome.lean_attempts)
    details = tuple(f"attempt {a.index}: {a.outcome}" + (f" — {a.check.summary()}" if a.check else "")
                    for a in outcome.lean_attempts)
    if not outcome.accepted:
        raise StageFailed(f"the replayed draft of {target} ended {outcome.status} after "
                          f"{lean_attempts} Lean attempt(s)", details)
    review = outcome.review.judgement.verdict if outcome.review else f"none ({outcome.review_error})"
    return f"{target}: accepted after {lean_attempts} Lean attempt(s); review: {review}", details


def report(run: DemoRun, advance: Advance) -> Done:
    """Write the report."""
    data = collect(run.settings, run.checker, claims_report=run.claims)
    run.index = write_site(data, run.out, progress=advance)
    return f"{len(data.claims)} claims, {len(data.runs)} runs: {run.index}", ()


def recorded_claim(settings: Settings, config: AgentConfig) -> str:
    """The first claim, in registry order, with a packaged replay recording."""
    for claim in load_registry(settings).claims:
        if recording_path(claim.id, config.recordings_dir).is_file():
            return claim.id
    raise StageFailed("no claim has a replay recording to draft from "
                      "(pipeline/agents/recordings/<claim_id>.json)")


__all__ = ["DemoRun", "StageFailed", "build", "demo_dir", "draft_proof", "experiments",
           "hypotheses", "recorded_claim", "report"]
