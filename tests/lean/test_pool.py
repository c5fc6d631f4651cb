"""The one worker pool (pipeline.lean.pool), without Lean: the pool knows nothing of what its
workers are, so these tests lease plain in-process workers (and, in test_process.py, real
processes). Both kinds the engine uses are covered: single-use workers (one-shot compiles) and
reusable workers keyed by a header (the resident path)."""

from __future__ import annotations

import threading

import pytest

from pipeline.errors import NoWorkerAvailable
from pipeline.lean.pool import START_ATTEMPTS, Pool
from tests.waiting import wait_until


class _Worker:
    """An in-process worker: ready at once (or never), alive until closed or marked dead."""

    def __init__(self, key: str | None = None, ready: bool = True) -> None:
        self.key = key
        self.ok = ready
        self.closed = False
        self.dead = False

    def wait_ready(self, timeout_s: float) -> bool:
        return self.ok

    def alive(self) -> bool:
        return not self.closed and not self.dead

    def close(self) -> None:
        self.closed = True

    def stderr_tail(self) -> str:
        return "" if self.ok else "it could not start"


def _one_shot(size: int, **kw: object) -> Pool[None, _Worker]:
    return Pool(lambda _key: _Worker(), size, **kw)  # type: ignore[arg-type]


def _keyed(size: int, **kw: object) -> Pool[str, _Worker]:
    return Pool(_Worker, size, max_uses=None, expected_leases=0, **kw)  # type: ignore[arg-type]


def _settled(pool: Pool[None, _Worker], free: int) -> None:
    wait_until(lambda: pool.stats().idle == free and pool.stats().starting == 0, timeout_s=5,
               what=f"{free} idle workers", detail=pool.stats)


# -- single-use workers (one-shot compiles) ---------------------------------------------------


def test_single_use_workers_are_closed_after_their_lease_and_replaced() -> None:
    pool = _one_shot(2)
    pool.warm(None, 2)
    used = []
    for _ in range(5):
        with pool.lease(None, 5) as lease:
            assert lease.fresh
            used.append(lease.worker)
    assert all(w.closed for w in used) and len({id(w) for w in used}) == 5
    _settled(pool, 2)
    pool.close()


def test_a_start_that_fails_is_retried_then_reported() -> None:
    starts: list[_Worker] = []

    def broken(_key: None) -> _Worker:
        starts.append(_Worker(ready=False))
        return starts[-1]

    pool: Pool[None, _Worker] = Pool(broken, 1)
    with pytest.raises(NoWorkerAvailable, match="failed starts") as caught, pool.lease(None, 30):
        pass
    assert caught.value.stderr == "it could not start"
    assert len(starts) == START_ATTEMPTS and all(w.closed for w in starts)
    assert pool.stats().failures == START_ATTEMPTS and pool.stats().workers == 0
    pool.close()


@pytest.mark.parametrize("warm", [True, False])
def test_concurrent_leases_each_get_their_own_worker(warm: bool) -> None:
    pool = _one_shot(2)
    if warm:
        pool.warm(None, 2)
    got: list[int] = []
    inside = threading.Barrier(6)

    def take() -> None:
        with pool.lease(None, 5) as lease:
            inside.wait(5)  # all six leases hold a worker at once
            got.append(id(lease.worker))

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 6
    pool.close()


def test_a_worker_that_died_idle_is_not_leased() -> None:
    pool = _one_shot(1)
    pool.warm(None, 1)
    _settled(pool, 1)
    idle = pool.workers()[0]
    idle.dead = True
    with pool.lease(None, 5) as lease:
        assert lease.worker is not idle and lease.worker.alive()
    assert idle.closed and pool.stats().crashed == 1
    pool.close()


def test_a_replacement_starts_after_the_lease_while_others_are_ready() -> None:
    pool = _one_shot(2)
    pool.warm(None, 2)
    _settled(pool, 2)
    with pool.lease(None, 5):
        # another worker is ready: no start-up runs beside this lease
        assert pool.stats().starting == 0 and pool.stats().idle == 1
        with pool.lease(None, 5):
            # that was the last ready worker: its replacement starts at once
            _settled(pool, 1)
            assert pool.stats().busy == 2
    _settled(pool, 2)
    assert pool.stats().started == 4 and pool.stats().workers == 2
    pool.close()


