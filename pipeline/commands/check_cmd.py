"""``sequent check FILE... [--json]``: exit 0 all accepted, 1 any rejected, 2 usage/environment."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import BuildOption, JsonOption, ProjectOption, app_context
from pipeline.commands.terminal import escape, styled
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker, all_or_raise, read_text_checked
from pipeline.lean.models import CheckRequest


def check(
    files: list[Path] = typer.Argument(..., help="Lean files to check."),
    json_out: JsonOption = False,
    build: bool = BuildOption,
    project: Path | None = ProjectOption,
) -> None:
    """Check Lean files under the trust policy."""
    settings, term = app_context(project)
    # Validate every input before starting Lean: bad input costs nothing.
    requests = [
        CheckRequest(source=read_text_checked(f, max_bytes=settings.max_file_bytes, root=settings.project_root),
                     file_name=f.name)
        for f in files
    ]
    # one-shot: a command checks a file or a few, and starts no Lean process that none leases
    with Checker(settings, expected_leases=0) as checker:
        if build and settings.formal_path.is_dir():
            report = build_project(settings, checker)
            if not report.ok:
                for m in report.failures():
                    term.warn(f"{m.path} does not build: "
                              f"{m.result.summary() if m.result else m.skipped_reason}")
        results = all_or_raise(checker.check_all(requests))
    if json_out:
        term.json([{"file": str(f), **r.model_dump(mode="json")} for f, r in zip(files, results, strict=True)])
    else:
        for f, r in zip(files, results, strict=True):
            verdict = styled(r.verdict.value, "good" if r.accepted else "bad")
            term.print(f"{verdict} {escape(str(f))}  ({r.summary()}{', cached' if r.cached else ''})")
            if not r.accepted and r.diagnostics():
                term.text(r.diagnostics().replace(r.file_name, str(f)))
    raise typer.Exit(0 if all(r.accepted for r in results) else 1)


COMMAND = check
"""What ``sequent check`` runs (:mod:`pipeline.commands.app` names it after this module)."""
