"""Submissions: accepted (persisted with their job, in one transaction), checked, recorded.

A submission is immutable once its verdict is recorded: every write after acceptance is an
``UPDATE … WHERE status IN ('queued', 'running')``. A new attempt is a new submission.
The Lean file is always built by the server from the claim's pinned statement
(:func:`pipeline.claims.assemble.assemble_proof`); the caller sends only the proof.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from pipeline.claims.assemble import SUBMISSION_THEOREM, assemble_proof
from pipeline.claims.models import Claim
from pipeline.errors import InputError, NotFoundError
from pipeline.lean.models import CheckRequest, CheckResult, Policy
from pipeline.service.admission import admit_write
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import TooLarge
from pipeline.service.ids import new_id, sha256
from pipeline.service.models import (
    SUBMISSION_ID_PATTERN,
    ProofStatus,
    SubmissionAccepted,
    SubmissionPage,
    SubmissionView,
    submission_view_from,
)
from pipeline.service.queue import ClaimedJob, JobQueue
from pipeline.service.tables import SubmissionRow, SubmissionStatus
from pipeline.service.writelock import WriteGate
from pipeline.store.db import Database
from pipeline.store.times import utcnow

_INSERT_SUBMISSION = insert(SubmissionRow.__table__)  # type: ignore[arg-type]  # Core: fast path

SUBMISSION_POLICY = Policy()
"""The trust policy of every submission: no sorry, no extra axioms, no metaprogramming."""


class SubmissionStore:
    """Every read and write of submissions, plus their jobs' completion."""

    def __init__(self, db: Database, config: ServiceConfig, queue: JobQueue,
                 gate: WriteGate | None = None,
                 uncitable: Callable[[str], tuple[str, ...]] | None = None) -> None:
        self._db, self._config, self._queue = db, config, queue
        self._gate = gate or WriteGate(db)
        self._uncitable = uncitable
        """Claim id -> the constants its submissions' proofs may not reach (its declaration)."""

    # ---- accept -------------------------------------------------------------------------
    def prepare(self, claim: Claim, proof: str) -> CheckRequest:
        """Validate a proof and build its Lean file from the claim's pinned statement."""
        size = len(proof.encode("utf-8"))
        if size > self._config.max_proof_bytes:
            raise TooLarge(
                f"the proof is {size} bytes; the limit is {self._config.max_proof_bytes} bytes"
            )
        if not proof.strip():
            raise InputError("the proof is empty")
        request = assemble_proof(claim, proof)
        return request.model_copy(update={"policy": SUBMISSION_POLICY})

    def accept(
        self,
        claim: Claim,
        proof: str,
        agent: str,
        *,
        token_id: str | None,
        channel: str,
        url_prefix: str = "/v1/submissions/",
    ) -> SubmissionAccepted:
        agent = agent.strip()
        if not agent or len(agent) > self._config.max_agent_chars:
            raise InputError(f"agent must have 1 to {self._config.max_agent_chars} characters")
        request = self.prepare(claim, proof)
        now = utcnow()
        sid = new_id()
        with self._gate(), self._db.session() as session:
            if token_id is not None:
                admit_write(session, token_id, now, opens_submission=True)
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
            JobQueue.enqueue(session, sid, now)
        return SubmissionAccepted(
            id=sid, status="queued", claim_id=claim.id, url=f"{url_prefix}{sid}"
        )

    # ---- read ---------------------------------------------------------------------------
    def get(self, submission_id: str) -> SubmissionView:
        check_id(submission_id)
        with self._db.session() as session:
            row = session.get(SubmissionRow, submission_id)
            if row is None:
                raise NotFoundError(f"no submission {submission_id!r}")
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

    def poll(self, submission_id: str, deadline: float, *, poll_s: float = 0.1
             ) -> tuple[SubmissionView, float | None]:
        """The submission now, and how long to wait before reading it again: ``None`` once it
        has a verdict or ``deadline`` (``time.monotonic()``) has passed. The one rule of waiting
        for a verdict: :meth:`wait` sleeps on it, the HTTP route (``?wait=``) awaits it."""
        view = self.get(submission_id)
        remaining = deadline - time.monotonic()
        if view.status in SubmissionStatus.final or remaining <= 0:
            return view, None
        return view, min(poll_s, max(remaining, 0.01))

    def wait(self, submission_id: str, timeout_s: float, *, poll_s: float = 0.1) -> SubmissionView:
        """The submission once it has a verdict, or as it is after ``timeout_s``."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            view, pause = self.poll(submission_id, deadline, poll_s=poll_s)
            if pause is None:
                return view
            time.sleep(pause)

    def request_for(self, submission_id: str, timeout_s: float | None) -> CheckRequest:
        with self._db.session() as session:
            row = session.get(SubmissionRow, submission_id)
            if row is None:
                raise NotFoundError(f"no submission {submission_id!r}")
            return CheckRequest(
                source=row.source,
                imports=tuple(row.imports),
                file_name=row.file_name,
                policy=SUBMISSION_POLICY,
                timeout_s=timeout_s,
                expected_declarations=(SUBMISSION_THEOREM,),
                uncitable=self._uncitable(row.claim_id) if self._uncitable is not None else (),
            )

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
    def record(self, job: ClaimedJob, result: CheckResult) -> bool:
        """Store Lean's verdict and finish the job; False if a verdict was already there."""
        status = SubmissionStatus.accepted if result.accepted else SubmissionStatus.rejected
        return self._finish(job, status=status, result=result, error=None)

    def fail(self, job: ClaimedJob, error: str) -> bool:
        """Finish a submission that could not be checked at all (not a Lean verdict)."""
        return self._finish(job, status=SubmissionStatus.error, result=None, error=error)

    def _finish(
        self, job: ClaimedJob, *, status: str, result: CheckResult | None, error: str | None
    ) -> bool:
        now = utcnow()
        with self._gate(), self._db.session() as session:
            changed = session.execute(
                update(SubmissionRow)
                .where(
                    SubmissionRow.id == job.submission_id,
                    SubmissionRow.status.in_(SubmissionStatus.open),
                )
                .values(
                    status=status,
                    result=result.model_dump(mode="json") if result is not None else None,
                    error=error,
                    finished_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            JobQueue.mark_done(session, job.id, now, error=error)
        return bool(changed == 1)


_ID = re.compile(SUBMISSION_ID_PATTERN)


def check_id(submission_id: str, what: str = "submission id") -> None:
    """A malformed id is bad input (422), not a missing submission (404)."""
    if not _ID.match(submission_id):
        raise InputError(f"{submission_id[:80]!r} is not a {what} (28 hexadecimal digits)")


def _view(row: SubmissionRow) -> SubmissionView:
    result = CheckResult.model_validate(row.result) if row.result is not None else None
    return submission_view_from(
        id=row.id,
        claim_id=row.claim_id,
        agent=row.agent,
        status=row.status,
        statement=row.statement,
        proof=row.proof,
        result=result,
        error=row.error,
        created_at=row.created_at,
        finished_at=row.finished_at,
        source=row.source,
        channel=row.channel,
    )


__all__ = [
    "SUBMISSION_POLICY",
    "SubmissionStore",
    "check_id",
]
