"""Submitting a proof and reading its verdict: the front of one submission's path.

:meth:`SubmissionService.submit` builds the Lean request once
(:func:`~pipeline.service.submissions.submission_request`), then, in one transaction in which
the token was admitted under its limits (:func:`~pipeline.service.admission.admitted`), inserts
the submission (:class:`~pipeline.service.submissions.SubmissionStore`) and queues its job
carrying that request (:class:`~pipeline.service.queue.JobQueue`), and wakes a worker. The
workers (:mod:`pipeline.service.worker`) take it from there. :meth:`SubmissionService.await_verdict`
is the one loop that waits for a verdict (the HTTP route awaits it; :meth:`SubmissionService.wait`
runs it for the MCP tools).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime

import anyio
import anyio.to_thread

from pipeline.claims.models import Claim
from pipeline.errors import InputError, SequentError
from pipeline.service.admission import admitted
from pipeline.service.claim_responses import RegistryCache
from pipeline.service.config import ServiceConfig
from pipeline.service.ids import new_id
from pipeline.service.models import SubmissionAccepted, SubmissionIn, SubmissionPage, SubmissionView
from pipeline.service.queue import JobQueue
from pipeline.service.submissions import SubmissionStore, submission_request
from pipeline.service.tables import SubmissionStatus
from pipeline.service.worker import finish_job
from pipeline.service.writelock import WriteGate

log = logging.getLogger(__name__)


class SubmissionService:
    """Submit, read, list and wait for submissions (HTTP routes, MCP tools, CLI)."""

    def __init__(self, config: ServiceConfig, registry: RegistryCache, store: SubmissionStore, queue: JobQueue,
                 gate: WriteGate, *, notify: Callable[[], None] = lambda: None) -> None:
        self._config, self._registry, self._store, self._queue, self._gate = config, registry, store, queue, gate
        self._notify = notify
        """Wakes an idle worker (the composition passes ``WorkerPool.notify``)."""
        self.wait_max_s = config.wait_max_s
        """The longest an HTTP caller may wait for a verdict (``?wait=``)."""

    def submit(self, sub: SubmissionIn, *, token_id: str | None, channel: str) -> SubmissionAccepted:
        """A proof of a registry claim (unknown claim: 404)."""
        return self.accept(self._registry.claim(sub.claim_id), sub.proof, sub.agent, token_id=token_id,
                           channel=channel)

    def accept(self, claim: Claim, proof: str, agent: str, *, token_id: str | None, channel: str,
               url_prefix: str = "/v1/submissions/") -> SubmissionAccepted:
        """Build the request once, insert the submission and queue its job carrying it (one
        transaction, the token admitted in it), and wake a worker."""
        agent = agent.strip()
        if not agent or len(agent) > self._config.max_agent_chars:
            raise InputError(f"agent must have 1 to {self._config.max_agent_chars} characters")
        request = submission_request(claim, proof, self._config)
        sid = new_id()
        with admitted(self._gate, token_id, opens_submission=True) as (session, now):
            self._store.insert(session, sid, claim, proof, agent, request, token_id=token_id,
                               channel=channel, now=now)
            JobQueue.enqueue(session, sid, request, now)
        self._notify()
        return SubmissionAccepted(id=sid, status="queued", claim_id=claim.id, url=f"{url_prefix}{sid}")

    def get(self, submission_id: str) -> SubmissionView:
        return self._store.get(submission_id)

    def page(self, *, claim_id: str | None = None, agent: str | None = None, verdict: str | None = None,
             since: datetime | None = None, limit: int = 50, cursor: str | None = None) -> SubmissionPage:
        """Submissions newest first, filtered by claim, agent, verdict (or status) and creation
        time; ``cursor``: the previous page's ``next_cursor``."""
        if claim_id is not None:
            self._registry.claim(claim_id)  # an unknown claim is a 404, not an empty page
        return self._store.page(claim_id=claim_id, agent=agent, status=verdict, since=since,
                                limit=limit, before=cursor)

    async def await_verdict(self, submission_id: str, timeout_s: float, *, poll_s: float = 0.1) -> SubmissionView:
        """The submission once it has a verdict, or as it is after ``timeout_s``: the one loop
        that waits for a verdict (each read in a worker thread; no thread held meanwhile)."""
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            view = await anyio.to_thread.run_sync(self.get, submission_id)
            remaining = deadline - time.monotonic()
            if view.status in SubmissionStatus.final or remaining <= 0:
                return view
            await anyio.sleep(min(poll_s, max(remaining, 0.01)))

    def wait(self, submission_id: str, timeout_s: float, *, poll_s: float = 0.1) -> SubmissionView:
        """:meth:`await_verdict` from a thread without an event loop (the MCP tools, the CLI)."""
        return anyio.run(functools.partial(self.await_verdict, submission_id, timeout_s, poll_s=poll_s))

    def fill_requests(self) -> int:
        """At start: the Lean request of each open job an older version queued without one,
        built as acceptance builds it; a job whose claim left the registry fails its
        submission with a message. Returns how many jobs were filled or failed."""
        done = 0
        for job_id, submission_id in self._queue.without_request():
            claim_id, proof = self._store.claim_and_proof(submission_id)
            try:
                request = submission_request(self._registry.claim(claim_id), proof, self._config)
            except SequentError as exc:
                finish_job(self._queue, job_id, submission_id, error=f"cannot be checked: {exc}")
            else:
                self._queue.fill_request(job_id, request)
            done += 1
        return done


__all__ = ["SubmissionService"]
