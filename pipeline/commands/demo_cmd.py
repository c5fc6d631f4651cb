"""``sequent demo``: build and check Formal/, run the reference experiments, check their
hypotheses, replay a drafting session, write the report. Exit 1 if any stage fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from pipeline.agents.config import AgentConfig
from pipeline.commands.context import ProjectOption, app_context
from pipeline.commands.terminal import Terminal
from pipeline.lean.checker import Checker


class _Bars:
    """The demo's stages as the terminal's progress bars."""

    def __init__(self, term: Terminal, stages: int) -> None:
        self.term = term
        self.stages = stages
        self.index = 0

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[object]:
        self.index += 1
        label = f"{self.index}/{self.stages} {name}"
        with self.term.progress(label, total) as step:
            yield lambda msg: step.advance(1, description=f"{label}: {msg}"[:70])


OutOption = typer.Option("--out", help="Where to write the report (default: .sequent/report/).")
ClaimOption = typer.Option("--claim", help="Claim to draft with the replay provider.")


def demo(
    out: Annotated[Path | None, OutOption] = None,
    claim: Annotated[str | None, ClaimOption] = None,
    project: Path | None = ProjectOption,
) -> None:
    """Run the whole pipeline end to end on this project and write the report."""
    from experiments import REFERENCE  # PyTorch: imported only when the demo runs
    from pipeline.demo.runner import STAGES, run_demo
    from pipeline.demo.stages import DemoRun
    from pipeline.report.collect import default_out_dir

    ctx = app_context(project)
    settings, term = ctx
    agents = AgentConfig.from_env()
    with ctx.database() as db, Checker(settings) as checker:
        run = DemoRun(settings=settings, checker=checker, reference=REFERENCE, agents=agents, db=db,
                      out=out.resolve() if out else default_out_dir(settings), claim_id=claim)
        outcome = run_demo(run, progress=_Bars(term, len(STAGES)))  # type: ignore[arg-type]
    rows = [[s.name, "ok" if s.ok else "FAILED", f"{s.elapsed_s:.1f}s", s.summary]
            for s in outcome.stages]
    rows += [[name, "not run", "", ""] for name in STAGES[len(outcome.stages):]]
    term.table("sequent demo", ["stage", "result", "time", "summary"], rows)
    failed = outcome.failed
    if failed is not None:
        for line in failed.details[:20]:
            term.info(f"  {line}")
        term.error(f"stage '{failed.name}' failed: {failed.summary}")
        raise typer.Exit(1)
    term.print(f"done in {outcome.elapsed_s:.0f}s; open the report: {outcome.report}")


COMMAND = demo
"""What ``sequent demo`` runs (:mod:`pipeline.commands.app` names it after this module)."""
