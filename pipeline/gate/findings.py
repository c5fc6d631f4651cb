"""Lean results as gate findings (pure): policy violations and Lean messages, with places."""

from __future__ import annotations

from pipeline.gate.models import Finding, Location, Severity
from pipeline.lean.models import CheckResult
from pipeline.lean.models import Severity as LeanSeverity

_LEAN_SEVERITY = {
    LeanSeverity.error: Severity.error,
    LeanSeverity.warning: Severity.warning,
}


def result_findings(result: CheckResult, file: str | None, *, line_offset: int = 0) -> list[Finding]:
    """Findings for one checked file.

    ``file`` is the repository-relative path the positions refer to (``None`` for a file the
    pipeline assembled, which has no place in the repository). A rejected result always
    yields at least one error finding, even when Lean said nothing (timeout, crash, ...).
    """

    def where(line: int | None, column: int | None) -> Location | None:
        if file is None:
            return None
        if line is None:
            return Location(file=file)
        return Location(file=file, line=line + line_offset, column=column)

    findings = [
        Finding(
            severity=Severity.error,
            message=f"{v.message} (policy: {v.rule})",
            location=where(v.line, v.column),
        )
        for v in result.violations
    ]
    for message in result.messages:
        severity = _LEAN_SEVERITY.get(message.severity)
        if severity is None:
            continue
        if severity is Severity.warning and result.accepted is False and message.kind == "hasSorry":
            severity = Severity.error
        pos = message.pos
        findings.append(
            Finding(
                severity=severity,
                message=message.text.strip(),
                location=where(pos.line if pos else None, pos.column if pos else None),
            )
        )
    if not result.accepted and not any(f.severity is Severity.error for f in findings):
        findings.append(
            Finding(severity=Severity.error, message=f"Lean {result.summary()}", location=where(None, None))
        )
    return findings


__all__ = ["result_findings"]
