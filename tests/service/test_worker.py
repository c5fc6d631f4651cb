"""Workers on the real queue: a job whose workers keep dying is given up, not retried forever."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.claims.registry import load_registry
from pipeline.service.config import ServiceConfig
from pipeline.service.models import SubmissionIn
from pipeline.service.services import open_services
from pipeline.settings import Settings
from pipeline.store.times import utcnow
from tests.service.fixtures import with_db


def test_a_job_claimed_too_often_is_finished_as_an_error(
    service_settings: Settings, tmp_path: Path
) -> None:
    settings = with_db(service_settings, tmp_path)
    claim = load_registry(settings).claims[0]
    config = ServiceConfig(max_attempts=2, lease_s=30, poll_s=0.05)
    with open_services(settings, config, worker_threads=1) as core:
        sub = core.submissions.submit(SubmissionIn(claim_id=claim.id, proof="by\n  sorry", agent="t"),
                                      token_id=None, channel="http")
        later = utcnow()
        for dead_worker in ("gone-host:1:1:1", "gone-host:2:2:2"):  # two workers died on it
            later += timedelta(seconds=31)
            job = core.queue.claim(dead_worker, now=later)
            assert job is not None and job.submission_id == sub.id
        # the third claim happens once the last lease has run out
        core.queue.heartbeat([job.id], "gone-host:2:2:2", now=utcnow() - timedelta(seconds=60))
        core.workers.start()
        view = core.submissions.wait(sub.id, 30)
        assert view.status == "error" and view.error is not None and "gave up" in view.error
        assert view.verdict is None
        assert core.queue.counts()["done"] == 1
        # finished means immutable: a late writer (a worker whose lease ran out) changes nothing
        assert core.workers.finish(job, error="late") is False
        assert core.submissions.get(sub.id).error == view.error


def test_a_job_queued_without_its_request_gets_it_at_start(service_settings: Settings, tmp_path: Path) -> None:
    """A job an older version queued (no request in the job) is given the request acceptance
    builds, at start; one whose claim left the registry is finished as an error that says why.
    Nothing is checked from a request rebuilt any other way (no Lean here)."""
    from sqlalchemy import null, update

    from pipeline.service.submissions import submission_request
    from pipeline.service.tables import JobRow, SubmissionRow

    settings = with_db(service_settings, tmp_path)
    claim = load_registry(settings).claims[0]
    config = ServiceConfig()
    with open_services(settings, config, worker_threads=0) as services:
        kept = services.submissions.submit(SubmissionIn(claim_id=claim.id, proof="by\n  trivial", agent="t"),
                                           token_id=None, channel="http")
        gone = services.submissions.submit(SubmissionIn(claim_id=claim.id, proof="by\n  simp", agent="t"),
                                           token_id=None, channel="http")
        with services.db.session() as s:  # as an older version left them
            s.execute(update(JobRow).values(request=null()))  # SQL NULL, as migration 0002 adds it
            s.execute(update(SubmissionRow).where(SubmissionRow.id == gone.id).values(claim_id="no_such_claim"))
    with open_services(settings, config, worker_threads=0) as services:
        job = services.queue.claim("h:1:1:1")
        assert job is not None and job.submission_id == kept.id
        assert job.request == submission_request(claim, "by\n  trivial", config)
        failed = services.submissions.get(gone.id)
        assert failed.status == "error" and failed.error is not None and "no_such_claim" in failed.error
        assert services.queue.counts()["done"] == 1
        assert services.submissions.fill_requests() == 0  # once
