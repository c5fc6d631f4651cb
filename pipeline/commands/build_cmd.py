"""``sequent build``: compile Formal/ incrementally, in parallel, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import ProjectOption, app_context
from pipeline.commands.terminal import escape, styled
from pipeline.lean.build import build_project, discover
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckResult


def build(
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Parallel Lean processes (default: cores)."),
    project: Path | None = ProjectOption,
) -> None:
    """Compile every Formal/ module in import order; leave .olean files for importers."""
    settings, term = app_context(project)
    total = len(discover(settings))
    with Checker(settings) as checker, term.progress("build Formal/", total) as step:
        def on_module(name: str, result: CheckResult | None) -> None:
            step.advance(1, description=f"build {name}")

        report = build_project(settings, checker, progress=on_module, jobs=jobs)
    rebuilt = report.rebuilt
    term.print(f"{len(report.modules)} modules, {len(rebuilt)} rebuilt, {report.elapsed_s:.1f}s")
    for m in report.failures():
        term.print(f"{styled('failed', 'bad')} {escape(m.path)}: {escape(m.result.summary() if m.result else m.skipped_reason or '')}")
        if m.result is not None and m.result.diagnostics():
            term.text(m.result.diagnostics().replace(m.result.file_name, m.path))
    raise typer.Exit(0 if report.ok else 1)


COMMAND = build
"""What ``sequent build`` runs (:mod:`pipeline.commands.app` names it after this module)."""
