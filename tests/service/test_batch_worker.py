"""The service's submission workers on the batched acceptance path: queued submissions of one
claim are claimed together and checked as one Lean module (``Checker.check_all``); each
verdict is recorded on its own submission, a bad one beside good ones is rejected with its own
reason and changes nothing for the others, and nothing is lost.

Real parts: the engine on a tiny built module, a real SQLite queue and store, the real
WorkerPool threads (two Lean compiles: the batch, then the batch without the rejected member;
the ``sorry`` is refused by the policy scan before Lean, as on the one-file path).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pipeline.errors import SequentError
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, CheckResult, Reason
from pipeline.service.claim_responses import RegistryCache
from pipeline.service.config import ServiceConfig
from pipeline.service.migrate import upgrade
from pipeline.service.queue import JobQueue
from pipeline.service.schema import METADATA
from pipeline.service.submission_service import SubmissionService
from pipeline.service.submissions import SubmissionStore
from pipeline.service.tables import SubmissionRow
from pipeline.service.worker import WorkerPool
from pipeline.service.writelock import WriteGate
from pipeline.store.db import Database
from tests.conftest import make_settings, needs_lean
from tests.lean.test_batch import MINI, claim
from tests.waiting import wait_until

pytestmark = [needs_lean]

PROOFS: list[tuple[str, tuple[Reason, ...]]] = [
    ("by intro n; rfl", ()),
    ("fun n => rfl", ()),
    ("by intro n; exact rfl rfl", (Reason.error,)),
    ("by\n  intro n\n  unfold Mini.double\n  rfl", ()),
    ("by sorry", (Reason.sorry,)),
    ("fun n => (Classical.em (n = n)).elim (fun _ => rfl) (fun _ => rfl)", ()),  # choice is allowed here
]


def _service(db: Database, config: ServiceConfig, queue: JobQueue) -> SubmissionService:
    """Submissions of the test's claim (given as a Claim: the registry is never read)."""
    settings = make_settings(Path(db.engine.url.database or ".").parent, pool_size=1)
    return SubmissionService(config, RegistryCache(settings), SubmissionStore(db), queue, WriteGate(db))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[Checker, Database]]:
    root = tmp_path / "proj"
    (root / "Formal").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test\n")
    (root / "Formal" / "Mini.lean").write_text(MINI)
    settings = make_settings(root, pool_size=1)
    db = Database(f"sqlite:///{tmp_path / 'service.db'}", create=False)
    upgrade(db.engine)
    METADATA.create_all(db.engine)
    with Checker(settings, warm=False, db=db) as checker:
        assert not build_project(settings, checker).failures()
        yield checker, db
    db.close()


@pytest.mark.lean
def test_queued_submissions_of_one_claim_are_checked_as_one_batch(engine: tuple[Checker, Database]) -> None:
    checker, db = engine
    config = ServiceConfig(poll_s=0.05, batch_size=8)
    queue = JobQueue(db, lease_s=config.lease_s, max_attempts=config.max_attempts)
    service = _service(db, config, queue)
    ids = [service.accept(claim(), proof, "agent", token_id=None, channel="http").id for proof, _ in PROOFS]
    pool = WorkerPool(engine=lambda: checker, queue=queue, config=config, threads=1)
    pool.start()
    try:
        views = [service.wait(sid, 1800) for sid in ids]
    finally:
        pool.stop()
    for (proof, reasons), view in zip(PROOFS, views, strict=True):
        assert view.status == ("accepted" if not reasons else "rejected"), (proof, view)
        assert view.reasons == reasons, (proof, view.diagnostics)
    # the five that Lean ran went through the batch (the sorry was refused before Lean)
    assert [v.backend for v in views] == ["embedded+batch"] * 4 + ["embedded", "embedded+batch"]
    with db.session() as session:
        for v in views:
            row = session.get(SubmissionRow, v.id)
            assert row is not None and row.result is not None
            if v.status == "accepted":  # audited, so exportable
                assert CheckResult.model_validate(row.result).environment is not None
    assert queue.counts()["done"] == len(PROOFS) and pool.processed == len(PROOFS)


@pytest.mark.parametrize("wait_s", [0.0, 3.0])
def test_a_burst_waits_for_its_batch(tmp_path: Path, wait_s: float) -> None:
    """A worker that claimed a lone submission waits ``batch_wait_s`` for more of its claim:
    a burst arriving just after it shares one batch instead of the first paying a compile of
    its own. Without the wait, the first is checked alone. (Every proof is a ``sorry``, refused
    by the real policy scan before Lean: the test is about who is checked with whom.)"""
    root = tmp_path / "proj"
    (root / "Formal").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test\n")
    db = Database(f"sqlite:///{tmp_path / 'service.db'}", create=False)
    upgrade(db.engine)
    METADATA.create_all(db.engine)
    config = ServiceConfig(poll_s=0.05, batch_size=8, batch_wait_s=wait_s)
    queue = JobQueue(db, lease_s=config.lease_s, max_attempts=config.max_attempts)
    service = _service(db, config, queue)
    calls: list[int] = []
    with Checker(make_settings(root, pool_size=1), warm=False, db=db) as checker:
        class Counted:  # the real engine, counting how many requests each call checks
            def check(self, request: CheckRequest) -> CheckResult:
                calls.append(1)
                return checker.check(request)

            def check_all(self, requests: Sequence[CheckRequest]) -> list[CheckResult | SequentError]:
                calls.append(len(requests))
                return checker.check_all(requests)

        counted = Counted()
        pool = WorkerPool(engine=lambda: counted, queue=queue, config=config, threads=1)
        pool.start()
        try:
            first = service.accept(claim(), "by\n  sorry -- 0", "agent", token_id=None, channel="http").id
            wait_until(lambda: queue.counts().get("running", 0) + queue.counts().get("done", 0) > 0,
                       timeout_s=60, what="the worker claiming the first submission", every_s=0.01)
            rest = [service.accept(claim(), f"by\n  sorry -- {i}", "agent", token_id=None, channel="http").id
                    for i in range(1, 5)]
            views = [service.wait(sid, 60) for sid in [first, *rest]]
        finally:
            pool.stop()
    db.close()
    assert all(v.status == "rejected" and v.reasons == (Reason.sorry,) for v in views)
    if wait_s:
        assert calls == [5]
    else:  # the first alone; the burst in whatever batches its arrival allowed (4 accepts race the poll)
        assert calls[0] == 1 and sum(calls[1:]) == 4, calls
