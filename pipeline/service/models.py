"""Wire models of the service API (HTTP and MCP)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from pipeline.agents.models import Family
from pipeline.claims.iterate import TextMessage, relocate, render
from pipeline.claims.models import HypothesisSummary
from pipeline.errors import SequentError
from pipeline.evidence.models import HypothesisVerdict
from pipeline.lean.models import CheckRequest, CheckResult, Message, Reason, Verdict, Violation
from pipeline.lean.resident import ResidentStats
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

ClaimId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]
"""A claim id as a request names it (one not in the registry is a 404, not a 422)."""
Proof = Annotated[Text, Field(min_length=1, description="A tactic block starting with `by`, or a term.")]


class SubmissionIn(Frozen):
    """A proof of one claim's pinned statement."""

    claim_id: ClaimId
    proof: Proof
    agent: Text = Field(min_length=1, max_length=200, description="Who wrote the proof.")


SUBMISSION_ID_PATTERN = r"^[0-9a-f]{28}$"
"""A submission id: 12 hex digits of milliseconds, then 16 random hex digits (``ids.new_id``)."""


class ProofIn(Frozen):
    """A proof attempt of a claim's pinned statement (``check_proof``, ``minimal_hypotheses``)."""

    claim_id: ClaimId
    proof: Proof
    include_file: bool = Field(default=False, description="Also return the Lean file the server assembled.")


class AttemptsIn(Frozen):
    """Several candidate proofs of one claim (``multi_attempt``)."""

    claim_id: ClaimId
    proofs: list[Text] = Field(min_length=1, max_length=64)


class SnippetIn(Frozen):
    """An arbitrary Lean snippet, after a claim's imports and opens when one is named (``check_lean``)."""

    source: Text = Field(min_length=1)
    claim_id: ClaimId | None = None


class GoalStateIn(Frozen):
    """A line of a proof attempt whose goals to show (``goal_state``)."""

    claim_id: ClaimId
    proof: Proof
    line: int = Field(ge=1, description="Line of the proof, counted from 1 in the text sent.")


class GoalsAtIn(Frozen):
    """A position of a Lean file whose proof state to show (``sequent goals`` through a server)."""

    source: Text = Field(min_length=1)
    line: int = Field(ge=1, description="Line, counted from 1.")
    column: int = Field(ge=0, description="Column, counted from 0 (as Lean's messages).")


class ReviewIn(Frozen):
    """A cross-family faithfulness review of a claim's statement (``review``)."""

    claim_id: ClaimId
    drafter_family: Family
    statement: Text | None = None
    replay: bool = False


class IterationCheck(Frozen):
    """What an iteration check answers (nothing recorded): Lean's verdict on the attempt, its
    one-line summary, and every message placed in the text sent, rendered in ``diagnostics``
    (``proof:line:col: severity: text``, lines from 1, columns from 0) and structured in
    ``messages``."""

    verdict: str
    summary: str
    diagnostics: str
    messages: tuple[TextMessage, ...] = ()


class CheckedProof(IterationCheck):
    """A checked proof attempt, placed in the proof sent; ``result`` keeps Lean's own positions
    in the assembled ``file``."""

    claim_id: str
    file: str | None = None
    """The assembled Lean file (only when asked for with ``include_file``)."""
    result: CheckResult


class CheckedSnippet(IterationCheck):
    """A checked snippet, placed in the snippet sent (``proof:line:col`` counts in the snippet)."""

    result: CheckResult


