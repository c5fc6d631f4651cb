"""The drafting loop: argument -> Lean proof -> check -> feedback -> repair, then review.

1. The drafter writes the informal argument for the claim.
2. It writes the Lean proof (and the statement too, if none is pinned). With a pinned
   statement the model writes only the proof; the pipeline assembles the file with
   :func:`pipeline.claims.assemble.assemble_proof`, so a draft can never bring its own
   statement.
3. The engine checks the file (:meth:`Checker.check`).
4. Lean's verdict, errors with positions and unsolved goals go back to the model.
5. It repairs, for at most ``rounds`` Lean attempts in all (the first draft counts).
   The loop stops early on success, or when an attempt repeats an earlier failing one
   (same text once comments and white space are removed; it is not re-checked).

With a :class:`~pipeline.agents.tools.Toolbox`, every request (argument and Lean attempts) may
call its read-only tools (``search``, ``declaration``) for a bounded number of rounds; the calls
and their results are recorded with the step.

Every step is an :class:`Attempt` in the database. An accepted proof is written to
``<state>/proofs/<claim_id>.lean`` and recorded; then a model of the other family reviews
the statement's faithfulness (stored with the claim; a discrepancy flags, never blocks).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pipeline.agents import store
from pipeline.agents.config import DEFAULT_ROUNDS, AgentConfig
from pipeline.agents.models import (
    AcceptedProof,
    Attempt,
    AttemptOutcome,
    ClaimReview,
    Completion,
    DraftOutcome,
    DraftStatus,
    Prompt,
    ToolExchange,
)
from pipeline.agents.parse import extract_lean, normalized, unified_diff, without_proof_of
from pipeline.agents.prompts import (
    DEFAULT_PROMPTS,
    PromptSet,
    argument_prompt,
    proof_prompt,
    repair_prompt,
)
from pipeline.agents.providers import make_provider, reviewer_for
from pipeline.agents.providers.base import Provider
from pipeline.agents.review import review_claim
from pipeline.agents.tools import Toolbox, complete_with_tools
from pipeline.claims.assemble import assemble_proof
from pipeline.claims.models import Claim
from pipeline.errors import ClaimError, InputError, SequentError
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckResult
from pipeline.settings import Settings
from pipeline.store.db import Database
from pipeline.store.times import utcnow

SUBMISSION_NAME = "sequent_submission"
Progress = Callable[[str], None]


def proofs_dir(settings: Settings) -> Path:
    """Where accepted proofs are saved: ``<state>/proofs``."""
    return settings.state / "proofs"


def proof_path(settings: Settings, claim_id: str, *, pinned: bool = True) -> Path:
    """``<state>/proofs/<claim_id>.lean`` for a pinned statement; a proof of a statement the
    model drafted goes to ``<claim_id>.draft.lean`` (it cannot count until a human pins it)."""
    return proofs_dir(settings) / (f"{claim_id}.lean" if pinned else f"{claim_id}.draft.lean")


def module_context(settings: Settings, claim: Claim) -> str:
    """The source of the claim's Lean module, shown to the model, without the proof of the
    claim's own declaration ("" if the module is not a file of the project)."""
    path = settings.project_root / Path(*claim.lean.module.split(".")).with_suffix(".lean")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    return without_proof_of(source, claim.lean.declaration)


def pinned_statement(claim: Claim) -> str | None:
    statement = claim.lean.statement
    return statement if statement and statement.strip() else None


def draft(
    settings: Settings,
    checker: Checker,
    claim: Claim,
    provider: Provider | str,
    rounds: int = DEFAULT_ROUNDS,
    *,
    reviewer: Provider | None = None,
    config: AgentConfig,
    db: Database,
    progress: Progress | None = None,
    review: bool = True,
    tools: Toolbox | None = None,
    prompts: PromptSet = DEFAULT_PROMPTS,
) -> DraftOutcome:
    """Draft, check and repair a proof of ``claim``; review it if Lean accepts it.

    ``claim``: from the registry (``load_registry(settings).get(claim_id)``), or one being
    formalised, whose statement is not pinned yet: then the model drafts the statement too.
    ``provider`` is a provider or its name (``anthropic``, ``openai``, ``replay``).
    ``reviewer`` defaults to the other family (for replay: the recorded reviewer);
    ``review=False`` skips the cross-family review (an A/B variant with the reviewer off).
    ``tools``: what the drafter may call (none by default); ``prompts``: the drafter's prompt
    set. Raises ProviderError when the drafter fails; a failing *reviewer* is reported in
    ``DraftOutcome.review_error`` instead.
    """
    if rounds < 1:
        raise InputError(f"--rounds must be at least 1 (got {rounds})")
    owned: list[Provider] = []
    if isinstance(provider, str):
        provider = make_provider(provider, config, claim_id=claim.id)
        owned.append(provider)
    run = _DraftRun(settings, checker, claim, provider, rounds, config, db, progress, tools,
                    prompts)
    try:
        return run.execute(reviewer, review=review)
    finally:
        for p in (*owned, *run.owned):
            p.close()


