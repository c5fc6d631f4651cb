"""Wire models of the drafting agents: prompts, completions, attempts, reviews, outcomes.

Everything that crosses a boundary (provider -> loop -> store -> report/service) is one of
these frozen pydantic models.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from pipeline.lean.models import CheckResult
from pipeline.models import Frozen

Family = Literal["anthropic", "openai"]
"""A model family. The reviewer always comes from the other family than the drafter."""
ProviderName = Literal["anthropic", "openai", "replay"]
PromptKind = Literal["argument", "statement", "proof", "repair", "review"]
"""What a prompt asks for: the informal argument, a Lean statement plus proof (claims with
no pinned statement), a proof, a repaired proof, or a faithfulness review."""
AttemptOutcome = Literal["accepted", "rejected", "invalid", "repeated", "informal"]
"""``rejected``: Lean said no. ``invalid``: the pipeline refused to assemble the output (e.g.
it brought its own statement). ``repeated``: same text as an earlier failing attempt (not
re-checked). ``informal``: the argument step, which Lean does not check."""
DraftStatus = Literal["accepted", "exhausted", "repeated"]
ReviewVerdict = Literal["faithful", "unfaithful", "uncertain"]


def other_family(family: Family) -> Family:
    """The family a reviewer must come from."""
    return "openai" if family == "anthropic" else "anthropic"


class ToolSpec(Frozen):
    """A tool offered to the model: its name, what it does, and the JSON schema of its input
    (sent as Anthropic's ``tools[].input_schema`` or OpenAI's ``tools[].function.parameters``)."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ToolCall(Frozen):
    """A call the model asked for (Anthropic ``tool_use`` block, OpenAI ``tool_calls`` entry)."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    malformed: str | None = None
    """The raw arguments when they were not a JSON object (the call is answered with an error)."""


class ToolResult(Frozen):
    """What the pipeline answered to one :class:`ToolCall`."""

    call_id: str
    content: str
    is_error: bool = False


class ToolTurn(Frozen):
    """One round of tool use inside a request: the model's reply that asked for tools (its text
    and calls), then the results sent back. Providers render it in their native format."""

    text: str = ""
    calls: tuple[ToolCall, ...]
    results: tuple[ToolResult, ...]


class ToolExchange(Frozen):
    """One tool call and its result, as recorded with the attempt that made it."""

    round: int
    """The tool round of the attempt, from 1."""
    call: ToolCall
    result: ToolResult


class Prompt(Frozen):
    """One stateless request to a model (system text + one user turn)."""

    kind: PromptKind
    system: str
    user: str
    response_schema: dict[str, Any] | None = None
    """JSON schema the reply must follow (structured output), or ``None`` for free text."""
    schema_name: str | None = None
    tools: tuple[ToolSpec, ...] = ()
    """Tools the model may call (native tool calling); empty: none offered."""
    tool_choice: Literal["auto", "none"] = "auto"
    """``none``: the tools stay declared (the conversation holds tool turns) but the model must
    answer in text (the last round of a bounded tool loop)."""
    turns: tuple[ToolTurn, ...] = ()
    """The tool rounds so far of this request (see :func:`pipeline.agents.tools.complete_with_tools`)."""

    @property
    def digest(self) -> str:
        """SHA-256 of what the model is asked (kind, system, user, schema, names of the tools
        offered); the tool rounds of one request share the digest of its first round."""
        h = hashlib.sha256()
        for part in (self.kind, self.system, self.user, self.schema_name or ""):
            h.update(part.encode())
            h.update(b"\0")
        if self.tools:
            h.update(("tools:" + ",".join(t.name for t in self.tools)).encode())
        return h.hexdigest()


class Usage(Frozen):
    """What model calls consumed: the accounting of a reply, a drafting step, a review, a trial."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    """``None`` when a model is not in the price table."""

    def usage(self) -> dict[str, Any]:
        """This accounting as the keyword arguments of another model built on :class:`Usage`
        (a review's or a drafting step's, from the model's reply): every field of Usage, once."""
        return {name: getattr(self, name) for name in Usage.model_fields}


class Completion(Usage):
    """A model's reply with its accounting."""

    text: str
    provider: ProviderName
    family: Family
    model: str
    elapsed_s: float = 0.0
    retries: int = 0
    """How many times the request was retried (429, 5xx, timeouts) before it succeeded."""
    truncated: bool = False
    """The model stopped at the output-token limit."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Tools the model asked to call before it answers (empty: ``text`` is its answer)."""


class Attempt(Usage):
    """One step of a drafting session, as recorded in the database."""

    session_id: str
    claim_id: str
    index: int
    """0 for the informal argument, then 1..K for Lean attempts."""
    kind: PromptKind
    provider: ProviderName
    family: Family
    model: str
    prompt_hash: str
    output: str
    """The model's whole reply."""
    proof: str | None = None
    """The proof extracted from the reply (Lean attempts only)."""
    statement: str | None = None
    """The Lean statement the proof was checked against (drafted or pinned)."""
    source: str | None = None
    """The Lean file the pipeline assembled and checked."""
    diff: str = ""
    """Unified diff of ``proof`` against the previous Lean attempt's proof."""
    outcome: AttemptOutcome
    check: CheckResult | None = None
    error: str | None = None
    """Why the pipeline refused the output (``invalid``) or what it repeated (``repeated``)."""
    model_s: float = 0.0
    check_s: float = 0.0
    retries: int = 0
    tools: tuple[ToolExchange, ...] = ()
    """The tool calls the model made for this step and what they returned, in order."""
    created_at: datetime


class Discrepancy(Frozen):
    """One concrete way the Lean statement differs from the informal claim."""

    element: str
    """The part of the Lean statement or hypothesis concerned (e.g. a binder name)."""
    problem: str
    """What the informal statement says and how the Lean text differs."""


class ReviewJudgement(Frozen):
    """The structured reply a reviewer model gives."""

    verdict: ReviewVerdict
    discrepancies: list[Discrepancy]
    summary: str


class ClaimReview(Usage):
    """A reviewer's judgement, stored with the claim."""

    claim_id: str
    session_id: str | None
    judgement: ReviewJudgement
    statement: str
    """The Lean statement that was reviewed."""
    reviewer_provider: ProviderName
    reviewer_family: Family
    reviewer_model: str
    drafter_family: Family
    created_at: datetime

    @property
    def flagged(self) -> bool:
        """A human should look at the claim: not judged faithful, or any discrepancy."""
        return self.judgement.verdict != "faithful" or bool(self.judgement.discrepancies)


class AcceptedProof(Frozen):
    """A proof Lean accepted, as saved for the claims registry."""

    claim_id: str
    session_id: str
    path: Path
    """``<state>/proofs/<claim_id>.lean``: the assembled file."""
    source: str
    proof: str
    statement: str
    statement_pinned: bool
    """``False`` when the statement was drafted by the model (needs a human to pin it)."""
    provider: ProviderName
    model: str
    cache_key: str
    created_at: datetime


class DraftOutcome(Frozen):
    """The result of :func:`pipeline.agents.loop.draft`."""

    session_id: str
    claim_id: str
    status: DraftStatus
    provider: ProviderName
    family: Family
    model: str
    rounds: int
    """The most Lean attempts allowed (``K``)."""
    argument: str
    attempts: tuple[Attempt, ...]
    proof: AcceptedProof | None = None
    review: ClaimReview | None = None
    review_error: str | None = None
    """Why no review was obtained (e.g. the other family's key is not set)."""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_models: tuple[str, ...] = Field(default=())
    """Models used that have no entry in the price table (their cost is not counted)."""
    elapsed_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    @property
    def lean_attempts(self) -> tuple[Attempt, ...]:
        return tuple(a for a in self.attempts if a.index > 0)


__all__ = [
    "AcceptedProof",
    "Attempt",
    "AttemptOutcome",
    "ClaimReview",
    "Completion",
    "Discrepancy",
    "DraftOutcome",
    "DraftStatus",
    "Family",
    "Prompt",
    "PromptKind",
    "ProviderName",
    "ReviewJudgement",
    "ReviewVerdict",
    "ToolCall",
    "ToolExchange",
    "ToolResult",
    "ToolSpec",
    "ToolTurn",
    "Usage",
    "other_family",
]
