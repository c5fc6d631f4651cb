"""The persisted job queue on a real SQLite file: atomic claims, leases, orphans."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from pipeline.service.queue import JobQueue, lease_owner, owner_is_gone, process_identity
from pipeline.service.tables import JobRow, JobStatus, SubmissionRow, SubmissionStatus
from pipeline.store.db import Database
from pipeline.store.times import utcnow
from tests.service.helpers import queued_submission


def test_many_threads_claim_each_job_exactly_once(db: Database) -> None:
    ids = {queued_submission(db, f"by decide -- {i}") for i in range(40)}
    queue = JobQueue(db, lease_s=60, max_attempts=3)
    claimed: list[str] = []
    lock = threading.Lock()

    def consume(k: int) -> None:
        owner = f"{process_identity()}:t{k}"
        while (job := queue.claim(owner)) is not None:
            with lock:
                claimed.append(job.submission_id)

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    with db.session() as s:
        assert set(s.scalars(select(SubmissionRow.status))) == {SubmissionStatus.running}
        assert set(s.scalars(select(JobRow.attempts))) == {1}


def test_an_expired_lease_makes_the_job_claimable_again(db: Database) -> None:
    queued_submission(db)
    queue = JobQueue(db, lease_s=30, max_attempts=3)
    first = queue.claim("hostA:1:1:1")
    assert first is not None and first.attempts == 1
    assert queue.claim("hostB:2:2:2") is None  # leased
    later = utcnow() + timedelta(seconds=31)
    second = queue.claim("hostB:2:2:2", now=later)
    assert second is not None and second.id == first.id and second.attempts == 2
    # the first owner lost the lease: its heartbeat no longer extends it
    assert queue.heartbeat([first.id], "hostA:1:1:1") == 0
    assert queue.heartbeat([first.id], "hostB:2:2:2") == 1


def test_released_job_waits_for_its_backoff(db: Database) -> None:
    queued_submission(db)
    queue = JobQueue(db, lease_s=30, max_attempts=3)
    job = queue.claim("h:1:1:1")
    assert job is not None
    queue.release(job, "transport broke", backoff_s=10)
    assert queue.claim("h:1:1:1") is None
    again = queue.claim("h:1:1:1", now=utcnow() + timedelta(seconds=11))
    assert again is not None and again.attempts == 2
    with db.session() as s:
        assert s.get(JobRow, job.id).last_error == "transport broke"  # type: ignore[union-attr]


def test_jobs_of_a_dead_local_process_are_requeued_at_start(db: Database) -> None:
    queued_submission(db)
    queue = JobQueue(db, lease_s=3600, max_attempts=3)
    # a real process claims the job, then dies without finishing it
    code = (
        "import sys; from pipeline.store.db import Database; from pipeline.service.queue import "
        "JobQueue, lease_owner; db = Database(sys.argv[1], create=False); "
        "job = JobQueue(db, lease_s=3600, max_attempts=3).claim(lease_owner()); "
        "print(job.owner); sys.stdout.flush()"
    )
    out = subprocess.run([sys.executable, "-c", code, db.url], capture_output=True, text=True,
                         check=True)
    owner = out.stdout.strip()
    assert owner_is_gone(owner)
    assert not owner_is_gone(lease_owner())
    assert not owner_is_gone("some-other-host:1:1:1")
    assert queue.claim("h:1:1:1") is None  # still leased for an hour
    assert queue.requeue_orphans() == 1
    job = queue.claim("h:1:1:1")
    assert job is not None and job.attempts == 2


def test_counts_and_done(db: Database) -> None:
    queued_submission(db)
    queued_submission(db)
    queue = JobQueue(db, lease_s=30, max_attempts=3)
    job = queue.claim("h:1:1:1")
    assert job is not None
    with db.session() as s:
        assert JobQueue.mark_done(s, job.id, utcnow())
    with db.session() as s:
        assert not JobQueue.mark_done(s, job.id, utcnow())
    assert queue.counts() == {JobStatus.queued: 1, JobStatus.running: 0, JobStatus.done: 1}


def test_waiting_for_a_verdict_polls_until_it_is_final_or_the_deadline(db: Database, tmp_path: Path) -> None:
    """One loop waits for a verdict (SubmissionService.await_verdict: the route's ?wait= awaits
    it, SubmissionService.wait runs it for the MCP tools): it answers at the deadline while the
    submission is open, and as soon as it has a verdict, not at the deadline."""
    from pipeline.service.claim_responses import RegistryCache
    from pipeline.service.config import ServiceConfig
    from pipeline.service.submission_service import SubmissionService
    from pipeline.service.submissions import SubmissionStore
    from pipeline.service.writelock import WriteGate
    from pipeline.settings import Settings

    sid = queued_submission(db)
    service = SubmissionService(ServiceConfig(), RegistryCache(Settings.load(tmp_path)), SubmissionStore(db),
                                JobQueue(db, lease_s=30, max_attempts=3), WriteGate(db))
    assert service.wait(sid, 0.0).status == SubmissionStatus.queued  # the deadline passed: at once
    started = time.monotonic()
    assert service.wait(sid, 0.3, poll_s=0.05).status == SubmissionStatus.queued
    assert time.monotonic() - started >= 0.3  # open: it waited until its deadline

    # final while a wait is under way (after its first read): answered then, not at the deadline
    # (a deadline of 120 s: a wait that ignored the verdict would outlast the 60 s its result is given)
    read = threading.Event()
    get = service.get

    def reading(submission_id: str):  # type: ignore[no-untyped-def]
        view = get(submission_id)
        read.set()
        return view

    service.get = reading  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiter = pool.submit(service.wait, sid, 120.0)
        assert read.wait(60), "the wait never read the submission"
        with db.session() as s:
            row = s.get(SubmissionRow, sid)
            assert row is not None
            row.status = SubmissionStatus.error
        assert waiter.result(timeout=60).status == SubmissionStatus.error
