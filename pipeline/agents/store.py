"""Reading and writing the agents' tables. The report and service teams read through here:
:func:`attempts_for`, :func:`latest_review`, :func:`latest_proof`, :func:`sessions_for`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select

from pipeline.agents.models import (
    AcceptedProof,
    Attempt,
    ClaimReview,
    Family,
    ProviderName,
    ReviewJudgement,
    ToolCall,
    ToolExchange,
    ToolResult,
)
from pipeline.agents.tables import AttemptRow, DraftSessionRow, ProofRow, ReviewRow, ToolCallRow
from pipeline.lean.models import CheckResult
from pipeline.models import Frozen
from pipeline.store.db import Database
from pipeline.store.times import as_utc, utcnow

Newest = TypeVar("Newest", ProofRow, ReviewRow)
T = TypeVar("T")


class DraftSession(Frozen):
    """Summary of one run of the drafting loop."""

    id: str
    claim_id: str
    provider: ProviderName
    family: Family
    model: str
    rounds: int
    status: str
    error: str | None
    argument: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    started_at: datetime
    finished_at: datetime | None




# ---- writing ---------------------------------------------------------------------------


def start_session(
    db: Database,
    *,
    session_id: str,
    claim_id: str,
    provider: ProviderName,
    family: Family,
    model: str,
    rounds: int,
) -> None:
    with db.session() as s:
        s.add(
            DraftSessionRow(
                id=session_id, claim_id=claim_id, provider=provider, family=family,
                model=model, rounds=rounds, status="running", started_at=utcnow(),
            )
        )


def finish_session(
    db: Database,
    session_id: str,
    *,
    status: str,
    argument: str = "",
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost_usd: float = 0.0,
    error: str | None = None,
) -> None:
    with db.session() as s:
        row = s.get(DraftSessionRow, session_id)
        if row is None:
            return
        row.status, row.error, row.argument = status, error, argument
        row.input_tokens, row.output_tokens, row.cost_usd = input_tokens, output_tokens, cost_usd
        row.finished_at = utcnow()


def record_attempt(db: Database, attempt: Attempt) -> None:
    with db.session() as s:
        s.add(
            AttemptRow(
                session_id=attempt.session_id, claim_id=attempt.claim_id, index=attempt.index,
                kind=attempt.kind, outcome=attempt.outcome, provider=attempt.provider,
                family=attempt.family, model=attempt.model, prompt_hash=attempt.prompt_hash,
                output=attempt.output, proof=attempt.proof, statement=attempt.statement,
                source=attempt.source, diff=attempt.diff,
                check=attempt.check.model_dump(mode="json", by_alias=True) if attempt.check else None,
                error=attempt.error, input_tokens=attempt.input_tokens,
                output_tokens=attempt.output_tokens, cost_usd=attempt.cost_usd,
                model_s=attempt.model_s, check_s=attempt.check_s, retries=attempt.retries,
                created_at=attempt.created_at,
            )
        )
        s.add_all(
            ToolCallRow(session_id=attempt.session_id, attempt_index=attempt.index,
                        round=e.round, call=e.call.model_dump(mode="json"),
                        result=e.result.content, is_error=e.result.is_error)
            for e in attempt.tools
        )


def record_proof(db: Database, proof: AcceptedProof) -> None:
    with db.session() as s:
        s.add(
            ProofRow(
                claim_id=proof.claim_id, session_id=proof.session_id, path=str(proof.path),
                source=proof.source, proof=proof.proof, statement=proof.statement,
                statement_pinned=proof.statement_pinned, provider=proof.provider,
                model=proof.model, cache_key=proof.cache_key, created_at=proof.created_at,
            )
        )


def record_review(db: Database, review: ClaimReview) -> None:
    with db.session() as s:
        s.add(
            ReviewRow(
                claim_id=review.claim_id, session_id=review.session_id,
                verdict=review.judgement.verdict, flagged=review.flagged,
                judgement=review.judgement.model_dump(mode="json"), statement=review.statement,
                reviewer_provider=review.reviewer_provider, reviewer_family=review.reviewer_family,
                reviewer_model=review.reviewer_model, drafter_family=review.drafter_family,
                input_tokens=review.input_tokens, output_tokens=review.output_tokens,
                cost_usd=review.cost_usd, created_at=review.created_at,
            )
        )


# ---- reading ---------------------------------------------------------------------------


def _exchange(row: ToolCallRow) -> ToolExchange:
    call = ToolCall.model_validate(row.call)
    return ToolExchange(round=row.round, call=call,
                        result=ToolResult(call_id=call.id, content=row.result, is_error=row.is_error))


def _attempt(row: AttemptRow, tools: tuple[ToolExchange, ...] = ()) -> Attempt:
    return Attempt(
        session_id=row.session_id, claim_id=row.claim_id, index=row.index,
        kind=row.kind,
        provider=row.provider,
        family=row.family,
        model=row.model, prompt_hash=row.prompt_hash, output=row.output, proof=row.proof,
        statement=row.statement, source=row.source, diff=row.diff,
        outcome=row.outcome,
        check=CheckResult.model_validate(row.check) if row.check is not None else None,
        error=row.error, input_tokens=row.input_tokens, output_tokens=row.output_tokens,
        cost_usd=row.cost_usd, model_s=row.model_s, check_s=row.check_s, retries=row.retries,
        tools=tools, created_at=as_utc(row.created_at),
    )


def attempts_for(db: Database, claim_id: str, *, session_id: str | None = None) -> list[Attempt]:
    """Every recorded attempt for a claim (or one session of it), oldest session first."""
    with db.session() as s:
        query = (
            select(AttemptRow)
            .join(DraftSessionRow, DraftSessionRow.id == AttemptRow.session_id)
            .where(AttemptRow.claim_id == claim_id)
            .order_by(DraftSessionRow.started_at, AttemptRow.session_id, AttemptRow.index,
                      AttemptRow.id)
        )
        if session_id is not None:
            query = query.where(AttemptRow.session_id == session_id)
        rows = list(s.scalars(query))
        calls: dict[tuple[str, int], list[ToolExchange]] = {}
        sessions = sorted({r.session_id for r in rows})
        if sessions:
            for row in s.scalars(select(ToolCallRow).where(ToolCallRow.session_id.in_(sessions))
                                 .order_by(ToolCallRow.id)):
                calls.setdefault((row.session_id, row.attempt_index), []).append(_exchange(row))
        return [_attempt(r, tuple(calls.get((r.session_id, r.index), ()))) for r in rows]


def sessions_for(db: Database, claim_id: str | None = None) -> list[DraftSession]:
    """Drafting sessions, newest first (all claims when ``claim_id`` is None)."""
    with db.session() as s:
        query = select(DraftSessionRow).order_by(DraftSessionRow.started_at.desc())
        if claim_id is not None:
            query = query.where(DraftSessionRow.claim_id == claim_id)
        return [
            DraftSession(
                id=r.id, claim_id=r.claim_id,
                provider=r.provider,
                family=r.family,
                model=r.model, rounds=r.rounds, status=r.status, error=r.error,
                argument=r.argument, input_tokens=r.input_tokens, output_tokens=r.output_tokens,
                cost_usd=r.cost_usd, started_at=as_utc(r.started_at) or utcnow(),
                finished_at=as_utc(r.finished_at),
            )
            for r in s.scalars(query)
        ]


def _latest(db: Database, table: type[Newest], claim_id: str, read: Callable[[Newest], T]) -> T | None:
    """The newest row of ``table`` for a claim (the last inserted among equal times), read into
    its model by ``read``; ``None`` when the claim has no row."""
    with db.session() as s:
        row = s.scalars(
            select(table)
            .where(table.claim_id == claim_id)
            .order_by(table.created_at.desc(), table.id.desc())
            .limit(1)
        ).first()
        return read(row) if row is not None else None


def latest_review(db: Database, claim_id: str) -> ClaimReview | None:
    """The newest review of a claim, or ``None`` if it was never reviewed."""
    return _latest(db, ReviewRow, claim_id, _review)


def latest_proof(db: Database, claim_id: str) -> AcceptedProof | None:
    """The newest accepted proof of a claim, or ``None``."""
    return _latest(db, ProofRow, claim_id, _proof)


def _review(row: ReviewRow) -> ClaimReview:
    return ClaimReview(
        claim_id=row.claim_id, session_id=row.session_id,
        judgement=ReviewJudgement.model_validate(row.judgement), statement=row.statement,
        reviewer_provider=row.reviewer_provider,
        reviewer_family=row.reviewer_family,
        reviewer_model=row.reviewer_model,
        drafter_family=row.drafter_family,
        input_tokens=row.input_tokens, output_tokens=row.output_tokens,
        cost_usd=row.cost_usd, created_at=as_utc(row.created_at) or utcnow(),
    )


def _proof(row: ProofRow) -> AcceptedProof:
    return AcceptedProof(
        claim_id=row.claim_id, session_id=row.session_id, path=Path(row.path),
        source=row.source, proof=row.proof, statement=row.statement,
        statement_pinned=row.statement_pinned,
        provider=row.provider,
        model=row.model, cache_key=row.cache_key,
        created_at=as_utc(row.created_at) or utcnow(),
    )


__all__ = [
    "DraftSession",
    "attempts_for",
    "finish_session",
    "latest_proof",
    "latest_review",
    "record_attempt",
    "record_proof",
    "record_review",
    "sessions_for",
    "start_session",
]
