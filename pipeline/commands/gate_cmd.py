"""``sequent gate`` (block merges that lack proofs) and ``sequent hooks install``.

Exit codes: 0 every check passed, 1 a check failed, 2 a usage or repository problem.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.context import ProjectOption, app_context
from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.gate.evidence import Experiment
from pipeline.gate.formats import FormatName, markdown_summary, render
from pipeline.gate.formats.human import human_renderable
from pipeline.gate.hooks import install_pre_push, parse_push_lines, plan_push
from pipeline.gate.models import GateReport
from pipeline.gate.repo import GitRepository
from pipeline.gate.runner import GateOptions, run_gate
from pipeline.settings import Settings

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


class OutputFormat(StrEnum):
    human = "human"
    markdown = "markdown"
    github = "github"
    junit = "junit"


_FORMAT_NAMES: dict[OutputFormat, FormatName] = {
    OutputFormat.human: "human",
    OutputFormat.markdown: "markdown",
    OutputFormat.github: "github",
    OutputFormat.junit: "junit",
}


class NewTheorem(StrEnum):
    warn = "warn"
    error = "error"


def _reference_experiments() -> Mapping[str, Experiment]:
    from experiments import REFERENCE  # PyTorch: imported only when a claim names one

    return REFERENCE


def _run(settings: Settings, options: GateOptions, term: Terminal) -> GateReport:
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
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Report format.")] = OutputFormat.human,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the report here instead of stdout.")
    ] = None,
    new_theorem: Annotated[
        NewTheorem | None,
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
    options = GateOptions(base=base, head=head, new_theorem=new_theorem.value if new_theorem else None)
    report = _run(settings, options, term)
    fmt_name = _FORMAT_NAMES[fmt]
    if output is not None:
        _write_output(output, render(report, fmt_name))
        term.print(human_renderable(report, verbose=verbose))
        term.info(f"wrote the {fmt.value} report to {output}")
    elif fmt is OutputFormat.human:
        term.print(human_renderable(report, verbose=verbose))
    else:
        term.raw(render(report, fmt_name))
    _append_step_summary(report, term)
    raise typer.Exit(report.exit_code)


hooks_app = typer.Typer(help="Git hooks that run the gate.", no_args_is_help=True)


@hooks_app.command("install")
def hooks_install(
    force: Annotated[
        bool, typer.Option("--force", help="Replace a pre-push hook sequent did not write.")
    ] = False,
    project: Path | None = ProjectOption,
) -> None:
    """Install a pre-push hook that runs the gate on the commits being pushed."""
    settings, term = app_context(project)
    with GitRepository(settings.project_root) as repo:
        prefix = repo.project_prefix(settings.project_root)
        path = install_pre_push(repo, force=force, project=prefix or ".")
    term.print(f"installed {path}: `git push` now runs `sequent gate` on the pushed commits")


@hooks_app.command("pre-push", hidden=True)
def hooks_pre_push(
    remote: Annotated[str, typer.Argument(help="Remote name (git passes it).")] = "",
    url: Annotated[str, typer.Argument(help="Remote URL (git passes it).")] = "",
    project: Path | None = ProjectOption,
) -> None:
    """Run by the pre-push hook: gate each pushed ref (lines on stdin)."""
    settings, term = app_context(project)
    updates = parse_push_lines(sys.stdin.read())
    with GitRepository(settings.project_root) as repo:
        ranges = plan_push(updates, repo)
    worst = 0
    for gate_range in ranges:
        against = gate_range.base[:12] if gate_range.base else "nothing (no default branch)"
        term.info(f"sequent gate: {gate_range.ref} at {gate_range.head[:12]} against {against}")
        report = _run(settings, GateOptions(base=gate_range.base, head=gate_range.head), term)
        term.print(human_renderable(report))
        worst = max(worst, report.exit_code)
    if worst:
        term.error(f"push to {remote or url or 'the remote'} blocked by the sequent gate "
                   "(fix the findings, or skip once with `git push --no-verify`)")
    raise typer.Exit(worst)


def register(app: typer.Typer) -> None:
    app.command("gate")(gate)
    app.add_typer(hooks_app, name="hooks")
