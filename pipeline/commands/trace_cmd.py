"""``sequent trace [FILE...] [--out FILE] [--submissions] [--engine embedded|dojo]``: JSON Lines
of tactics with the goals before and after each (prover training data in the layout of
LeanDojo's traced tactics; :mod:`pipeline.lean.trace`), paths relative to the project.
``--engine dojo`` runs LeanDojo's own tracer instead (extra ``dojo`` and a native toolchain;
:mod:`pipeline.lean.dojo`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path

import typer

from pipeline.commands.context import AppContext, BuildOption, ProjectOption, app_context
from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.lean import dojo
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker, read_text_checked
from pipeline.lean.trace import premises_from, trace_source
from pipeline.settings import Settings


def _accepted_submissions(ctx: AppContext) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from pipeline.service.tables import SubmissionRow

    with ctx.database() as db, db.session() as session:
        rows = session.execute(select(SubmissionRow.id, SubmissionRow.source)
                               .where(SubmissionRow.status == "accepted")
                               .order_by(SubmissionRow.id)).all()
    return [(f"submission:{sid}", source) for sid, source in rows]


class Engine(StrEnum):
    embedded = "embedded"
    dojo = "dojo"


def trace(
    files: list[Path] = typer.Argument(None, help="Lean files (default: every Formal/ module)."),
    out: Path | None = typer.Option(None, "--out", help="Write the JSON Lines here (default: stdout)."),
    submissions: bool = typer.Option(False, "--submissions",
                                     help="Also trace every accepted submission in the service database."),
    build: bool = BuildOption,
    engine: Engine = typer.Option(Engine.embedded, "--engine",
                                  help="embedded: the resident worker; dojo: LeanDojo (native toolchain)."),
    project: Path | None = ProjectOption,
) -> None:
    """Trace tactic proofs: one JSON object per tactic as written (declaration, statement,
    tactic, goals before and after, premises with their defining module); paths relative to
    the project."""
    ctx = app_context(project)
    settings, term = ctx
    if engine is Engine.dojo:
        if files or submissions:
            raise InputError("--engine dojo traces the project's git checkout as a whole "
                             "(no FILE..., no --submissions)")
        _write(out, (step.model_dump_json() for step in dojo.steps(settings.project_root)), term,
               "the project (LeanDojo)")
        return
    paths = list(files or sorted(settings.formal_path.rglob("*.lean")))
    if not paths and not submissions:
        raise InputError("no Lean files to trace (give FILE... or run in a project with Formal/)")
    root = settings.project_root.resolve()
    sources: list[tuple[str, str]] = []
    for p in paths:  # read first: a file outside the project is refused there
        text = read_text_checked(p, max_bytes=settings.max_file_bytes, root=settings.project_root)
        sources.append((p.resolve().relative_to(root).as_posix(), text))
    if submissions:
        sources += _accepted_submissions(ctx)
    _write(out, _embedded(settings, sources, build=build), term, f"{len(sources)} files")


def _embedded(settings: Settings, sources: list[tuple[str, str]], *, build: bool) -> Iterator[str]:
    with Checker(settings, warm=False) as checker:
        if build and settings.formal_path.is_dir():
            build_project(settings, checker)
        premise = premises_from(checker.lookup())  # after the build: the project's constants as built
        for name, source in sources:
            for step in trace_source(checker, source, name, premise):
                yield step.model_dump_json()


def _write(out: Path | None, lines: Iterable[str], term: Terminal, what: str) -> None:
    steps = 0
    with out.open("w", encoding="utf-8") if out else nullcontext(None) as sink:
        for line in lines:
            if sink is None:
                term.raw(line)  # stdout, a line at a time
            else:
                sink.write(line + "\n")
                sink.flush()
            steps += 1
    term.info(f"traced {steps} tactics from {what}" + (f" into {out}" if out else ""))


COMMAND = trace
"""What ``sequent trace`` runs (:mod:`pipeline.commands.app` names it after this module)."""
