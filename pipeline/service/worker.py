"""Check workers: threads that claim jobs from the persisted queue, check the Lean request each
job carries with the engine (:class:`~pipeline.lean.checker.Checker`), and record the verdict
and finish the job in one transaction (:meth:`SubmissionStore.record` and
:meth:`JobQueue.mark_done`).

One :class:`WorkerPool` owns its threads and a heartbeat thread from ``start`` to ``stop``.
Lean's verdict (accepted or rejected) is recorded; a broken transport (:class:`LeanError`)
gives the job back to the queue with a backoff until ``max_attempts``, then finishes the
submission as an error. A job claimed more than ``max_attempts`` times (its workers keep
dying on it) is finished as an error without running it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from pipeline.errors import InputError, LeanError, SequentError
from pipeline.lean.models import CheckRequest, CheckResult
from pipeline.service.config import ServiceConfig
from pipeline.service.queue import ClaimedJob, JobQueue, lease_owner
from pipeline.service.submissions import SubmissionStore
from pipeline.store.times import utcnow

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What the workers need of the Lean engine (:class:`~pipeline.lean.checker.Checker`)."""

    def check(self, request: CheckRequest) -> CheckResult: ...

    def check_all(self, requests: Sequence[CheckRequest]) -> list[CheckResult | SequentError]: ...


