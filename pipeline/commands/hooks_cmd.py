"""``sequent hooks install``: a git pre-push hook that runs the gate on the pushed commits (and
the hidden ``sequent hooks pre-push`` it calls)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.commands.context import ProjectOption, app_context
from pipeline.commands.gate_cmd import run_with_progress
from pipeline.gate.formats import human_document
from pipeline.gate.hooks import install_pre_push, parse_push_lines, plan_push
from pipeline.gate.runner import GateOptions
from pipeline.vcs import GitRepository

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
        report = run_with_progress(settings, GateOptions(base=gate_range.base, head=gate_range.head), term)
        term.document(human_document(report))
        worst = max(worst, report.exit_code)
    if worst:
        term.error(f"push to {remote or url or 'the remote'} blocked by the sequent gate "
                   "(fix the findings, or skip once with `git push --no-verify`)")
    raise typer.Exit(worst)


COMMAND = hooks_app
"""What ``sequent hooks`` runs (:mod:`pipeline.commands.app` names it after this module)."""
