"""``sequent demo``: the main job end to end, on the embedded Lean, in five stages.

1. build Formal/ and check every claim (:func:`pipeline.lean.build.build_project`,
   :func:`pipeline.claims.proof_status.evaluate`);
2. run the reference experiments with short settings (given by the command:
   ``experiments.REFERENCE``, quick);
3. check every empirical hypothesis on those runs (:func:`pipeline.evidence.evaluate.check_run`);
4. draft a proof of one claim with the replay provider (:func:`pipeline.agents.loop.draft`);
5. write the report.

Each stage returns a :class:`StageResult`; a stage that fails stops the demo (later stages
depend on it) and the outcome says which and why. The caller shows progress through a
:class:`DemoProgress` it supplies (the CLI uses the terminal's progress bars).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.agents.config import AgentConfig
from pipeline.errors import SequentError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.checker import Checker
from pipeline.models import Frozen
from pipeline.settings import Settings
from pipeline.store.db import Database

if TYPE_CHECKING:
    from pipeline.claims.proof_status import ClaimsReport

Advance = Callable[[str], None]
"""Called once per unit of work done in a stage, with a short description."""

STAGES: tuple[str, ...] = ("build", "experiments", "hypotheses", "draft", "report")
SEED = 0


class DemoProgress(Protocol):
    def stage(self, name: str, total: int | None) -> AbstractContextManager[Advance]: ...


class _Silent:
    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Advance]:
        yield lambda _msg: None


class StageResult(Frozen):
    name: str
    ok: bool
    summary: str
    details: tuple[str, ...] = ()
    elapsed_s: float = 0.0


class DemoOutcome(Frozen):
    stages: tuple[StageResult, ...]
    report: Path | None = None
    """``index.html`` of the written report."""
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return len(self.stages) == len(STAGES) and all(s.ok for s in self.stages)

    @property
    def failed(self) -> StageResult | None:
        return next((s for s in self.stages if not s.ok), None)


@dataclass
class _State:
    """What one stage hands to the next."""

    claims: ClaimsReport | None = None
    runs: list[Path] = field(default_factory=list)
    index: Path | None = None


class _Failed(Exception):
    def __init__(self, summary: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(summary)
        self.summary, self.details = summary, details


def demo_dir(settings: Settings) -> Path:
    return settings.state / "demo"


def run_demo(
    settings: Settings,
    checker: Checker,
    *,
    reference: Mapping[str, Callable[..., Path]],
    agents: AgentConfig,
    db: Database,
    out_dir: Path | None = None,
    progress: DemoProgress | None = None,
    claim_id: str | None = None,
) -> DemoOutcome:
    """Run the five stages; stop at the first that fails. ``reference``: the reference
    experiments (``experiments.REFERENCE``, given by the command). ``agents``, ``db``: for the
    replayed draft. ``out_dir``: where the report goes (default ``<state>/report``).
    ``claim_id``: the claim to draft (default: the first claim in registry order that has a
    replay recording)."""
    from pipeline.report.collect import default_out_dir

    progress = progress or _Silent()
    out = out_dir or default_out_dir(settings)
    started = time.monotonic()
    results: list[StageResult] = []
    state = _State()

    def build(advance: Advance) -> tuple[str, tuple[str, ...]]:
        from pipeline.claims.proof_status import evaluate
        from pipeline.lean.build import build_project, discover

        report = build_project(settings, checker, progress=lambda name, _r: advance(name))
        if not report.ok:
            raise _Failed(
                f"{len(report.failures())} of {len(report.modules)} Formal/ modules do not build",
                tuple(f"{m.path}: {m.result.summary() if m.result else m.skipped_reason}"
                      for m in report.failures()),
            )
        claims = evaluate(settings, checker, EVIDENCE_CHECKS, build=report)
        state.claims = claims
        advance("claims checked")
        from pipeline.report.collect import claims_summary

        summary, problems = claims_summary(claims)
        if problems:
            raise _Failed(f"the claims registry is inconsistent: {len(problems)} issue(s)", problems)
        return f"{len(discover(settings))} modules built; {summary}", ()

    def experiments(advance: Advance) -> tuple[str, tuple[str, ...]]:
        if not reference:
            raise _Failed("no reference experiment was given")
        root = demo_dir(settings) / "runs"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        runs: list[Path] = []
        for name, fn in reference.items():
            runs.append(Path(fn(root / name, seed=SEED, quick=True)))
            advance(name)
        state.runs = runs
        return f"{len(runs)} reference experiments run (quick settings, seed {SEED})", ()

    def hypotheses(advance: Advance) -> tuple[str, tuple[str, ...]]:
        from pipeline.claims.registry import load_registry
        from pipeline.evidence.evaluate import check_run

        registry = load_registry(settings)
        counts = {"holds": 0, "fails": 0, "inconclusive": 0, "error": 0}
        no_data = 0
        details: list[str] = []
        for run_dir in state.runs:
            verdicts = check_run(settings, registry, run_dir)
            for v in verdicts:
                if v.outcome == "inconclusive" and v.n == 0:
                    no_data += 1  # the run holds nothing this check can use
                    continue
                counts[v.outcome] += 1
                details.append(f"{v.claim_id}.{v.binder} on {Path(run_dir).name}: {v.outcome} "
                               f"({v.reason})")
            advance(Path(run_dir).name)
        total = sum(counts.values())
        if total == 0:
            raise _Failed("no hypothesis was tested: the reference runs hold no data for any "
                          "claim's checks")
        summary = (f"{total} hypothesis verdicts: {counts['holds']} hold, {counts['fails']} fail, "
                   f"{counts['inconclusive']} inconclusive"
                   + (f", {counts['error']} check errors" if counts["error"] else ""))
        return summary, tuple(details)

    def draft_stage(advance: Advance) -> tuple[str, tuple[str, ...]]:
        from pipeline.agents.loop import draft

        target = claim_id or _recorded_claim(settings, agents)
        outcome = draft(settings, checker, target, "replay", config=agents, db=db, progress=advance)
        lean_attempts = len(outcome.lean_attempts)
        details = tuple(f"attempt {a.index}: {a.outcome}" + (f" — {a.check.summary()}" if a.check else "")
                        for a in outcome.lean_attempts)
        if not outcome.accepted:
            raise _Failed(f"the replayed draft of {target} ended {outcome.status} after "
                          f"{lean_attempts} Lean attempt(s)", details)
        review = outcome.review.judgement.verdict if outcome.review else f"none ({outcome.review_error})"
        return (f"{target}: accepted after {lean_attempts} Lean attempt(s); review: {review}",
                details)

    def report(advance: Advance) -> tuple[str, tuple[str, ...]]:
        from pipeline.report.collect import collect
        from pipeline.report.site import write_site

        data = collect(settings, checker, claims_report=state.claims)
        index = write_site(data, out, progress=advance)
        state.index = index
        return f"{len(data.claims)} claims, {len(data.runs)} runs: {index}", ()

    def n_modules() -> int | None:
        from pipeline.lean.build import discover

        return len(discover(settings)) + 1

    def n_runs() -> int | None:
        return len(state.runs)

    steps: list[tuple[str, Callable[[Advance], tuple[str, tuple[str, ...]]],
                      Callable[[], int | None]]] = [
        ("build", build, n_modules),
        ("experiments", experiments, lambda: len(reference)),
        ("hypotheses", hypotheses, n_runs),
        ("draft", draft_stage, lambda: None),
        ("report", report, lambda: None),
    ]
    for name, fn, total in steps:
        t0 = time.monotonic()
        try:
            expected = total()
        except (SequentError, _Failed):
            expected = None
        with progress.stage(name, expected) as advance:
            try:
                summary, details = fn(advance)
                result = StageResult(name=name, ok=True, summary=summary, details=details,
                                     elapsed_s=time.monotonic() - t0)
            except _Failed as failed:
                result = StageResult(name=name, ok=False, summary=failed.summary,
                                     details=failed.details, elapsed_s=time.monotonic() - t0)
            except SequentError as err:
                result = StageResult(name=name, ok=False, summary=str(err),
                                     elapsed_s=time.monotonic() - t0)
        results.append(result)
        if not result.ok:
            break
    return DemoOutcome(stages=tuple(results), report=state.index,
                       elapsed_s=time.monotonic() - started)


def _recorded_claim(settings: Settings, config: AgentConfig) -> str:
    """The first claim, in registry order, with a packaged replay recording."""
    from pipeline.agents.providers.replay import recording_path
    from pipeline.claims.registry import load_registry

    for claim in load_registry(settings).claims:
        if recording_path(claim.id, config.recordings_dir).is_file():
            return claim.id
    raise _Failed("no claim has a replay recording to draft from "
                  "(pipeline/agents/recordings/<claim_id>.json)")


__all__ = ["STAGES", "DemoOutcome", "DemoProgress", "StageResult", "demo_dir", "run_demo"]
