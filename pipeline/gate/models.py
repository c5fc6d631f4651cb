"""Wire models of the gate: what it found, per check, and what changed against the base.

A :class:`GateReport` is a plain value; every output format (human, Markdown, GitHub
annotations, JUnit) is a pure function of it (:mod:`pipeline.gate.formats`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pipeline.lean.models import Location
from pipeline.models import Frozen

NewTheoremPolicy = Literal["warn", "error"]


class Severity(StrEnum):
    error = "error"
    """Fails the gate."""
    warning = "warning"
    """Shown (and annotated) but does not fail the gate."""
    notice = "notice"
    """Information only."""


class Status(StrEnum):
    passed = "passed"
    failed = "failed"
    warned = "warned"
    skipped = "skipped"


class Finding(Frozen):
    severity: Severity
    message: str
    location: Location | None = None


class GateCase(Frozen):
    """One check of the gate; one JUnit test case."""

    suite: str
    """``build``, ``claims``, ``evidence`` or ``changes``."""
    name: str
    """Human name, unique within its suite, e.g. ``debate_tree: witness``."""
    check: str
    """Machine-readable check name, e.g. ``build``, ``statement``, ``sorry``, ``trust``,
    ``witness``, ``registry``, ``pinned_statement``, ``statement_review``, ``new_theorem``."""
    claim_id: str | None = None
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    """Why the check could not run (a prerequisite failed); ``None`` when it ran."""
    elapsed_s: float = 0.0

    @property
    def status(self) -> Status:
        severities = {f.severity for f in self.findings}
        if Severity.error in severities:
            return Status.failed
        if self.skipped is not None:
            return Status.skipped
        if Severity.warning in severities:
            return Status.warned
        return Status.passed


class ChangeKind(StrEnum):
    added = "added"
    changed = "changed"
    removed = "removed"


class DeclarationChange(Frozen):
    """A Lean declaration under ``Formal/`` that differs between base and head."""

    name: str
    kind: str
    change: ChangeKind
    location: Location
    """Head location; base location for a removed declaration."""
    statement_changed: bool = False
    """The text before ``:=`` (the statement/type) differs, not only the proof."""
    moved_from: str | None = None
    """The base file, when the declaration moved to another file."""


class ClaimChange(Frozen):
    """A claims-registry entry that differs between base and head."""

    claim_id: str
    change: ChangeKind
    location: Location
    fields: tuple[str, ...] = ()
    """Changed fields (``lean.statement``, ``title``, ...) of a changed claim."""

    @property
    def statement_changed(self) -> bool:
        return "lean.statement" in self.fields


class Revision(Frozen):
    label: str
    """The ref as given (``origin/main``), or ``working tree``."""
    sha: str | None = None
    """The commit; for the working tree, the commit checked out under it (if any)."""
    working_tree: bool = False


class GateReport(Frozen):
    project: str
    base: Revision | None
    head: Revision
    cases: tuple[GateCase, ...]
    declaration_changes: tuple[DeclarationChange, ...] = ()
    claim_changes: tuple[ClaimChange, ...] = ()
    elapsed_s: float = 0.0

    def findings(self, severity: Severity | None = None) -> list[tuple[GateCase, Finding]]:
        return [
            (case, f)
            for case in self.cases
            for f in case.findings
            if severity is None or f.severity is severity
        ]

    def count(self, status: Status) -> int:
        return sum(1 for case in self.cases if case.status is status)

    @property
    def ok(self) -> bool:
        return all(case.status is not Status.failed for case in self.cases)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


__all__ = [
    "ChangeKind",
    "ClaimChange",
    "DeclarationChange",
    "Finding",
    "GateCase",
    "GateReport",
    "Location",
    "NewTheoremPolicy",
    "Revision",
    "Severity",
    "Status",
]
