"""Assembles the ``sequent`` Typer app from one module per command (group).

Each module in :data:`COMMAND_MODULES` is one command, named after the module (``goals_cmd``:
``sequent goals``): its ``COMMAND`` is the function a command runs, or the Typer group of a
command with subcommands.
Errors derived from :class:`pipeline.errors.SequentError` become a clean message and the
error's exit code (2 for usage/environment problems); nothing reaches the user as a traceback.
"""

from __future__ import annotations

import sys
from types import ModuleType

import typer

from pipeline.commands import (
    ab_cmd,
    build_cmd,
    check_cmd,
    claims_cmd,
    demo_cmd,
    draft_cmd,
    gate_cmd,
    goals_cmd,
    hooks_cmd,
    hypotheses_cmd,
    lean_cmd,
    mcp_cmd,
    report_cmd,
    serve_cmd,
    submissions_cmd,
    token_cmd,
    trace_cmd,
    worker_cmd,
)
from pipeline.commands.terminal import Terminal
from pipeline.errors import SequentError

COMMAND_MODULES: tuple[ModuleType, ...] = (
    lean_cmd,
    check_cmd,
    goals_cmd,
    trace_cmd,
    build_cmd,
    claims_cmd,
    hypotheses_cmd,
    draft_cmd,
    serve_cmd,
    worker_cmd,
    mcp_cmd,
    token_cmd,
    submissions_cmd,
    gate_cmd,
    hooks_cmd,
    report_cmd,
    demo_cmd,
    ab_cmd,
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="sequent",
        help="Link Lean proofs of alignment guarantees with empirical checks of their hypotheses.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for module in COMMAND_MODULES:
        name = command_name(module)
        if isinstance(module.COMMAND, typer.Typer):
            app.add_typer(module.COMMAND, name=name)
        else:
            app.command(name)(module.COMMAND)
    return app


def command_name(module: ModuleType) -> str:
    """``pipeline.commands.ab_cmd`` -> ``ab``: a command is named after its module."""
    return module.__name__.rsplit(".", 1)[-1].removesuffix("_cmd").replace("_", "-")


def run(argv: list[str] | None = None) -> None:
    """Entry point. Click's standalone mode turns usage errors into exit 2 with a message;
    package errors become a clean message and their exit code; nothing shows a traceback."""
    term = Terminal()
    try:
        build_app()(args=argv, standalone_mode=True)
    except SequentError as err:
        term.error(str(err))
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        term.error("interrupted")
        sys.exit(130)


__all__ = ["COMMAND_MODULES", "build_app", "command_name", "run"]
