"""``sequent gate``: block merges that lack proofs.

Exit codes: 0 every check passed, 1 a check failed, 2 a usage or repository problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.context import ProjectOption, app_context
from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.gate.evidence import Experiment
from pipeline.gate.formats import FormatName, human_document, markdown_summary, render
from pipeline.gate.models import GateReport, NewTheoremPolicy
from pipeline.gate.runner import GateOptions, run_gate
from pipeline.settings import Settings

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def _reference_experiments() -> Mapping[str, Experiment]:
    from experiments import REFERENCE  # PyTorch: imported only when a claim names one

    return REFERENCE


def run_with_progress(settings: Settings, options: GateOptions, term: Terminal) -> GateReport:
    """The gate with a progress line, and the reference experiments it may regenerate (also
    run by the pre-push hook, ``hooks_cmd``)."""
    with term.progress("gate", total=None) as step:
        return run_gate(settings, options, progress=lambda msg: step.advance(0, description=msg),
                        experiments=_reference_experiments)


def _write_output(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--output {path}: cannot write ({exc.strerror or exc})") from exc


def _append_step_summary(report: GateReport, term: Terminal) -> None:
    target = os.environ.get(STEP_SUMMARY_ENV)
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown_summary(report) + "\n")
    except OSError as exc:
        term.warn(f"cannot append to ${STEP_SUMMARY_ENV} ({target}): {exc.strerror or exc}")


def gate(
    base: Annotated[
        str | None, typer.Option("--base", help="Ref to compare with, e.g. origin/main.")
    ] = None,
    head: Annotated[
        str | None, typer.Option("--head", help="Ref to check (default: the working tree).")
    ] = None,
    fmt: Annotated[FormatName, typer.Option("--format", help="Report format.")] = "human",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here instead of stdout.")
    ] = None,
    new_theorem: Annotated[
        NewTheoremPolicy | None,
        typer.Option(
            "--new-theorem",
            help="A new theorem without a claim entry: warn or error "
            "(default: tool.sequent.gate.new_theorem in pyproject.toml, else warn).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every passing check too (default: counted).")
    ] = False,
    project: Path | None = ProjectOption,
) -> None:
    """Block merges that lack proofs: build Formal/, check every claim, diff against --base.
    Findings come first; the passing checks are counted (listed with --verbose)."""
    settings, term = app_context(project)
    options = GateOptions(base=base, head=head, new_theorem=new_theorem)
    report = run_with_progress(settings, options, term)
    summary = human_document(report, verbose=verbose)
    if output is not None:
        _write_output(output, term.document_text(summary) if fmt == "human" else render(report, fmt))
        term.document(summary)
        term.info(f"wrote the {fmt} report to {output}")
    elif fmt == "human":
        term.document(summary)
    else:
        term.raw(render(report, fmt))
    _append_step_summary(report, term)
    raise typer.Exit(report.exit_code)


COMMAND = gate
"""What ``sequent gate`` runs (:mod:`pipeline.commands.app` names it after this module)."""
