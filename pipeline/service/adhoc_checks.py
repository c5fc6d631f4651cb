"""Ad-hoc checks: Lean calls answered at once and never counted as a proof of anything
(iteration path: resident Lean workers, see docs/lean-backends.md).

:meth:`AdhocChecks.check` checks a draft file and records it for the token's rate limit and
for audit; ``check_proof``, ``multi_attempt``, ``check_lean``, ``goal_state``, ``goals_at`` and
``minimal_hypotheses`` record nothing. Each runs in a slot of the engine
(:meth:`~pipeline.service.lean_host.LeanHost.slot`) once the modules it imports are built.
"""

from __future__ import annotations

from sqlalchemy import update

from pipeline.claims.iterate import (
    MinimalHypotheses,
    minimal_hypotheses,
    place_messages,
    proof_position,
    relocate,
    render,
    snippet_request,
)
from pipeline.errors import InputError
from pipeline.lean.models import CheckRequest, CheckResult, Policy
from pipeline.lean.resident import Goal
from pipeline.service.admission import admitted
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import TooLarge
from pipeline.service.ids import new_id, sha256
from pipeline.service.lean_host import READY_WAIT_S, LeanHost, lean_file
from pipeline.service.models import (
    Attempt,
    CheckedProof,
    CheckedSnippet,
    CheckIn,
    CheckOut,
    ProofGoals,
)
from pipeline.service.submissions import SUBMISSION_POLICY, submission_request
from pipeline.service.tables import AdhocCheckRow
from pipeline.service.writelock import WriteGate

CHECK_POLICY = Policy()


