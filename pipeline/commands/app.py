"""Assembles the ``sequent`` Typer app from one module per command (group).

Each module in :data:`COMMAND_MODULES` exposes ``register(app: typer.Typer) -> None``.
Errors derived from :class:`pipeline.errors.SequentError` become a clean message and the
error's exit code (2 for usage/environment problems); nothing reaches the user as a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from pipeline.commands.terminal import Terminal
from pipeline.errors import SequentError

COMMAND_MODULES: tuple[str, ...] = (
    "pipeline.commands.lean_cmd",
    "pipeline.commands.check_cmd",
    "pipeline.commands.trace_cmd",
    "pipeline.commands.build_cmd",
    "pipeline.commands.claims_cmd",
    "pipeline.commands.hypotheses_cmd",
    "pipeline.commands.draft_cmd",
    "pipeline.commands.serve_cmd",
    "pipeline.commands.gate_cmd",
    "pipeline.commands.report_cmd",
    "pipeline.commands.demo_cmd",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="sequent",
        help="Link Lean proofs of alignment guarantees with empirical checks of their hypotheses.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not written yet in this checkout
                continue
            raise
        module.register(app)
    return app


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
