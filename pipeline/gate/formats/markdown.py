"""GitHub-flavoured Markdown for a CI step summary or a pull-request comment."""

from __future__ import annotations

from pipeline.gate.formats.common import (
    SEVERITY_ICON,
    STATUS_ICON,
    case_detail,
    comparison,
    headline,
)
from pipeline.gate.models import GateReport, Status


def cell(text: str) -> str:
    """Text safe inside one table cell: pipes escaped, line breaks as ``<br>``."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r\n", "\n")
        .replace("\n", "<br>")
        .strip()
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown_summary(report: GateReport) -> str:
    icon = "✅" if report.ok else "❌"
    out = [f"## {icon} {headline(report)}", "", f"{comparison(report)} · {report.elapsed_s:.1f} s", ""]

    problems = [(c, f) for c, f in report.findings()]
    if problems:
        out += ["### Findings", ""]
        rows = [
            [SEVERITY_ICON[f.severity], str(f.location) if f.location else "", c.name, f.message]
            for c, f in problems
        ]
        out += _table(["", "Where", "Check", "Message"], rows) + [""]

    out += ["<details><summary>All checks</summary>", ""]
    rows = []
    for case in report.cases:
        detail = case_detail(case)
        rows.append([STATUS_ICON[case.status], case.suite, case.name, detail])
    out += _table(["", "Suite", "Check", "Details"], rows) + ["", "</details>", ""]

    if report.base is not None:
        out += ["### Changes against the base", ""]
        if report.claim_changes:
            rows = [
                [c.claim_id, c.change.value, ", ".join(c.fields), str(c.location)]
                for c in report.claim_changes
            ]
            out += _table(["Claim", "Change", "Fields", "File"], rows) + [""]
        else:
            out += ["No claims-registry changes.", ""]
        if report.declaration_changes:
            rows = [
                [
                    f"`{d.name}`",
                    d.kind,
                    d.change.value + (" (statement)" if d.statement_changed else ""),
                    str(d.location),
                ]
                for d in report.declaration_changes
            ]
            out += _table(["Declaration", "Kind", "Change", "Where"], rows) + [""]
        else:
            out += ["No Lean declaration changes.", ""]

    failed = report.count(Status.failed)
    if failed:
        out += [f"**{failed} check(s) failed.**", ""]
    return "\n".join(out)


__all__ = ["cell", "markdown_summary"]
