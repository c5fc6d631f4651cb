"""Submissions: the Lean request of a proof (:func:`submission_request`, built once), and
:class:`SubmissionStore`, every read and write of the submissions table.

A submission is immutable once its verdict is recorded: every write after acceptance is an
``UPDATE … WHERE status IN ('queued', 'running')``. A new attempt is a new submission.
The Lean file is always built by the server from the claim's pinned statement
(:func:`pipeline.claims.assemble.assemble_proof`); the caller sends only the proof. The store
knows nothing of the job queue: the writes that touch both run in the caller's transaction
(acceptance: :mod:`pipeline.service.submission_service`; the verdict: the worker).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.models import Claim
from pipeline.errors import InputError, NotFoundError
from pipeline.lean.models import CheckRequest, CheckResult, Policy
from pipeline.models import Frozen
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import TooLarge
from pipeline.service.ids import sha256
from pipeline.service.models import (
    SUBMISSION_ID_PATTERN,
    ProofStatus,
    SubmissionPage,
    SubmissionView,
)
from pipeline.service.tables import SubmissionRow, SubmissionStatus
from pipeline.store.db import Database

_INSERT_SUBMISSION = insert(SubmissionRow.__table__)  # type: ignore[arg-type]  # Core: fast path

SUBMISSION_POLICY = Policy()
"""The trust policy of every submission: no sorry, no extra axioms, no metaprogramming."""


def submission_request(claim: Claim, proof: str, config: ServiceConfig) -> CheckRequest:
    """Validate a proof and build its Lean file from the claim's pinned statement, under the
    submission policy: the one request a submission is checked with (built at acceptance and
    carried by its job to the worker), and what the iteration path checks an attempt in."""
    size = len(proof.encode("utf-8"))
    if size > config.max_proof_bytes:
        raise TooLarge(f"the proof is {size} bytes; the limit is {config.max_proof_bytes} bytes")
    if not proof.strip():
        raise InputError("the proof is empty")
    return assemble_proof(claim, proof).model_copy(update={"policy": SUBMISSION_POLICY})


class Exportable(Frozen):
    """What export needs of an accepted submission."""

    id: str
    claim_id: str
    agent: str
    source: str
    statement: str
    proof: str
    audited: bool
    """Accepted with the compiled-environment audit (an accepted result records one)."""


class SubmissionStore:
    """Every read and write of the submissions table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- accept -------------------------------------------------------------------------
    @staticmethod
    def insert(session: Session, sid: str, claim: Claim, proof: str, agent: str, request: CheckRequest, *,
               token_id: str | None, channel: str, now: datetime) -> None:
        """A new queued submission, inside the caller's transaction (the one queuing its job)."""
        session.execute(
            _INSERT_SUBMISSION,
            {
                "id": sid,
                "claim_id": claim.id,
                "agent": agent,
                "token_id": token_id,
                "channel": channel,
                "proof": proof,
                "proof_sha256": sha256(proof),
                "statement": claim.lean.statement,
                "source": request.source,
                "imports": list(request.imports),
                "file_name": request.file_name,
                "status": SubmissionStatus.queued,
                "created_at": now,
            },
        )

    # ---- read ---------------------------------------------------------------------------
    def get(self, submission_id: str) -> SubmissionView:
        check_id(submission_id)
        with self._db.session() as session:
            row = _row(session, submission_id)
            return _view(row)

    def page(self, *, claim_id: str | None = None, agent: str | None = None, status: str | None = None,
             since: datetime | None = None, limit: int = 50, before: str | None = None) -> SubmissionPage:
        """Submissions newest first, filtered; ``before``: the ``next_cursor`` of the page before."""
        known = (*SubmissionStatus.open, *SubmissionStatus.final)
        if status is not None and status not in known:
            raise InputError(f"unknown verdict/status {status!r} (one of {', '.join(known)})")
        if before is not None:
            check_id(before, "cursor")
        if not 1 <= limit <= 500:
            raise InputError("limit must be between 1 and 500")
        query = select(SubmissionRow).order_by(SubmissionRow.id.desc()).limit(limit + 1)
        if claim_id is not None:
            query = query.where(SubmissionRow.claim_id == claim_id)
        if agent is not None:
            query = query.where(SubmissionRow.agent == agent)
        if status is not None:
            query = query.where(SubmissionRow.status == status)
        if since is not None:  # a time without a zone is read as UTC
            query = query.where(SubmissionRow.created_at >= (
                since if since.tzinfo is not None else since.replace(tzinfo=UTC)))
        if before is not None:
            query = query.where(SubmissionRow.id < before)
        with self._db.session() as session:
            rows = list(session.scalars(query))
            views = tuple(_view(r) for r in rows[:limit])
        return SubmissionPage(items=views, next_cursor=views[-1].id if len(rows) > limit else None)

    def claim_and_proof(self, submission_id: str) -> tuple[str, str]:
        """A submission's claim id and proof as sent."""
        with self._db.session() as session:
            row = _row(session, submission_id)
            return row.claim_id, row.proof

    def exportable(self, submission_id: str) -> Exportable:
        """What export needs of a submission (:class:`Exportable`)."""
        check_id(submission_id)
        with self._db.session() as session:
            row = _row(session, submission_id)
            audited = row.result is not None and CheckResult.model_validate(row.result).environment is not None
            return Exportable(id=row.id, claim_id=row.claim_id, agent=row.agent, source=row.source,
                              statement=row.statement, proof=row.proof, audited=audited)

    def proof_status(self, claim_id: str) -> ProofStatus:
        with self._db.session() as session:
            counts = dict(
                session.execute(
                    select(SubmissionRow.status, func.count())
                    .where(SubmissionRow.claim_id == claim_id)
                    .group_by(SubmissionRow.status)
                ).all()
            )
            latest = session.scalar(
                select(SubmissionRow.id)
                .where(
                    SubmissionRow.claim_id == claim_id,
                    SubmissionRow.status == SubmissionStatus.accepted,
                )
                .order_by(SubmissionRow.finished_at.desc(), SubmissionRow.id.desc())
                .limit(1)
            )
        return ProofStatus(
            accepted_submissions=int(counts.get(SubmissionStatus.accepted, 0)),
            latest_accepted=latest,
            pending_submissions=sum(int(counts.get(s, 0)) for s in SubmissionStatus.open),
        )

    # ---- record -------------------------------------------------------------------------
    @staticmethod
    def record(session: Session, submission_id: str, now: datetime, *, result: CheckResult | None = None,
               error: str | None = None) -> bool:
        """Store Lean's verdict (``result``), or ``error`` for a submission that could not be
        checked at all, inside the caller's transaction (the one finishing its job); False if
        a verdict was already there."""
        if result is not None:
            status = SubmissionStatus.accepted if result.accepted else SubmissionStatus.rejected
        else:
            status = SubmissionStatus.error
        changed = session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.status.in_(SubmissionStatus.open))
            .values(status=status, result=result.model_dump(mode="json") if result is not None else None,
                    error=error, finished_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return bool(changed == 1)


_ID = re.compile(SUBMISSION_ID_PATTERN)


def check_id(submission_id: str, what: str = "submission id") -> None:
    """A malformed id is bad input (422), not a missing submission (404)."""
    if not _ID.match(submission_id):
        raise InputError(f"{submission_id[:80]!r} is not a {what} (28 hexadecimal digits)")


def _row(session: Session, submission_id: str) -> SubmissionRow:
    row = session.get(SubmissionRow, submission_id)
    if row is None:
        raise NotFoundError(f"no submission {submission_id!r}")
    return row


def _view(row: SubmissionRow) -> SubmissionView:
    view = SubmissionView.model_validate(row, from_attributes=True)
    return view if row.result is None else view.checked(CheckResult.model_validate(row.result), row.source)


__all__ = [
    "SUBMISSION_POLICY",
    "Exportable",
    "SubmissionStore",
    "check_id",
    "submission_request",
]
