"""``sequent trace [FILE...] [--out FILE] [--submissions]``: JSON Lines of tactic steps with the
goals before and after each (prover training data, close to LeanDojo's traced tactics)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from pipeline.commands.context import AppContext, ProjectOption, app_context
from pipeline.errors import InputError
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker, read_text_checked
from pipeline.lean.trace import trace_source


def _accepted_submissions(ctx: AppContext) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from pipeline.service.tables import SubmissionRow

    db = ctx.database()
    try:
        with db.session() as session:
            rows = session.execute(select(SubmissionRow.id, SubmissionRow.source)
                                   .where(SubmissionRow.status == "accepted")
                                   .order_by(SubmissionRow.id)).all()
    finally:
        db.close()
    return [(f"submission:{sid}", source) for sid, source in rows]


def trace(
    files: list[Path] = typer.Argument(None, help="Lean files (default: every Formal/ module)."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON Lines here (default: stdout)."),
    submissions: bool = typer.Option(False, "--submissions",
                                     help="Also trace every accepted submission in the service database."),
    build: bool = typer.Option(True, "--build/--no-build", help="Build Formal/ first so imports resolve."),
    project: Path | None = ProjectOption,
) -> None:
    """Trace tactic proofs: one JSON object per step (declaration, statement, tactic, goals
    before and after)."""
    ctx = app_context(project)
    settings, term = ctx
    paths = list(files or sorted(settings.formal_path.rglob("*.lean")))
    if not paths and not submissions:
        raise InputError("no Lean files to trace (give FILE... or run in a project with Formal/)")
    sources = [(str(p), read_text_checked(p, max_bytes=settings.max_file_bytes, root=settings.project_root))
               for p in paths]
    if submissions:
        sources += _accepted_submissions(ctx)
    steps = 0
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        with Checker(settings, warm=False) as checker:
            if build and settings.formal_path.is_dir():
                build_project(settings, checker)
            for name, source in sources:
                for step in trace_source(checker, source, name):
                    sink.write(step.model_dump_json() + "\n")
                    steps += 1
                sink.flush()
    finally:
        if out:
            sink.close()
    term.info(f"traced {steps} tactic steps from {len(sources)} files" + (f" into {out}" if out else ""))


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)
