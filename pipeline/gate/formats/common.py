"""Small helpers shared by the report formats."""

from __future__ import annotations

from pipeline.gate.models import GateCase, GateReport, Revision, Severity, Status

STATUS_ICON: dict[Status, str] = {
    Status.passed: "✅",
    Status.failed: "❌",
    Status.warned: "⚠️",
    Status.skipped: "⏭️",
}
SEVERITY_ICON: dict[Severity, str] = {
    Severity.error: "❌",
    Severity.warning: "⚠️",
    Severity.notice: "ℹ️",
}


def case_detail(case: GateCase) -> str:
    """One line about a case: why it was skipped, or its first finding's first line."""
    if not case.findings:
        return case.skipped or ""
    lines = [ln for ln in case.findings[0].message.splitlines() if ln.strip()]
    detail = lines[0] if lines else ""
    if len(case.findings) > 1:
        detail += f" (+{len(case.findings) - 1} more)"
    return detail


def revision_text(revision: Revision) -> str:
    sha = f" ({revision.sha[:12]})" if revision.sha else ""
    if revision.working_tree:
        return f"working tree{sha}"
    return f"{revision.label}{sha}"


def headline(report: GateReport) -> str:
    """``passed``/``failed`` with the counts, one line."""
    counts = ", ".join(
        f"{report.count(status)} {status.value}"
        for status in (Status.passed, Status.failed, Status.warned, Status.skipped)
        if report.count(status)
    )
    verdict = "passed" if report.ok else "failed"
    return f"Sequent gate {verdict}: {len(report.cases)} checks ({counts or 'none'})"


def comparison(report: GateReport) -> str:
    head = revision_text(report.head)
    if report.base is None:
        return f"{head}; no base given, so no change checks"
    return f"{head} against {revision_text(report.base)}"


__all__ = ["SEVERITY_ICON", "STATUS_ICON", "case_detail", "comparison", "headline", "revision_text"]