class Attempt(IterationCheck):
    """One of several candidate proofs (``multi_attempt``), placed in that proof."""

    index: int


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
    """Lean's messages, at positions of the assembled file (``Submission.lean``)."""
    violations: tuple[Violation, ...] = ()
    diagnostics: str = ""
    """Every message placed in the proof sent (``proof:line:col``; lines from 1, columns from 0)."""
    proof_messages: tuple[TextMessage, ...] = ()
    """The same messages, structured, placed in the proof sent."""
    channel: str | None = None
    """How it came in: ``http``, ``mcp`` or ``cli``."""
    statement: str
    proof: str
    error: str | None = None
    backend: str | None = None
    lean_version: str | None = None
    elapsed_s: float | None = None
    created_at: datetime
    finished_at: datetime | None = None

    def checked(self, result: CheckResult, source: str) -> SubmissionView:
        """This view with what the check of ``source`` (the file assembled from ``proof``) found:
        the result's fields of the same names, and its messages placed in the proof sent."""
        try:
            placed = relocate(result, CheckRequest(source=source), self.proof, self.statement)
        except SequentError:  # a proof not found in its file (never for a file assemble_proof built)
            placed = ()
        found = {name: getattr(result, name) for name in _FROM_RESULT}
        return self.model_copy(update={
            **found, "proof_messages": placed,
            "diagnostics": render(placed) if placed else result.diagnostics(),
        })


_FROM_RESULT = tuple(name for name in SubmissionView.model_fields if name in CheckResult.model_fields)
"""What a submission's view shows of its check's result as it is: verdict, reasons, messages,
violations, backend, lean_version, elapsed_s."""


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
    """The proof state around one line of a proof attempt (``goal_state``)."""

    claim_id: str
    line: int
    """Line within the proof sent, from 1."""
    text: str
    """That line of the proof."""
    goals_before: tuple[str, ...]
    """Goals at the line's first character: what its tactic must work on."""
    goals_after: tuple[str, ...]
    """Goals at the line's end: what is left after its tactic (empty: closed)."""
    term_goal: str | None = None
    diagnostics: str = ""
    """Lean's messages for the whole attempt, placed in the proof (``proof:line:col: severity:
    text``; lines from 1, columns from 0)."""
    messages: tuple[TextMessage, ...] = ()


class HypothesisView(HypothesisSummary):
    """A hypothesis as the claim states it, with its latest verdict."""

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


class SubmissionPage(Frozen):
    """One page of submissions, newest first; ``next_cursor`` fetches the next (``None``: last)."""

    items: tuple[SubmissionView, ...]
    next_cursor: str | None = None


class ExportView(Frozen):
    submission_id: str
    branch: str
    commit: str
    path: str
    """The file the commit changes: the claim's module (``mode="module"``) or the added file."""
    mode: Literal["module", "file"] = "file"
    """``module``: the proof replaces the claim's declaration's proof in its module, so merging
    the branch passes the gate as it stands; ``file``: the accepted file is added alone."""


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
    phase: str = "not started"
    """What the engine is doing (poll it while it starts): ``starting the Lean engine``,
    ``building Formal/``, ``starting Lean workers for the claims' imports``, ``warming the
    search index``, ``ready``."""
    resident: ResidentStats | None = None
    """The resident Lean workers of the iteration path (``check_proof``, ``goal_state``...):
    alive, idle, started so far, checks run; ``None`` before the engine starts them. Once
    ``lean_ready``, a worker holding the claims' most shared import header is warm."""


class ErrorBody(Frozen):
    """Every 4xx answer carries this body."""

    error: str
    """Machine-readable code, e.g. ``not_found``, ``rate_limited``."""
    detail: str
    """A message fit to show a user."""
    retry_after_s: float | None = None


__all__ = [
    "SUBMISSION_ID_PATTERN",
    "Attempt",
    "AttemptsIn",
    "CheckIn",
    "CheckOut",
    "CheckedProof",
    "CheckedSnippet",
    "ClaimSummary",
    "ClaimView",
    "ErrorBody",
    "ExportView",
    "GoalStateIn",
    "Health",
    "HypothesisView",
    "IterationCheck",
    "LibraryStatus",
    "NewToken",
    "ProofGoals",
    "ProofIn",
    "ProofStatus",
    "ReviewIn",
    "SnippetIn",
    "SubmissionAccepted",
    "SubmissionIn",
    "SubmissionPage",
    "SubmissionState",
    "SubmissionView",
    "TokenInfo",
]
