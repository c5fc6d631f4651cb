"""``sequent goals FILE:LINE:COL [--json]``: the proof state at a position (a resident worker,
the running server's when one is up)."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import BuildOption, JsonOption, ProjectOption, app_context
from pipeline.errors import InputError
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker, read_text_checked


def _position(spec: str) -> tuple[Path, int, int]:
    parts = spec.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit() or int(parts[1]) < 1:
        raise InputError(f"{spec!r}: give FILE:LINE:COL (line from 1, column from 0)")
    return Path(parts[0]), int(parts[1]), int(parts[2])


def goals(
    position: str = typer.Argument(..., metavar="FILE:LINE:COL",
                                   help="Where: line from 1, column from 0 (as Lean's messages)."),
    json_out: JsonOption = False,
    build: bool = BuildOption,
    server: bool = typer.Option(
        True, "--server/--no-server",
        help="Ask the project's running `sequent serve` (its warm Lean workers and its build of "
             "Formal/) when one is up; else, or with --no-server, start a Lean worker here."),
    project: Path | None = ProjectOption,
) -> None:
    """Show the proof state (tactic goals, expected type) at a position of a Lean file."""
    from pipeline.service.local import remote_goals

    settings, term = app_context(project)
    path, line, column = _position(position)
    source = read_text_checked(path, max_bytes=settings.max_file_bytes, root=settings.project_root)
    if line > source.count("\n") + 1:
        raise InputError(f"{path} has no line {line}")
    goal = remote_goals(settings, source, line, column, timeout_s=settings.lean_timeout_s) if server else None
    if goal is None:
        with Checker(settings, warm=False) as checker:
            if build and settings.formal_path.is_dir():
                build_project(settings, checker)
            goal = checker.goals(source, line, column)
    if json_out:
        term.json(goal)
        return
    if not goal.goals and goal.term_goal is None:
        term.text(f"{path}:{line}:{column}: no goals here")
    for i, g in enumerate(goal.goals, 1):
        term.text(f"goal {i} of {len(goal.goals)}:\n{g}\n")
    if goal.term_goal is not None:
        term.text(f"expected type:\n{goal.term_goal}")


COMMAND = goals
"""What ``sequent goals`` runs (:mod:`pipeline.commands.app` names it after this module)."""
