"""``sequent report``: write the static HTML report (default ``.sequent/report/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.context import ProjectOption, app_context
from pipeline.lean.checker import Checker

OutOption = typer.Option("--out", help="Folder to write the site into (default: .sequent/report/).")


def report(
    out: Annotated[Path | None, OutOption] = None,
    project: Path | None = ProjectOption,
) -> None:
    """Write the report: dependency graph, claim pages with verdicts, evidence and attempts."""
    from pipeline.report.collect import collect, default_out_dir
    from pipeline.report.site import write_site

    settings, term = app_context(project)
    target = (out if out is not None else default_out_dir(settings)).resolve()
    with Checker(settings, warm=False) as checker, term.progress("collect", total=None) as step:
        data = collect(settings, checker, progress=lambda msg: step.advance(1, description=msg))
    with term.progress("write report", total=None) as step:
        index = write_site(data, target, progress=lambda name: step.advance(1))
    proved = sum(1 for c in data.claims if c.status.proved)
    term.print(f"{len(data.claims)} claims ({proved} proved), {len(data.runs)} runs with evidence")
    term.print(f"report: {index}")


COMMAND = report
"""What ``sequent report`` runs (:mod:`pipeline.commands.app` names it after this module)."""
