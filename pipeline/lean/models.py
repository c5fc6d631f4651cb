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
    """A point of a source, in the pipeline's one convention (:class:`Span`)."""

    line: int
    """1-based line."""
    column: int
    """0-based column, as Lean reports it."""


class Span(Frozen):
    """Where a piece of text stands in a source: the pipeline's one convention for positions,
    everywhere a user or an agent sees one. Lines count from 1, columns from 0 in code points
    (as Lean reports them); the end is just past the last character. A field is ``None`` where
    it is not known (a message without a position, a declaration without a recorded range)."""

    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


class Location(Span):
    """A :class:`Span` in a named file: a declaration's source, a gate finding's place. Output
    with another convention converts at its own boundary (GitHub's annotations add 1 to a
    column)."""

    file: str
    """Path relative to the project (or repository) root, with ``/`` separators."""

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column is not None else "")


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


UNFINISHED: frozenset[Reason] = frozenset({Reason.timeout, Reason.out_of_memory, Reason.crash})
"""Reasons that say the run did not finish: no verdict on the proof (never cached; a claim
whose check did not finish is not reported as wrong)."""


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


def user_name(name: str) -> str:
    """``_private.M.0.x.y`` -> ``x.y``: a private constant's name as it was written."""
    if name.startswith("_private."):
        parts = name.split(".")
        if "0" in parts:
            return ".".join(parts[parts.index("0") + 1:])
    return name


class DeclarationFact(Frozen):
    """One constant a checked file added, as the compiled environment holds it."""

    name: str
    kind: str
    """``theorem``, ``definition``, ``axiom``, ``inductive``, … (Lean's ``ConstantInfo`` kind)."""
    type_digest: str
    """Structural digest of its type as an ``Expr`` (binder names and metadata ignored)."""
    axioms: tuple[str, ...] = ()
    """Every axiom it reaches, transitively."""


class AuditIssue(Frozen):
    """Why the compiled environment refused a file."""

    rule: str
    """``declares_axiom``, ``axiom``, ``unknown_constant``, ``added``, ``cites_target``, ``unreadable``."""
    declaration: str
    message: str


class EnvironmentAudit(Frozen):
    """What the compiled environment (the ``.olean`` parts Lean wrote) says about a file."""

    lean_githash: str
    declarations: tuple[DeclarationFact, ...] = ()
    issues: tuple[AuditIssue, ...] = ()
    replayed: int | None = None
    """How many constants a fresh kernel re-checked from the compiled files
    (pipeline/lean/replay.py); ``None`` when the file was not replayed."""

    def declaration(self, name: str) -> DeclarationFact | None:
        """The declaration ``name`` (a private one found by the name it was written with)."""
        return next((d for d in self.declarations if user_name(d.name) == name or d.name == name), None)


class CheckRequest(Frozen):
    """A single Lean file to check."""

    source: str
    imports: tuple[str, ...] = ()
    """Project modules the source needs; ``import`` lines are added for any not present."""
    file_name: str = "Check.lean"
    policy: Policy = Policy()
    timeout_s: float | None = None
    memory_mb: int | None = None
    expected_declarations: tuple[str, ...] | None = None
    """When set, the compiled file may add only these declarations (and the auxiliary
    constants Lean generates for them); anything else rejects it (a submission)."""
    uncitable: tuple[str, ...] = ()
    """Constants the file's declarations may not reach, directly or through any project
    constant's proof (a submission: the claim's own declaration). Decided on the compiled
    environment (``pipeline.lean.olean.reach``); the iteration path compiles an attempt that
    Lean accepted to decide it."""


class CheckResult(Frozen):
    """The outcome of checking one file."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    messages: tuple[Message, ...] = ()
    violations: tuple[Violation, ...] = ()
    axioms: tuple[str, ...] | None = None
    """Axioms the file's declarations reach, read from the compiled environment (``None``
    when Lean never compiled the file, e.g. a policy violation)."""
    environment: EnvironmentAudit | None = None
    """The compiled-environment audit; an accepted result always has one."""
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
        """All policy violations and Lean's messages (errors, warnings and information, e.g. the
        output of ``#check`` or ``exact?``) as ``file:line:col: text`` lines (line from 1,
        column from 0)."""
        lines = [
            f"{self.file_name}:{v.line}:{v.column}: policy ({v.rule}): {v.message}"
            for v in self.violations
        ]
        lines += [
            f"{self.file_name}:{m.location()}: {m.severity.value}: {m.text}"
            for m in self.messages
        ]
        return "\n".join(lines)


__all__ = [
    "DEFAULT_AXIOMS",
    "UNFINISHED",
    "AuditIssue",
    "CheckRequest",
    "CheckResult",
    "DeclarationFact",
    "EnvironmentAudit",
    "Location",
    "Message",
    "Policy",
    "Position",
    "Reason",
    "Severity",
    "Span",
    "Verdict",
    "Violation",
    "user_name",
]