class WorkerPool:
    """``threads`` workers plus one heartbeat, all daemon threads of this process."""

    def __init__(self, *, engine: Callable[[], Engine], queue: JobQueue, config: ServiceConfig,
                 threads: int) -> None:
        self._engine, self._queue, self._config = engine, queue, config
        """``engine``: the engine, started on first need (``LeanHost.checker``)."""
        self.threads = threads
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._pending_wakeups = 0
        self._held: dict[int, ClaimedJob] = {}
        self._held_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.processed = 0

    # ---- life -------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads or self.threads <= 0 or self._stop.is_set():
            return
        self._queue.requeue_orphans()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"sequent-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        hb = threading.Thread(target=self._heartbeat, name="sequent-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop claiming; wait up to ``grace_s`` for running checks, then give back the rest."""
        self._stop.set()
        self.notify(self.threads)
        for t in self._threads:
            t.join(timeout=grace_s)
        with self._held_lock:
            left = list(self._held.values())
        for job in left:
            self._queue.release(job, "the worker stopped before finishing", backoff_s=0.0)
        self._threads.clear()

    def notify(self, n: int = 1) -> None:
        """Wake idle workers: a job was just queued."""
        with self._wake:
            self._pending_wakeups += n
            self._wake.notify(n)

    @property
    def stopping(self) -> threading.Event:
        """Set once :meth:`stop` was called."""
        return self._stop

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    # ---- threads ----------------------------------------------------------------------
    def _loop(self) -> None:
        owner = lease_owner()
        while not self._stop.is_set():
            try:
                job = self._queue.claim(owner)
            except Exception:  # the database was briefly unavailable: try again later
                log.exception("claiming a job failed")
                job = None
            if job is None:
                self._idle()
                continue
            jobs = [job]
            with self._held_lock:
                self._held[job.id] = job
            try:
                if self._config.batch_size > 1:
                    jobs += self._claim_more(job, self._config.batch_size - 1)
                    if len(jobs) < self._config.batch_size and self._config.batch_wait_s > 0 \
                            and not self._stop.wait(self._config.batch_wait_s):
                        jobs += self._claim_more(job, self._config.batch_size - len(jobs))
                if len(jobs) == 1:
                    self._process(job)
                else:
                    self._process_batch(jobs)
            finally:
                with self._held_lock:
                    for j in jobs:
                        self._held.pop(j.id, None)

    def _claim_more(self, first: ClaimedJob, limit: int) -> list[ClaimedJob]:
        """Up to ``limit`` more queued jobs of ``first``'s claim, leased and held by this worker."""
        try:
            more = self._queue.claim_like(first, limit)
        except Exception:  # the database was briefly unavailable: check what is held
            log.exception("claiming more jobs of the claim failed")
            return []
        with self._held_lock:
            self._held.update((j.id, j) for j in more)
        return more

    def _idle(self) -> None:
        with self._wake:
            if self._pending_wakeups == 0:
                self._wake.wait(timeout=self._config.poll_s)
            self._pending_wakeups = max(self._pending_wakeups - 1, 0)

    def _process(self, job: ClaimedJob) -> None:
        try:
            if self._gave_up(job):
                return
            result = self._engine().check(self._request(job))
            self.finish(job, result=result)
            self.processed += 1
        except Exception as exc:  # noqa: BLE001 - _failed logs it and never lets it kill the worker
            self._failed(job, exc)

    def _process_batch(self, jobs: list[ClaimedJob]) -> None:
        """Jobs of one claim checked together (``Checker.check_all``: one Lean module for
        those it can batch, each verdict the one it would get alone); each is recorded, given
        back or failed on its own."""
        runnable: list[tuple[ClaimedJob, CheckRequest]] = []
        for job in jobs:
            try:
                if not self._gave_up(job):
                    runnable.append((job, self._request(job)))
            except Exception as exc:  # noqa: BLE001 - _failed logs it and never lets it kill the worker
                self._failed(job, exc)
        if not runnable:
            return
        try:
            results = self._engine().check_all([request for _job, request in runnable])
        except Exception as exc:  # noqa: BLE001 - _failed logs it and never lets it kill the worker
            for job, _request in runnable:
                self._failed(job, exc)
            return
        for (job, _request), result in zip(runnable, results, strict=True):
            try:
                if isinstance(result, CheckResult):
                    self.finish(job, result=result)
                    self.processed += 1
                else:
                    self._failed(job, result)
            except Exception as exc:  # noqa: BLE001 - _failed logs it and never lets it kill the worker
                self._failed(job, exc)

    def _request(self, job: ClaimedJob) -> CheckRequest:
        """The request built at acceptance, under this worker's time limit."""
        if job.request is None:
            raise InputError("this submission was queued without its Lean request; submit it again")
        return job.request.model_copy(update={"timeout_s": self._config.submission_timeout_s})

    def finish(self, job: ClaimedJob, *, result: CheckResult | None = None, error: str | None = None) -> bool:
        """Record Lean's verdict (or ``error``: the submission could not be checked) and finish
        the job, in one transaction; False if the submission already had a verdict."""
        return finish_job(self._queue, job.id, job.submission_id, result=result, error=error)

    def _gave_up(self, job: ClaimedJob) -> bool:
        if job.attempts <= self._config.max_attempts:
            return False
        self.finish(job, error=f"gave up: the check was started {job.attempts - 1} times and never finished")
        return True

    def _failed(self, job: ClaimedJob, exc: Exception) -> None:
        """A job whose check raised: a broken transport is retried with a backoff, bad input
        (the engine refused the request itself) fails the submission, anything else is retried;
        nothing here kills the worker."""
        retry = job.attempts < self._config.max_attempts
        try:
            if isinstance(exc, InputError):
                self.finish(job, error=str(exc))
            elif isinstance(exc, LeanError):
                if retry:
                    self._queue.release(job, str(exc), backoff_s=min(2.0**job.attempts, 60.0))
                else:
                    self.finish(job, error=f"Lean could not check this submission: {exc}")
            else:
                log.error("job %s failed unexpectedly", job.id, exc_info=exc)
                if retry:
                    self._queue.release(job, repr(exc), backoff_s=min(2.0**job.attempts, 60.0))
                else:
                    self.finish(job, error=f"internal error: {type(exc).__name__}")
        except Exception:
            log.exception("could not give job %s back; its lease will expire", job.id)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self._config.heartbeat_s):
            with self._held_lock:
                by_owner: dict[str, list[int]] = {}
                for job in self._held.values():
                    by_owner.setdefault(job.owner, []).append(job.id)
            for owner, ids in by_owner.items():
                try:
                    self._queue.heartbeat(ids, owner)
                except Exception:
                    log.exception("heartbeat failed")


def finish_job(queue: JobQueue, job_id: int, submission_id: str, *, result: CheckResult | None = None,
               error: str | None = None) -> bool:
    """Record a submission's verdict (or ``error``) and finish its job, in one transaction;
    False if the submission already had a verdict."""
    now = utcnow()
    with queue.transaction() as session:
        changed = SubmissionStore.record(session, submission_id, now, result=result, error=error)
        JobQueue.mark_done(session, job_id, now, error=error)
    return changed


__all__ = ["Engine", "WorkerPool", "finish_job"]
