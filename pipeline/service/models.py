"""Wire models of the service API (HTTP and MCP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from pipeline.evidence.models import HypothesisVerdict
from pipeline.lean.models import CheckResult, Message, Reason, Verdict, Violation
from pipeline.models import Frozen

SubmissionState = Literal["queued", "running", "accepted", "rejected", "error"]


def clean_text(value: str) -> str:
    """Reject what no Lean file or database column should hold: NUL and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode (no lone surrogates)") from exc
    return value


Text = Annotated[str, AfterValidator(clean_text)]
ModuleName = Annotated[
    str,
    StringConstraints(
        max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_']*(\.[A-Za-z_][A-Za-z0-9_']*)*$"
    ),
]


class SubmissionIn(Frozen):
    """A proof of one claim's pinned statement."""

    claim_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    proof: Text = Field(min_length=1, description="A tactic block starting with `by`, or a term.")
    agent: Text = Field(min_length=1, max_length=200, description="Who wrote the proof.")


class SubmissionAccepted(Frozen):
    """Answer to a submission: it is persisted and queued."""

    id: str
    status: SubmissionState
    claim_id: str
    url: str


class SubmissionView(Frozen):
    id: str
    claim_id: str
    agent: str
    status: SubmissionState
    verdict: Verdict | None = None
    reasons: tuple[Reason, ...] = ()
    messages: tuple[Message, ...] = ()
    violations: tuple[Violation, ...] = ()
    diagnostics: str = ""
    statement: str
    proof: str
    error: str | None = None
    backend: str | None = None
    lean_version: str | None = None
    elapsed_s: float | None = None
    created_at: datetime
    finished_at: datetime | None = None


class CheckIn(Frozen):
    """An ad-hoc check of a draft Lean file. It never counts as a proof."""

    source: Text = Field(min_length=1)
    imports: tuple[ModuleName, ...] = Field(default=(), max_length=64)
    file_name: str = Field(default="Draft.lean", max_length=200, pattern=r"^[A-Za-z0-9_.\-]+\.lean$")


class CheckOut(Frozen):
    id: str
    result: CheckResult
    diagnostics: str


class ProofGoals(Frozen):
    """The proof state around one line of a proof attempt (MCP ``goal_state``)."""

    claim_id: str
    line: int
    """1-based line within the proof."""
    text: str
    """That line of the assembled file."""
    goals_before: tuple[str, ...]
    """Goals at the line's first character: what its tactic must work on."""
    goals_after: tuple[str, ...]
    """Goals at the line's end: what is left after its tactic (empty: closed)."""
    term_goal: str | None = None
    diagnostics: str = ""
    """Lean's messages for the whole attempt (``line:col: severity: text``)."""


class HypothesisView(Frozen):
    binder: str
    meaning: str
    check: str | None = None
    assumed: bool = False
    justification: str | None = None
    latest: HypothesisVerdict | None = None
    """The latest empirical verdict on this binder (``None``: never tested)."""


class ProofStatus(Frozen):
    accepted_submissions: int
    latest_accepted: str | None = None
    """Id of the newest accepted submission, if any."""
    pending_submissions: int


class LibraryStatus(Frozen):
    """The claim's status in the project's own Lean library (``pipeline.claims.proof_status``),
    as evaluated when the server started."""

    label: str
    stated: bool
    proved: bool
    fully_proved: bool
    issues: tuple[str, ...] = ()
    evaluated_at: datetime


class ClaimSummary(Frozen):
    id: str
    title: str
    module: str
    declaration: str
    proof: ProofStatus
    library: LibraryStatus | None = None
    """``None`` until the server has evaluated the library (or when that is switched off)."""


class ClaimView(Frozen):
    id: str
    title: str
    statement: str
    """The informal statement (Markdown)."""
    lean_module: str
    lean_declaration: str
    lean_statement: str
    """The pinned Lean statement every submission must prove."""
    depends_on: tuple[str, ...] = ()
    proof: ProofStatus
    library: LibraryStatus | None = None
    hypotheses: tuple[HypothesisView, ...] = ()


class ExportView(Frozen):
    submission_id: str
    branch: str
    commit: str
    path: str


class TokenInfo(Frozen):
    id: str
    name: str
    rate_per_minute: int
    max_concurrent: int
    created_at: datetime
    last_used_at: datetime | None = None
    revoked: bool = False


class NewToken(Frozen):
    """A freshly created token. ``secret`` is shown once and never stored."""

    token: TokenInfo
    secret: str


class Health(Frozen):
    status: Literal["ok"]
    version: str
    database: str
    queue: dict[str, int]
    workers: int
    lean_backend: str | None = None
    lean_ready: bool = False
    """The engine is up and the project's modules are built; queued checks are running."""
    lean_error: str | None = None


class ErrorBody(Frozen):
    """Every 4xx answer carries this body."""

    error: str
    """Machine-readable code, e.g. ``not_found``, ``rate_limited``."""
    detail: str
    """A message fit to show a user."""
    retry_after_s: float | None = None


def submission_view_from(
    *,
    id: str,
    claim_id: str,
    agent: str,
    status: str,
    statement: str,
    proof: str,
    result: CheckResult | None,
    error: str | None,
    created_at: datetime,
    finished_at: datetime | None,
) -> SubmissionView:
    return SubmissionView(
        id=id,
        claim_id=claim_id,
        agent=agent,
        status=status,
        verdict=result.verdict if result else None,
        reasons=result.reasons if result else (),
        messages=result.messages if result else (),
        violations=result.violations if result else (),
        diagnostics=result.diagnostics() if result else "",
        statement=statement,
        proof=proof,
        error=error,
        backend=result.backend if result else None,
        lean_version=result.lean_version if result else None,
        elapsed_s=result.elapsed_s if result else None,
        created_at=created_at,
        finished_at=finished_at,
    )


__all__ = [
    "CheckIn",
    "CheckOut",
    "ClaimSummary",
    "ClaimView",
    "ErrorBody",
    "ExportView",
    "Health",
    "HypothesisView",
    "LibraryStatus",
    "NewToken",
    "ProofGoals",
    "ProofStatus",
    "SubmissionAccepted",
    "SubmissionIn",
    "SubmissionState",
    "SubmissionView",
    "TokenInfo",
    "submission_view_from",
]
