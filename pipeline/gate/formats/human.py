"""The human summary as plain data: lines of toned text and tables (:data:`Document`). The
terminal (``pipeline/commands/terminal.py``, the one owner of Rich output) draws it, in colour
on a terminal and as plain text for ``--output``; nothing here knows how."""

from __future__ import annotations

from typing import Literal, NamedTuple

from pipeline.gate.formats.common import (
    SEVERITY_ICON,
    STATUS_ICON,
    case_detail,
    comparison,
    headline,
)
from pipeline.gate.models import GateReport, Severity, Status

Tone = Literal["good", "bad", "alarm", "warn", "notice", "muted", "strong"]
"""What a piece of text says, not how it looks: the terminal picks the colour."""


class Span(NamedTuple):
    text: str
    tone: Tone | None = None


class Line(NamedTuple):
    spans: tuple[Span, ...]
    tone: Tone | None = None
    """The whole line's tone, under its spans' own."""


class Grid(NamedTuple):
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Span, ...], ...]


Document = tuple[Line | Grid, ...]

STATUS_TONE: dict[Status, Tone] = {
    Status.passed: "good",
    Status.failed: "alarm",
    Status.warned: "warn",
    Status.skipped: "muted",
}
SEVERITY_TONE: dict[Severity, Tone] = {Severity.error: "bad", Severity.warning: "warn",
                                       Severity.notice: "notice"}


def _line(text: str, tone: Tone | None = None) -> Line:
    return Line((Span(text),), tone)


def human_document(report: GateReport, *, verbose: bool = False) -> Document:
    """Findings first, then the checks that did not pass; the passing checks are counted, and
    listed only with ``verbose``."""
    parts: list[Line | Grid] = [_line(comparison(report), "muted")]

    findings = report.findings()
    if findings:
        parts.append(_line("Findings", "strong"))
        for case, finding in findings:
            where = f"{finding.location}: " if finding.location else ""
            parts.append(Line((Span(f"{SEVERITY_ICON[finding.severity]} {where}"),
                               Span(finding.message, SEVERITY_TONE[finding.severity]),
                               Span(f"  [{case.name}]", "muted")), "strong"))

    shown = [c for c in report.cases if verbose or c.status is not Status.passed]
    passed = sum(1 for c in report.cases if c.status is Status.passed)
    if shown:
        parts.append(Grid(
            "Checks" if verbose else "Checks that did not pass", ("", "Suite", "Check", "Details"),
            tuple((Span(STATUS_ICON[case.status]), Span(case.suite), Span(case.name),
                   Span(case_detail(case), STATUS_TONE[case.status])) for case in shown)))
    if not verbose and passed:
        parts.append(_line(f"{STATUS_ICON[Status.passed]} {passed} check(s) passed (--verbose lists them)",
                           STATUS_TONE[Status.passed]))

    if report.base is not None and (report.claim_changes or report.declaration_changes):
        rows: list[tuple[Span, ...]] = []
        for c in report.claim_changes:
            fields = f" ({', '.join(c.fields)})" if c.fields else ""
            rows.append((Span("claim"), Span(c.claim_id), Span(c.change.value + fields),
                         Span(str(c.location))))
        for d in report.declaration_changes:
            change = d.change.value + (" (statement)" if d.statement_changed else "")
            rows.append((Span(d.kind), Span(d.name), Span(change), Span(str(d.location))))
        parts.append(Grid("Changes against the base", ("What", "Name", "Change", "Where"), tuple(rows)))

    parts.append(_line(f"{headline(report)} in {report.elapsed_s:.1f} s",
                       STATUS_TONE[Status.passed if report.ok else Status.failed]))
    return tuple(parts)


__all__ = ["SEVERITY_TONE", "STATUS_TONE", "Document", "Grid", "Line", "Span", "Tone", "human_document"]