def test_one_start_up_at_a_time_runs_beside_a_lease() -> None:
    """An accepted check leases twice (the compile, then the replay): the replay's lease takes
    the last ready worker while the compile's replacement is still starting. Its own
    replacement waits for the lease's end, so the replay runs beside one start-up, not two."""
    gate = threading.Event()
    made: list[_Worker] = []

    def factory(_key: None) -> _Worker:
        worker = _Worker()
        if len(made) >= 2:  # the replacements start slowly (the first two are the warm ones)
            worker.wait_ready = lambda timeout_s: gate.wait(timeout_s)  # type: ignore[method-assign]
        made.append(worker)
        return worker

    pool: Pool[None, _Worker] = Pool(factory, 2)
    pool.warm(None, 2)
    _settled(pool, 2)
    with pool.lease(None, 5):
        pass  # another was ready: its replacement starts as this lease ends ...
    wait_until(lambda: len(made) == 3, timeout_s=5, what="the first replacement")
    assert pool.stats().starting == 1  # ... and is still starting
    with pool.lease(None, 5):
        assert len(made) == 3 and pool.stats().starting == 1  # no second start-up beside it
    wait_until(lambda: len(made) == 4, timeout_s=5, what="the second replacement, after the lease")
    gate.set()
    _settled(pool, 2)
    assert pool.stats().started == 4
    pool.close()


def test_an_on_demand_pool_starts_only_what_is_leased() -> None:
    pool = _one_shot(2)
    assert pool.stats().started == 0  # nothing up front: a cached command never pays a start
    with pool.lease(None, 5):
        pass
    _settled(pool, 0)
    assert pool.stats().started == 1  # one check, one start
    with pool.lease(None, 5):
        # a second lease: more work is coming, so the replacement starts beside it
        _settled(pool, 1)
    assert pool.stats().started == 3
    pool.close()


@pytest.mark.parametrize("warm", [True, False])
def test_a_declared_pool_starts_no_worker_that_no_lease_takes(warm: bool) -> None:
    """The caller says how many leases will come: the last lease leaves nothing starting or
    ready behind (the undeclared pool above starts a third worker for two leases)."""
    pool = _one_shot(2, expected_leases=3)
    if warm:
        pool.warm(None, 2)
    for _ in range(3):
        with pool.lease(None, 5):
            pass
    _settled(pool, 0)
    assert pool.stats().started == 3
    with pool.lease(None, 5):  # a lease beyond the declaration still gets a worker, its own
        pass
    assert pool.stats().started == 4
    pool.close()

    one_shot = _one_shot(2, expected_leases=0)
    if warm:
        one_shot.warm(None, 2)
    for _ in range(2):
        with one_shot.lease(None, 5):
            pass
    _settled(one_shot, 0)
    assert one_shot.stats().started == 2
    one_shot.expect(None)  # undeclared again: the heuristic replaces what is leased
    with one_shot.lease(None, 5):
        _settled(one_shot, 1)
    one_shot.close()


# -- reusable workers keyed by a header (the resident path) -----------------------------------


def test_a_keyed_worker_is_reused_for_its_key_only() -> None:
    pool = _keyed(2)
    with pool.lease("A", 5) as first:
        assert first.fresh and first.worker.key == "A"
    with pool.lease("A", 5) as again:
        assert again.worker is first.worker and not again.fresh
    with pool.lease("B", 5) as other:
        assert other.fresh and other.worker.key == "B"
    assert pool.stats().workers == 2 and pool.stats().idle == 2 and pool.stats().started == 2
    pool.close()
    assert first.worker.closed and other.worker.closed


def test_a_full_pool_closes_its_least_recently_used_idle_worker_for_a_new_key() -> None:
    made: list[_Worker] = []
    alive_at_start: list[int] = []

    def factory(key: str) -> _Worker:  # how many workers were alive when this one started
        alive_at_start.append(sum(1 for w in made if not w.closed))
        made.append(_Worker(key))
        return made[-1]

    pool: Pool[str, _Worker] = Pool(factory, 2, max_uses=None, expected_leases=0)
    for key in ("A", "B", "A"):
        with pool.lease(key, 5):
            pass
    b = next(w for w in pool.workers() if w.key == "B")
    with pool.lease("C", 5) as c:
        assert c.fresh and c.worker.key == "C"
    assert b.closed and {w.key for w in pool.workers()} == {"A", "C"}
    assert alive_at_start == [0, 1, 1]  # B was closed before C started: never three at once
    assert pool.stats().workers == 2 and pool.stats().recycled == 1
    pool.close()


