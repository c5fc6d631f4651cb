"""GitHub Actions workflow commands (``::error file=...,line=...::message``)."""

from __future__ import annotations

from pipeline.gate.formats.common import headline
from pipeline.gate.models import Finding, GateCase, GateReport


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(case: GateCase, finding: Finding) -> str:
    props: list[str] = []
    if finding.location is not None:
        props.append(f"file={escape_property(finding.location.file)}")
        if finding.location.line is not None:
            props.append(f"line={finding.location.line}")
            if finding.location.end_line is not None:
                props.append(f"endLine={finding.location.end_line}")
            if finding.location.column is not None:
                props.append(f"col={finding.location.column + 1}")  # GitHub counts columns from 1
    props.append(f"title={escape_property('sequent gate: ' + case.name)}")
    return f"::{finding.severity.value} {','.join(props)}::{escape_data(finding.message)}"


def github_annotations(report: GateReport) -> str:
    """One workflow command per finding, then the headline as a plain line."""
    lines = [annotation(case, finding) for case, finding in report.findings()]
    lines.append(headline(report))
    return "\n".join(lines) + "\n"


__all__ = ["annotation", "escape_data", "escape_property", "github_annotations"]
