"""Wire models of the Lean engine: what goes into a check and what comes out.

A proof that Lean rejects is an ordinary :class:`CheckResult` (``verdict == "rejected"``);
a broken transport is an exception (:mod:`pipeline.errors`).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_serializer

from pipeline.models import Frozen

DEFAULT_AXIOMS: frozenset[str] = frozenset({"propext", "Classical.choice", "Quot.sound"})


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    information = "information"


class Position(Frozen):
    line: int
    """1-based line."""
    column: int
    """0-based column, as Lean reports it."""


class Message(Frozen):
    """One message Lean printed with ``--json``."""

    severity: Severity
    text: str = Field(alias="data")
    """The message body."""
    pos: Position | None = None
    end_pos: Position | None = Field(default=None, alias="endPos")
    kind: str | None = None
    """Lean's tag, e.g. ``hasSorry``; ``None`` when anonymous."""
    file_name: str | None = Field(default=None, alias="fileName")

    def location(self) -> str:
        return f"{self.pos.line}:{self.pos.column}" if self.pos else "?"


class Reason(StrEnum):
    """Why a check was rejected. A rejected result has at least one."""

    error = "error"
    sorry = "sorry"
    forbidden = "forbidden"
    axiom = "axiom"
    timeout = "timeout"
    out_of_memory = "out_of_memory"
    crash = "crash"


class Verdict(StrEnum):
    accepted = "accepted"
    rejected = "rejected"


class Violation(Frozen):
    """A trust-policy violation found in the source before Lean runs."""

    rule: str
    """Machine-readable rule name, e.g. ``sorry``, ``axiom``, ``native_decide``."""
    token: str
    line: int
    column: int
    message: str


class Policy(Frozen):
    """What a check may use. Every check runs under one."""

    allowed_axioms: frozenset[str] = DEFAULT_AXIOMS
    """Axioms a proof may depend on (audited natively with ``#print axioms``; on the
    embedded backend, in-file ``axiom`` declarations are rejected by the token scan)."""
    trusted_tooling: bool = False
    """Allow metaprogramming commands (``#eval``, ``macro``, ``elab``...). Only for files
    configured as trusted tooling, never for submissions."""
    allow_sorry: bool = False

    @field_serializer("allowed_axioms")
    def _sorted_axioms(self, value: frozenset[str]) -> list[str]:
        """Sorted, so the policy's JSON (part of every cache key) is the same in every process."""
        return sorted(value)


class CheckRequest(Frozen):
    """A single Lean file to check."""

    source: str
    imports: tuple[str, ...] = ()
    """Project modules the source needs; ``import`` lines are added for any not present."""
    file_name: str = "Check.lean"
    policy: Policy = Policy()
    timeout_s: float | None = None
    memory_mb: int | None = None


class CheckResult(Frozen):
    """The outcome of checking one file."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    messages: tuple[Message, ...] = ()
    violations: tuple[Violation, ...] = ()
    axioms: tuple[str, ...] | None = None
    """Axioms the declarations depend on, where the backend can audit them (native)."""
    backend: str
    lean_version: str
    elapsed_s: float
    cache_key: str
    cached: bool = False
    file_name: str = "Check.lean"

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.accepted

    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.severity is Severity.error)

    def summary(self) -> str:
        """One line for humans and for feeding back to a drafting model."""
        if self.accepted:
            return f"accepted ({self.backend}, {self.elapsed_s:.1f}s)"
        return "rejected: " + ", ".join(r.value for r in self.reasons)

    def diagnostics(self) -> str:
        """All policy violations and Lean errors/warnings as ``file:line:col: text`` lines."""
        lines = [
            f"{self.file_name}:{v.line}:{v.column}: policy ({v.rule}): {v.message}"
            for v in self.violations
        ]
        lines += [
            f"{self.file_name}:{m.location()}: {m.severity.value}: {m.text}"
            for m in self.messages
            if m.severity is not Severity.information
        ]
        return "\n".join(lines)


__all__ = [
    "DEFAULT_AXIOMS",
    "CheckRequest",
    "CheckResult",
    "Message",
    "Policy",
    "Position",
    "Reason",
    "Severity",
    "Verdict",
    "Violation",
]