class AdhocChecks:
    def __init__(self, config: ServiceConfig, host: LeanHost, gate: WriteGate) -> None:
        self._config, self._host, self._gate = config, host, gate
        self._registry = host.registry

    def check(self, draft: CheckIn, *, token_id: str | None) -> CheckOut:
        """An ad-hoc check of a draft file; recorded for rate limits, never as a proof."""
        size = len(draft.source.encode("utf-8"))
        if size > self._config.max_check_bytes:
            raise TooLarge(f"the draft is {size} bytes; the limit is {self._config.max_check_bytes} bytes")
        request = CheckRequest(source=draft.source, imports=draft.imports, file_name=draft.file_name,
                               policy=CHECK_POLICY)
        with self._host.slot(source=lean_file(request)):
            check_id = new_id()
            with admitted(self._gate, token_id, opens_submission=False) as (session, now):
                session.add(AdhocCheckRow(id=check_id, token_id=token_id, file_name=draft.file_name,
                                          source_sha256=sha256(draft.source), created_at=now))
            result = self._iterate(request)
            with self._gate.transaction() as session:
                session.execute(
                    update(AdhocCheckRow)
                    .where(AdhocCheckRow.id == check_id)
                    .values(verdict=result.verdict.value, elapsed_s=result.elapsed_s)
                    .execution_options(synchronize_session=False)
                )
        return CheckOut(id=check_id, result=result, diagnostics=result.diagnostics())

    def check_proof(self, claim_id: str, proof: str, *, ready_wait_s: float = READY_WAIT_S,
                    include_file: bool = False) -> CheckedProof:
        """Check a proof of a claim in the file a submission would get, under the submission
        policy, without recording it (iteration path: Lean's diagnostics, no axiom audit).
        Positions are placed in the proof sent; ``include_file``: the assembled file too."""
        claim = self._registry.claim(claim_id)
        request = submission_request(claim, proof, self._config)
        with self._host.slot(ready_wait_s, lean_file(request)):
            result = self._iterate(request)
        placed = relocate(result, request, proof, claim.lean.statement)
        return CheckedProof(claim_id=claim_id, verdict=result.verdict.value, summary=result.summary(),
                            diagnostics=render(placed), messages=placed,
                            file=request.source if include_file else None, result=result)

    def multi_attempt(self, claim_id: str, proofs: list[str], *, ready_wait_s: float = READY_WAIT_S
                      ) -> list[Attempt]:
        """Several candidate proofs of one claim, each checked as :meth:`check_proof` does."""
        if not proofs:
            raise InputError("give at least one proof")
        if len(proofs) > self._config.max_attempts_per_call:
            raise InputError(f"at most {self._config.max_attempts_per_call} proofs per call")
        claim = self._registry.claim(claim_id)
        requests = [submission_request(claim, p, self._config) for p in proofs]  # all valid, or none run
        with self._host.slot(ready_wait_s, lean_file(requests[0])):
            results = [self._iterate(r) for r in requests]
        attempts = []
        for i, (proof, request, result) in enumerate(zip(proofs, requests, results, strict=True)):
            placed = relocate(result, request, proof, claim.lean.statement)
            attempts.append(Attempt(index=i, verdict=result.verdict.value, summary=result.summary(),
                                    diagnostics=render(placed), messages=placed))
        return attempts

    def check_lean(self, snippet: str, claim_id: str | None = None, *,
                   ready_wait_s: float = READY_WAIT_S) -> CheckedSnippet:
        """An arbitrary snippet (lemmas, examples...) under the trust policy, after the claim's
        imports and opens when a claim is named. Positions are placed in the snippet sent."""
        size = len(snippet.encode("utf-8"))
        if size > self._config.max_check_bytes:
            raise InputError(f"the snippet is {size} bytes; the limit is {self._config.max_check_bytes} bytes")
        claim = self._registry.claim(claim_id) if claim_id else None
        request = snippet_request(claim, snippet, CHECK_POLICY)
        with self._host.slot(ready_wait_s, lean_file(request)):
            result = self._iterate(request)
        placed = relocate(result, request, snippet)
        return CheckedSnippet(verdict=result.verdict.value, summary=result.summary(),
                              diagnostics=render(placed), messages=placed, result=result)

    def goals_at(self, source: str, line: int, column: int, *, ready_wait_s: float = READY_WAIT_S) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of a Lean file, from a
        resident worker (``sequent goals`` through a running server)."""
        if line > source.count("\n") + 1:
            raise InputError(f"the source has no line {line}")
        with self._host.slot(ready_wait_s, source):
            return self._host.checker().goals(source, line, column)

    def goal_state(self, claim_id: str, proof: str, line: int, *,
                   ready_wait_s: float = READY_WAIT_S) -> ProofGoals:
        """The goals before and after ``line`` (from 1, within ``proof`` as sent) of a proof
        attempt (``sorry`` allowed: an attempt is usually unfinished)."""
        claim = self._registry.claim(claim_id)
        request = submission_request(claim, proof, self._config)
        at = proof_position(request, proof, line)
        text = request.source.split("\n")[at - 1]
        first = len(text) - len(text.lstrip())
        with self._host.slot(ready_wait_s, lean_file(request)):
            checker = self._host.checker()
            before = checker.goals(request.source, at, first, imports=request.imports)
            after = checker.goals(request.source, at, len(text.rstrip()), imports=request.imports)
        placed = place_messages(after.messages, request, proof, claim.lean.statement)
        return ProofGoals(claim_id=claim_id, line=line, text=text, goals_before=before.goals,
                          goals_after=after.goals, term_goal=after.term_goal, diagnostics=render(placed),
                          messages=placed)

    def minimal_hypotheses(self, claim_id: str, proof: str, *,
                           ready_wait_s: float = READY_WAIT_S) -> MinimalHypotheses:
        """Which of the claim's named hypotheses ``proof`` needs: each binder dropped in turn
        from the pinned statement and the proof re-checked (see pipeline.claims.iterate)."""
        claim = self._registry.claim(claim_id)
        request = submission_request(claim, proof, self._config)  # size and command checks, as for a submission
        with self._host.slot(ready_wait_s, lean_file(request)):
            return minimal_hypotheses(claim, proof, self._iterate, SUBMISSION_POLICY)

    def _iterate(self, request: CheckRequest) -> CheckResult:
        return self._host.checker().diagnose(
            request.model_copy(update={"timeout_s": self._config.check_timeout_s}))


__all__ = ["CHECK_POLICY", "AdhocChecks"]
