"""The persisted job queue: one row per submission to check.

A job is ``queued`` → ``running`` (leased to one worker, renewed by heartbeats) → ``done``.
Workers claim with ``UPDATE … WHERE id = :id AND <still claimable>`` and keep the job only
if exactly one row changed, which is atomic on SQLite and PostgreSQL alike. A job whose
lease ran out (its worker died) is claimable again; so is one whose owner on this host is
gone (found at start by :meth:`JobQueue.requeue_orphans`).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import psutil
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from pipeline.errors import SetupError
from pipeline.lean.models import CheckRequest
from pipeline.models import Frozen
from pipeline.service.tables import JobRow, JobStatus, SubmissionRow, SubmissionStatus
from pipeline.service.writelock import WriteGate
from pipeline.store.db import Database
from pipeline.store.times import utcnow

_INSERT_JOB = insert(JobRow.__table__)  # type: ignore[arg-type]  # a Core insert: no ORM overhead


class ClaimedJob(Frozen):
    id: int
    submission_id: str
    attempts: int
    owner: str
    request: CheckRequest | None = None
    """The Lean request built at acceptance (``None`` only for a job an older version queued
    that could not be filled in at start)."""


def process_identity() -> str:
    """``host:pid:start`` of this process; with a thread suffix it names a lease owner."""
    start = int(psutil.Process().create_time())
    return f"{socket.gethostname()}:{os.getpid()}:{start}"


def lease_owner() -> str:
    return f"{process_identity()}:{threading.get_ident()}"


def owner_is_gone(owner: str, *, host: str | None = None) -> bool:
    """True when ``owner`` names a process on this host that no longer runs."""
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != (host or socket.gethostname()):
        return False
    try:
        pid, start = int(parts[1]), int(parts[2])
    except ValueError:
        return False
    try:
        return int(psutil.Process(pid).create_time()) != start
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(JobRow.status == JobStatus.queued, JobRow.not_before <= now),
        and_(JobRow.status == JobStatus.running, JobRow.lease_expires_at < now),
    )


class JobQueue:
    """All reads and writes of the jobs table."""

    def __init__(self, db: Database, *, lease_s: float, max_attempts: int,
                 gate: WriteGate | None = None) -> None:
        self._db = db
        self._gate = gate or WriteGate(db)
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts

    # ---- producers --------------------------------------------------------------------
    @staticmethod
    def enqueue(session: Session, submission_id: str, request: CheckRequest, now: datetime) -> None:
        """Queue a job carrying its Lean request, inside the caller's transaction (the one
        inserting the submission)."""
        session.execute(
            _INSERT_JOB,
            {
                "submission_id": submission_id,
                "status": JobStatus.queued,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
                "request": request.model_dump(mode="json"),
            },
        )

    def transaction(self) -> AbstractContextManager[Session]:
        """A write transaction (the worker records a verdict and finishes its job in one)."""
        return self._gate.transaction()

    # ---- consumers --------------------------------------------------------------------
    def claim(self, owner: str, *, now: datetime | None = None, scan: int = 8) -> ClaimedJob | None:
        """Lease the oldest claimable job to ``owner``; ``None`` when there is none."""
        now = now or utcnow()
        with self._db.session() as session:
            candidates = session.scalars(
                select(JobRow.id).where(_claimable(now)).order_by(JobRow.id).limit(scan)
            ).all()
        for job_id in candidates:
            job = self._claim_one(job_id, owner, now)
            if job is not None:
                return job
        return None

    def claim_like(self, first: ClaimedJob, limit: int, *, now: datetime | None = None) -> list[ClaimedJob]:
        """Lease to ``first``'s owner up to ``limit`` more claimable jobs whose submissions have
        the same claim, statement and imports (the batched acceptance path checks them together)."""
        if limit <= 0:
            return []
        now = now or utcnow()
        with self._db.session() as session:
            sub = session.get(SubmissionRow, first.submission_id)
            if sub is None:
                return []
            rows = session.execute(
                select(JobRow.id, SubmissionRow.imports)
                .join(SubmissionRow, SubmissionRow.id == JobRow.submission_id)
                .where(_claimable(now), JobRow.id != first.id, SubmissionRow.claim_id == sub.claim_id,
                       SubmissionRow.statement == sub.statement, SubmissionRow.file_name == sub.file_name)
                .order_by(JobRow.id).limit(limit * 2)
            ).all()
            candidates = [job_id for job_id, imports in rows if list(imports) == list(sub.imports)]
        jobs: list[ClaimedJob] = []
        for job_id in candidates:
            if len(jobs) >= limit:
                break
            job = self._claim_one(job_id, first.owner, now)
            if job is not None:
                jobs.append(job)
        return jobs

    def _claim_one(self, job_id: int, owner: str, now: datetime) -> ClaimedJob | None:
        """Lease one job if it is still claimable (atomic: exactly one row changes, or none)."""
        with self._gate.transaction() as session:
            changed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, _claimable(now))
                .values(
                    status=JobStatus.running,
                    lease_owner=owner,
                    lease_expires_at=now + self.lease,
                    attempts=JobRow.attempts + 1,
                    started_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if changed != 1:
                return None
            job = session.get(JobRow, job_id)
            if job is None:
                raise SetupError(f"job {job_id} vanished while it was being leased")
            session.execute(
                update(SubmissionRow)
                .where(
                    SubmissionRow.id == job.submission_id,
                    SubmissionRow.status.in_(SubmissionStatus.open),
                )
                .values(status=SubmissionStatus.running)
                .execution_options(synchronize_session=False)
            )
            request = CheckRequest.model_validate(job.request) if job.request is not None else None
            return ClaimedJob(id=job.id, submission_id=job.submission_id, attempts=job.attempts, owner=owner,
                              request=request)

    def heartbeat(self, job_ids: Iterable[int], owner: str, *, now: datetime | None = None) -> int:
        """Extend the leases ``owner`` still holds; returns how many it holds."""
        ids = list(job_ids)
        if not ids:
            return 0
        now = now or utcnow()
        with self._gate.transaction() as session:
            return session.execute(  # type: ignore[attr-defined,no-any-return]
                update(JobRow)
                .where(
                    JobRow.id.in_(ids),
                    JobRow.lease_owner == owner,
                    JobRow.status == JobStatus.running,
                )
                .values(lease_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            ).rowcount

    @staticmethod
    def mark_done(session: Session, job_id: int, now: datetime, error: str | None = None) -> bool:
        """Finish a job inside the caller's transaction; False if it was already done."""
        changed = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status != JobStatus.done)
            .values(status=JobStatus.done, finished_at=now, lease_expires_at=None, last_error=error)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return bool(changed == 1)

    def release(self, job: ClaimedJob, error: str, *, backoff_s: float, now: datetime | None = None) -> None:
        """Give a job back after a transport failure, to be retried after ``backoff_s``."""
        now = now or utcnow()
        with self._gate.transaction() as session:
            session.execute(
                update(JobRow)
                .where(
                    JobRow.id == job.id,
                    JobRow.lease_owner == job.owner,
                    JobRow.status == JobStatus.running,
                )
                .values(
                    status=JobStatus.queued,
                    lease_owner=None,
                    lease_expires_at=None,
                    not_before=now + timedelta(seconds=backoff_s),
                    last_error=error,
                )
                .execution_options(synchronize_session=False)
            )

    def requeue_orphans(self, *, now: datetime | None = None) -> int:
        """Queue again the running jobs whose owner process on this host has died."""
        now = now or utcnow()
        with self._db.session() as session:
            rows = session.execute(
                select(JobRow.id, JobRow.lease_owner).where(JobRow.status == JobStatus.running)
            ).all()
        dead = [job_id for job_id, owner in rows if owner and owner_is_gone(owner)]
        if not dead:
            return 0
        with self._gate.transaction() as session:
            return session.execute(  # type: ignore[attr-defined,no-any-return]
                update(JobRow)
                .where(JobRow.id.in_(dead), JobRow.status == JobStatus.running)
                .values(status=JobStatus.queued, lease_owner=None, lease_expires_at=None, not_before=now)
                .execution_options(synchronize_session=False)
            ).rowcount

    def without_request(self) -> list[tuple[int, str]]:
        """``(job id, submission id)`` of the open jobs an older version queued without their
        Lean request (filled in at start: ``SubmissionService.fill_requests``)."""
        with self._db.session() as session:
            return [(int(i), str(s)) for i, s in session.execute(
                select(JobRow.id, JobRow.submission_id)
                .where(JobRow.status != JobStatus.done, JobRow.request.is_(None))
            ).all()]

    def fill_request(self, job_id: int, request: CheckRequest) -> None:
        with self._gate.transaction() as session:
            session.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.request.is_(None))
                .values(request=request.model_dump(mode="json"))
                .execution_options(synchronize_session=False)
            )

    def counts(self) -> dict[str, int]:
        with self._db.session() as session:
            rows = session.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
        out = {JobStatus.queued: 0, JobStatus.running: 0, JobStatus.done: 0}
        out.update({status: int(n) for status, n in rows})
        return out


__all__ = ["ClaimedJob", "JobQueue", "lease_owner", "owner_is_gone", "process_identity"]
