"""Runs the demo's stages (:mod:`pipeline.demo.stages`) in order:

1. build Formal/ and check every claim;
2. run the reference experiments with short settings (quick);
3. check every empirical hypothesis on those runs;
4. draft a proof of one claim with the replay provider;
5. write the report.

Each stage gives a :class:`StageResult`; a stage that fails stops the demo (later stages
depend on it) and the outcome says which and why. The caller shows progress through a
:class:`DemoProgress` it supplies (the CLI uses the terminal's progress bars).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from pipeline.demo import stages
from pipeline.demo.stages import Advance, DemoRun, Done, StageFailed
from pipeline.errors import SequentError
from pipeline.lean.build import discover
from pipeline.models import Frozen

Stage = Callable[[DemoRun, Advance], Done]

STEPS: tuple[tuple[str, Stage, Callable[[DemoRun], int | None]], ...] = (
    ("build", stages.build, lambda run: len(discover(run.settings)) + 1),
    ("experiments", stages.experiments, lambda run: len(run.reference)),
    ("hypotheses", stages.hypotheses, lambda run: len(run.runs)),
    ("draft", stages.draft_proof, lambda run: None),
    ("report", stages.report, lambda run: None),
)
"""Each stage: its name, its function, how many units of work it expects (for the progress)."""

STAGES: tuple[str, ...] = tuple(name for name, _fn, _total in STEPS)


class DemoProgress(Protocol):
    def stage(self, name: str, total: int | None) -> AbstractContextManager[Advance]: ...


class Silent:
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
    """``index.html`` of the written report (None when the report stage did not run)."""
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return len(self.stages) == len(STAGES) and all(s.ok for s in self.stages)

    @property
    def failed(self) -> StageResult | None:
        return next((s for s in self.stages if not s.ok), None)


def run_stage(name: str, stage: Stage, run: DemoRun, advance: Advance) -> StageResult:
    started = time.monotonic()
    try:
        summary, details = stage(run, advance)
        return StageResult(name=name, ok=True, summary=summary, details=details,
                           elapsed_s=time.monotonic() - started)
    except StageFailed as failed:
        return StageResult(name=name, ok=False, summary=failed.summary, details=failed.details,
                           elapsed_s=time.monotonic() - started)
    except SequentError as err:
        return StageResult(name=name, ok=False, summary=str(err),
                           elapsed_s=time.monotonic() - started)


def expected_units(total: Callable[[DemoRun], int | None], run: DemoRun) -> int | None:
    try:
        return total(run)
    except (SequentError, StageFailed):
        return None


def run_demo(run: DemoRun, progress: DemoProgress | None = None) -> DemoOutcome:
    """Run the five stages; stop at the first that fails."""
    progress = progress or Silent()
    started = time.monotonic()
    results: list[StageResult] = []
    for name, stage, total in STEPS:
        with progress.stage(name, expected_units(total, run)) as advance:
            results.append(run_stage(name, stage, run, advance))
        if not results[-1].ok:
            break
    return DemoOutcome(stages=tuple(results), report=run.index, elapsed_s=time.monotonic() - started)


__all__ = ["STAGES", "DemoOutcome", "DemoProgress", "StageResult", "run_demo"]
