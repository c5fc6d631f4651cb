"""The human summary: Rich renderables (printed through the Terminal) or plain text."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from pipeline.gate.formats.common import (
    SEVERITY_ICON,
    STATUS_ICON,
    case_detail,
    comparison,
    headline,
)
from pipeline.gate.models import GateReport, Severity, Status

_STYLE = {
    Status.passed: "green",
    Status.failed: "bold red",
    Status.warned: "yellow",
    Status.skipped: "dim",
}
_SEVERITY_STYLE = {Severity.error: "red", Severity.warning: "yellow", Severity.notice: "cyan"}


def human_renderable(report: GateReport, *, verbose: bool = False) -> RenderableType:
    """Findings first, then the checks that did not pass; the passing checks are counted, and
    listed only with ``verbose``."""
    parts: list[RenderableType] = [Text(comparison(report), style="dim")]

    findings = report.findings()
    if findings:
        parts.append(Text("Findings", style="bold"))
        for case, finding in findings:
            where = f"{finding.location}: " if finding.location else ""
            line = Text(f"{SEVERITY_ICON[finding.severity]} {where}", style="bold")
            line.append(finding.message, style=_SEVERITY_STYLE[finding.severity])
            line.append(f"  [{case.name}]", style="dim")
            parts.append(line)

    shown = [c for c in report.cases if verbose or c.status is not Status.passed]
    passed = sum(1 for c in report.cases if c.status is Status.passed)
    if shown:
        title = "Checks" if verbose else "Checks that did not pass"
        checks = Table(title=title, title_justify="left", show_lines=False)
        for col in ("", "Suite", "Check", "Details"):
            checks.add_column(col, overflow="fold")
        for case in shown:
            detail = case_detail(case)
            checks.add_row(
                STATUS_ICON[case.status], case.suite, case.name, Text(detail, style=_STYLE[case.status])
            )
        parts.append(checks)
    if not verbose and passed:
        parts.append(Text(f"{STATUS_ICON[Status.passed]} {passed} check(s) passed (--verbose lists them)",
                          style=_STYLE[Status.passed]))

    if report.base is not None and (report.claim_changes or report.declaration_changes):
        changes = Table(title="Changes against the base", title_justify="left")
        for col in ("What", "Name", "Change", "Where"):
            changes.add_column(col, overflow="fold")
        for c in report.claim_changes:
            fields = f" ({', '.join(c.fields)})" if c.fields else ""
            changes.add_row("claim", c.claim_id, c.change.value + fields, str(c.location))
        for d in report.declaration_changes:
            change = d.change.value + (" (statement)" if d.statement_changed else "")
            changes.add_row(d.kind, d.name, change, str(d.location))
        parts.append(changes)

    parts.append(Text(f"{headline(report)} in {report.elapsed_s:.1f} s", style=_STYLE[
        Status.passed if report.ok else Status.failed
    ]))
    return Group(*parts)


def human_text(report: GateReport, width: int = 120, *, verbose: bool = False) -> str:
    """The human summary as plain text (for ``--output``)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, soft_wrap=False)
    console.print(human_renderable(report, verbose=verbose))
    return buffer.getvalue()


__all__ = ["human_renderable", "human_text"]