def test_a_full_pool_waits_for_a_worker_to_come_back_and_times_out() -> None:
    pool = _keyed(1)
    with pool.lease("A", 5):
        with pytest.raises(NoWorkerAvailable, match="became free"), pool.lease("B", 0.2):
            pass
        got: list[str | None] = []
        waiter = threading.Thread(target=lambda: got.append(_lease_key(pool, "B")))
        waiter.start()
        wait_until(lambda: pool._waiting["B"] == 1, timeout_s=5, what="a lease waiting")
    waiter.join(5)
    assert got == ["B"] and pool.stats().workers == 1
    pool.close()


def _lease_key(pool: Pool[str, _Worker], key: str) -> str | None:
    with pool.lease(key, 5) as lease:
        return lease.worker.key


def test_workers_are_recycled_by_uses_memory_death_and_failure() -> None:
    heavy: set[int] = set()
    pool: Pool[str, _Worker] = Pool(_Worker, 2, max_uses=3, expected_leases=0,
                                    keep=lambda w: id(w) not in heavy)
    workers = []
    for _ in range(4):  # three uses, then a new worker
        with pool.lease("A", 5) as lease:
            workers.append(lease.worker)
    assert workers[0] is workers[2] and workers[0].closed and workers[3] is not workers[0]
    with pool.lease("A", 5) as lease:  # past its memory threshold: recycled
        heavy.add(id(lease.worker))
    assert lease.worker.closed and pool.stats().recycled == 2
    with pool.lease("A", 5) as lease:  # died during the lease: crashed
        lease.worker.dead = True
    with pytest.raises(RuntimeError), pool.lease("A", 5) as failed:  # the lease failed
        raise RuntimeError("the check failed")
    assert failed.worker.closed and pool.stats().crashed == 1 and pool.stats().recycled == 3
    assert pool.stats().workers == 0
    pool.close()


def test_lease_idle_takes_a_worker_started_ahead_once() -> None:
    pool = _keyed(2)
    assert pool.can_start("R")
    with pool.lease_idle("R") as none:
        assert none is None  # nothing started ahead: no wait, no start
    with pool.lease("R", 5):  # started ahead
        pass
    assert not pool.can_start("R")
    with pool.lease_idle("R") as worker:
        assert worker is not None and worker.key == "R"
    assert worker.closed and pool.stats().workers == 0 and pool.stats().recycled == 1
    pool.close()


def test_closing_the_pool_wakes_its_waiters_and_closes_what_comes_back() -> None:
    pool = _keyed(1)
    errors: list[BaseException] = []

    def wait_for_b() -> None:
        try:
            _lease_key(pool, "B")
        except NoWorkerAvailable as exc:
            errors.append(exc)

    with pool.lease("A", 5) as lease:
        waiter = threading.Thread(target=wait_for_b)
        waiter.start()
        wait_until(lambda: pool._waiting["B"] == 1, timeout_s=5, what="a lease waiting")
        pool.close()
        waiter.join(5)
    assert errors and "closed" in str(errors[0])
    assert lease.worker.closed
    with pytest.raises(NoWorkerAvailable, match="closed"), pool.lease("A", 5):
        pass


def test_a_slow_start_serves_the_lease_that_waits_for_it() -> None:
    gate = threading.Event()

    class Slow(_Worker):
        def wait_ready(self, timeout_s: float) -> bool:
            return gate.wait(timeout_s)

    pool: Pool[str, _Worker] = Pool(Slow, 1, max_uses=None, expected_leases=0)
    got: list[str | None] = []
    waiter = threading.Thread(target=lambda: got.append(_lease_key(pool, "A")))
    waiter.start()
    wait_until(lambda: pool.stats().starting == 1, timeout_s=5, what="a start under way")
    gate.set()
    waiter.join(5)
    assert got == ["A"] and pool.stats().started == 1
    pool.close()