class _DraftRun:
    """One session of the loop. Holds the running state; writes each step to the store."""

    def __init__(
        self,
        settings: Settings,
        checker: Checker,
        claim: Claim,
        provider: Provider,
        rounds: int,
        config: AgentConfig,
        db: Database,
        progress: Progress | None,
        tools: Toolbox | None = None,
        prompts: PromptSet = DEFAULT_PROMPTS,
    ) -> None:
        self.settings, self.checker, self.claim = settings, checker, claim
        self.tools, self.prompts = tools, prompts
        self.provider, self.rounds, self.config, self.db = provider, rounds, config, db
        self.say: Progress = progress or (lambda _msg: None)
        self.session_id = str(uuid.uuid4())
        self.statement = pinned_statement(claim)
        self.pinned = self.statement is not None
        self.context = module_context(settings, claim)
        self.attempts: list[Attempt] = []
        self.owned: list[Provider] = []
        self.started = time.monotonic()

    # -- the session --------------------------------------------------------------------
    def execute(self, reviewer: Provider | None, *, review: bool = True) -> DraftOutcome:
        store.start_session(
            self.db, session_id=self.session_id, claim_id=self.claim.id,
            provider=self.provider.name, family=self.provider.family,
            model=self.provider.model, rounds=self.rounds,
        )
        argument = ""
        try:
            argument = self._argument()
            status, proof = self._lean_attempts(argument)
        except BaseException as exc:  # the session row must not stay "running"
            failed = isinstance(exc, SequentError)
            self._finish("failed" if failed else "interrupted", argument,
                         error=str(exc) if failed else type(exc).__name__)
            raise
        self._finish(status, argument)
        judged, review_error = None, None
        if proof is not None and review:
            judged, review_error = self._review(proof.statement, reviewer)
        return self._outcome(status, argument, proof, judged, review_error)

    def _argument(self) -> str:
        self.say("drafting the informal argument")
        prompt = argument_prompt(self.claim, self.context, self.prompts)
        completion, used = complete_with_tools(self.provider, prompt, self.tools)
        self._record(0, prompt, completion, outcome="informal", tools=used)
        return completion.text.strip()

    def _lean_attempts(self, argument: str) -> tuple[DraftStatus, AcceptedProof | None]:
        failed: dict[str, int] = {}  # normalised attempt -> its index
        previous: Attempt | None = None
        for index in range(1, self.rounds + 1):
            prompt = self._lean_prompt(argument, previous, index)
            completion, used = complete_with_tools(self.provider, prompt, self.tools)
            statement, proof, refusal = self._read(completion.text)
            text = proof if self.pinned else f"{statement}\n:=\n{proof}"
            diff = unified_diff(self._text_of(previous), text)
            key = normalized(text)
            if key in failed:
                self._record(index, prompt, completion, outcome="repeated", proof=proof,
                             statement=statement, diff=diff, tools=used,
                             error=f"identical to attempt {failed[key]}, which failed")
                self.say(f"attempt {index}: repeats attempt {failed[key]}; stopping")
                return "repeated", None
            source, result = None, None
            check_started = time.monotonic()
            if refusal is None:
                try:
                    request = assemble_proof(self._claim_with(statement), proof,
                                             name=SUBMISSION_NAME)
                except InputError as exc:
                    refusal = str(exc)
                else:
                    source = request.source
                    result = self.checker.check(request)
            check_s = time.monotonic() - check_started
            outcome: AttemptOutcome = (
                "invalid" if result is None else "accepted" if result.accepted else "rejected"
            )
            previous = self._record(
                index, prompt, completion, outcome=outcome, proof=proof, statement=statement,
                source=source, diff=diff, check=result, error=refusal, check_s=check_s,
                tools=used,
            )
            self.say(f"attempt {index}/{self.rounds}: "
                     + (result.summary() if result is not None else f"refused: {refusal}"))
            if result is not None and result.accepted and source is not None:
                return "accepted", self._save(previous, source, statement, result)
            failed[key] = index
        return "exhausted", None

    def _lean_prompt(self, argument: str, previous: Attempt | None, index: int) -> Prompt:
        if previous is None:
            return proof_prompt(self.claim, argument, self.statement, SUBMISSION_NAME,
                                self.context, self.prompts)
        return repair_prompt(
            self.claim, argument, self._text_of(previous) or "", previous.source,
            previous.check, previous.error, statement_pinned=self.pinned,
            attempt=index - 1, rounds=self.rounds, context=self.context, prompts=self.prompts,
        )

    def _read(self, reply: str) -> tuple[str, str, str | None]:
        """(statement, proof, refusal) from a reply; refusal says what is missing."""
        if self.pinned:
            if self.statement is None:
                raise ClaimError(f"claim {self.claim.id} is pinned but has no statement")
            proof = extract_lean(reply)
            return self.statement, proof, None if proof else "the reply contains no proof"
        statement = extract_lean(reply, label="statement")
        proof = extract_lean(reply, label="proof")
        missing = [n for n, v in (("statement", statement), ("proof", proof)) if not v]
        refusal = (
            "the reply lacks " + " and ".join(f"a ```lean block starting with `-- {n}`"
                                              for n in missing)
            if missing else None
        )
        return statement, proof, refusal

    def _text_of(self, attempt: Attempt | None) -> str | None:
        if attempt is None or attempt.proof is None:
            return None
        return attempt.proof if self.pinned else f"{attempt.statement}\n:=\n{attempt.proof}"

    def _claim_with(self, statement: str) -> Claim:
        if self.pinned:
            return self.claim
        lean = self.claim.lean.model_copy(update={"statement": statement})
        return self.claim.model_copy(update={"lean": lean})

    # -- persistence --------------------------------------------------------------------
    def _record(
        self,
        index: int,
        prompt: Prompt,
        completion: Completion,
        *,
        outcome: AttemptOutcome,
        proof: str | None = None,
        statement: str | None = None,
        source: str | None = None,
        diff: str = "",
        check: CheckResult | None = None,
        error: str | None = None,
        check_s: float = 0.0,
        tools: tuple[ToolExchange, ...] = (),
    ) -> Attempt:
        attempt = Attempt(
            session_id=self.session_id, claim_id=self.claim.id, index=index, kind=prompt.kind,
            provider=completion.provider, family=completion.family, model=completion.model,
            prompt_hash=prompt.digest, output=completion.text, proof=proof,
            statement=statement, source=source, diff=diff, outcome=outcome, check=check,
            error=error, **completion.usage(),
            model_s=completion.elapsed_s, check_s=check_s, retries=completion.retries,
            tools=tools, created_at=utcnow(),
        )
        store.record_attempt(self.db, attempt)
        self.attempts.append(attempt)
        return attempt

    def _save(
        self, attempt: Attempt, source: str, statement: str, result: CheckResult
    ) -> AcceptedProof:
        path = proof_path(self.settings, self.claim.id, pinned=self.pinned)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(source, encoding="utf-8")
        os.replace(tmp, path)
        proof = AcceptedProof(
            claim_id=self.claim.id, session_id=self.session_id, path=path, source=source,
            proof=attempt.proof or "", statement=statement, statement_pinned=self.pinned,
            provider=attempt.provider, model=attempt.model, cache_key=result.cache_key,
            created_at=utcnow(),
        )
        store.record_proof(self.db, proof)
        self.say(f"accepted proof saved to {path}")
        return proof

    def _finish(self, status: str, argument: str, error: str | None = None) -> None:
        tokens_in, tokens_out, cost, _ = self._totals()
        store.finish_session(
            self.db, self.session_id, status=status, argument=argument, error=error,
            input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost,
        )

    def _totals(self, review: ClaimReview | None = None) -> tuple[int, int, float, tuple[str, ...]]:
        items = [(a.input_tokens, a.output_tokens, a.cost_usd, a.model) for a in self.attempts]
        if review is not None:
            items.append((review.input_tokens, review.output_tokens, review.cost_usd,
                          review.reviewer_model))
        unpriced = tuple(sorted({m for _, _, c, m in items if c is None}))
        return (sum(i[0] for i in items), sum(i[1] for i in items),
                sum(i[2] or 0.0 for i in items), unpriced)

    # -- review -------------------------------------------------------------------------
    def _review(
        self, statement: str, reviewer: Provider | None
    ) -> tuple[ClaimReview | None, str | None]:
        try:
            if reviewer is None:
                reviewer = reviewer_for(self.provider, self.config)
                self.owned.append(reviewer)
            self.say(f"review by {reviewer.family} {reviewer.model}")
            review = review_claim(
                self.claim, statement, reviewer, drafter_family=self.provider.family,
                session_id=self.session_id, context=self.context,
            )
        except SequentError as exc:
            self.say(f"no review: {exc}")
            return None, str(exc)
        store.record_review(self.db, review)
        return review, None

    def _outcome(
        self,
        status: DraftStatus,
        argument: str,
        proof: AcceptedProof | None,
        review: ClaimReview | None,
        review_error: str | None,
    ) -> DraftOutcome:
        tokens_in, tokens_out, cost, unpriced = self._totals(review)
        return DraftOutcome(
            session_id=self.session_id, claim_id=self.claim.id, status=status,
            provider=self.provider.name, family=self.provider.family,
            model=self.provider.model, rounds=self.rounds, argument=argument,
            attempts=tuple(self.attempts), proof=proof, review=review,
            review_error=review_error, input_tokens=tokens_in, output_tokens=tokens_out,
            cost_usd=cost, unpriced_models=unpriced,
            elapsed_s=time.monotonic() - self.started,
        )


__all__ = [
    "DEFAULT_ROUNDS",
    "SUBMISSION_NAME",
    "draft",
    "module_context",
    "pinned_statement",
    "proof_path",
    "proofs_dir",
]
