"""The one pool of Lean workers, generic over the kind of worker it holds and kept apart from
what the workers are (it knows nothing of Lean and is tested with plain objects and processes).

Two kinds live in it: one-shot compile processes (:class:`~pipeline.lean.process.LeanProcess`,
``max_uses=1``: the wasm Lean runs ``main`` once per process) and resident LSP workers
(:class:`~pipeline.lean.resident.ResidentWorker`, reused until recycled). One lifecycle:

* **key**: each worker is started for a key (a resident worker's file header; ``None`` for
  one-shot processes) and a lease takes an idle worker of its key.
* **start**: a worker is created by the factory and started in the background; the pool waits
  for it to be ready (``ready_timeout_s``). A lease that finds no idle worker of its key, and no
  start under way for it, starts one; when the pool is full it closes the least recently used
  idle worker of another key to make room, else waits for one to come back. A lease gives up
  after ``START_ATTEMPTS`` failed starts of its key (:class:`NoWorkerAvailable`, with the
  worker's stderr) or at its deadline.
* **size** bounds what the pool holds: idle and starting workers, and leased workers that come
  back. A single-use worker (``max_uses=1``) is the lease's once leased (it is closed at the
  end of the lease): busy one-shot processes do not count against the size.
* **recycle**: a worker comes back idle unless the lease ended in an exception, it died, it
  served ``max_uses`` leases, or ``keep(worker)`` says no (a resident worker past its memory
  threshold); a lease may also retire its worker (:attr:`Lease.single_use`).
* **replacement** (spares): ``expected_leases`` (or :meth:`Pool.expect`) declares how many
  leases will still come. While a declaration holds, the pool never starts a worker that no
  declared lease will take: ready and starting workers of a key never outnumber the leases
  still to come (``0``: a one-shot pool, each lease starts its own worker and nothing more).
  A lease beyond the declaration still gets a worker (it starts its own). ``None``, the
  default, is a heuristic: after :meth:`Pool.warm` (a server's pool) every leased worker is
  replaced, otherwise (a command's pool: it may need one worker, or none when its checks are
  cached) replacements start only once a second lease shows that more work comes. A
  replacement starts when the lease ends while another worker of its key is ready, or starting
  with no lease waiting for it (a start-up is CPU-heavy, ~10 s of wasm instantiation, and would
  slow the check beside it on a small machine); else at once.
* **time out**: ``lease`` raises :class:`NoWorkerAvailable` at its deadline.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pipeline.errors import NoWorkerAvailable
from pipeline.models import Frozen

START_ATTEMPTS = 2
"""Failed starts of its key after which a waiting lease gives up."""


class Worker(Protocol):
    def wait_ready(self, timeout_s: float) -> bool: ...
    def alive(self) -> bool: ...
    def close(self) -> None: ...
    def stderr_tail(self) -> str: ...


K = TypeVar("K", bound=Hashable)
W = TypeVar("W", bound=Worker)


class PoolStats(Frozen):
    size: int
    workers: int
    """Held: idle, starting, and leased ones that come back."""
    idle: int
    starting: int
    busy: int
    started: int
    recycled: int
    crashed: int
    """Workers that died idle or during a lease."""
    failures: int
    """Starts that failed."""


@dataclass
class Lease(Generic[W]):
    worker: W
    fresh: bool
    """No lease used this worker before (this lease paid for its start)."""
    single_use: bool = False
    """Close the worker when the lease ends (set it to retire the worker)."""


class Pool(Generic[K, W]):
    def __init__(self, factory: Callable[[K], W], size: int, *, name: str = "Lean",
                 ready_timeout_s: float = 180.0, max_uses: int | None = 1,
                 keep: Callable[[W], bool] | None = None, expected_leases: int | None = None) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self._factory = factory
        self.size = size
        self.name = name
        self.ready_timeout_s = ready_timeout_s
        self.max_uses = max_uses
        self._keep = keep
        self._cond = threading.Condition()
        self._idle: list[tuple[K, W]] = []  # least recently used first
        self._busy: dict[int, tuple[K, W]] = {}
        self._uses: dict[int, int] = {}
        self._starting: Counter[K] = Counter()
        self._waiting: Counter[K] = Counter()
        self._failed: Counter[K] = Counter()
        self._last_error = ""
        self._held = 0
        self._closed = False
        self._warmed = False
        self._leases = 0
        self._expected: int | None = None
        self.started = self.recycled = self.crashed = self.failures = 0
        self.expect(expected_leases)

    @property
    def single_use(self) -> bool:
        return self.max_uses == 1

    def expect(self, leases: int | None) -> None:
        """Declare how many more leases will come (``None``: unknown, the default heuristic)."""
        if leases is not None and leases < 0:
            raise ValueError("expected leases cannot be negative")
        with self._cond:
            self._expected = leases

    def warm(self, key: K, workers: int) -> None:
        """Start up to ``workers`` for ``key`` now (within the size and the declaration); an
        undeclared pool then replaces every leased worker."""
        with self._cond:
            self._warmed = True
            for _ in range(self._budget(workers) - self._spares(key)):
                if self._held >= self.size:
                    break
                self._spawn(key)

    # -- starting -------------------------------------------------------------------------------
    def _budget(self, wanted: int) -> int:
        """At most ``wanted`` workers, and no more than the declared leases still to come."""
        return wanted if self._expected is None else min(wanted, self._expected)

    def _spares(self, key: K) -> int:
        return sum(1 for k, _ in self._idle if k == key) + self._starting[key]

    def _spawn(self, key: K) -> None:
        """Start a worker for ``key`` in the background (under the lock)."""
        if self._closed:
            return
        self._starting[key] += 1
        self._held += 1
        threading.Thread(target=self._start_one, args=(key,), daemon=True).start()

    def _start_one(self, key: K) -> None:
        worker: W | None = None
        error = ""
        try:
            worker = self._factory(key)
            ok = worker.wait_ready(self.ready_timeout_s)
            if not ok:
                error = worker.stderr_tail()
        except Exception as exc:  # noqa: BLE001 - a failed start is counted; the lease retries or says why
            ok = False
            error = f"{exc}\n{getattr(exc, 'stderr', '')}".strip()
        with self._cond:
            self._starting[key] -= 1
            if ok and worker is not None and not self._closed:
                self.started += 1
                self._idle.append((key, worker))
                self._uses[id(worker)] = 0
                worker = None
            else:
                self._held -= 1
                if not ok:
                    self.failures += 1
                    self._failed[key] += 1
                    self._last_error = error
            self._cond.notify_all()
        if worker is not None:
            worker.close()

    def _spawn_spare(self, key: K) -> None:
        """A deferred replacement, unless a declaration since says no lease will take it."""
        with self._cond:
            if self._spares(key) < self._budget(self.size) and self._held < self.size:
                self._spawn(key)

    # -- leasing --------------------------------------------------------------------------------
    @contextmanager
    def lease(self, key: K, timeout_s: float) -> Iterator[Lease[W]]:
        """A ready worker of ``key``, given back (or closed) when the block ends."""
        worker, fresh, deferred = self._take(key, time.monotonic() + timeout_s, timeout_s)
        lease = Lease(worker, fresh)
        ok = False
        try:
            yield lease
            ok = True
        finally:
            self._give_back(lease, ok)
            if deferred:
                self._spawn_spare(key)

    @contextmanager
    def lease_idle(self, key: K) -> Iterator[W | None]:
        """An idle worker of ``key`` used once and then closed (a process whose start was paid
        ahead); ``None`` at once when there is none."""
        with self._cond:
            found = None if self._closed else self._pop_idle(key)
            if found is not None:
                self._mark_busy(key, found)
        if found is None:
            yield None
            return
        try:
            yield found
        finally:
            self._give_back(Lease(found, False, single_use=True), False)

    def can_start(self, key: K) -> bool:
        """Whether a lease of ``key`` would start a worker without closing another."""
        with self._cond:
            return not self._closed and self._held < self.size and not any(k == key for k, _ in self._idle)

    def _pop_idle(self, key: K) -> W | None:
        for i, (k, worker) in enumerate(self._idle):
            if k == key:
                del self._idle[i]
                return worker
        return None

    def _mark_busy(self, key: K, worker: W) -> bool:
        """Lease ``worker`` (under the lock); whether no lease used it before."""
        self._busy[id(worker)] = (key, worker)
        uses = self._uses.get(id(worker), 0)
        self._uses[id(worker)] = uses + 1
        if self.single_use:
            self._held -= 1  # the lease's from now on: it is closed at the end of the lease
        return uses == 0

    def _take(self, key: K, deadline: float, timeout_s: float) -> tuple[W, bool, bool]:
        """(a ready worker, whether it is fresh, whether its replacement is left to the end
        of the lease)."""
        with self._cond:
            self._waiting[key] += 1
            failed_before = self._failed[key]
            try:
                while True:
                    if self._closed:
                        raise NoWorkerAvailable(f"the {self.name} pool is closed")
                    worker = self._pop_idle(key)
                    if worker is not None:
                        if worker.alive():
                            break
                        # died while idle (e.g. killed by the OS under memory pressure)
                        self._forget(worker)
                        self.crashed += 1
                        self._close_unlocked(worker)
                        continue
                    failed = self._failed[key] - failed_before
                    if failed >= START_ATTEMPTS:
                        raise NoWorkerAvailable(
                            f"no {self.name} worker started ({failed} failed starts)", self._last_error)
                    if self._starting[key] < self._waiting[key]:  # nothing starts for this lease
                        if self._held < self.size:
                            self._spawn(key)
                            continue
                        if self._idle:  # full: close the least recently used idle worker first
                            _, evicted = self._idle.pop(0)
                            self._forget(evicted)
                            self.recycled += 1
                            self._close_unlocked(evicted)
                            continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise NoWorkerAvailable(
                            f"no {self.name} worker became free within {timeout_s:.0f}s "
                            f"({self.failures} failed starts)", self._last_error)
                    self._cond.wait(remaining)
            finally:
                self._waiting[key] -= 1
            fresh = self._mark_busy(key, worker)
            self._leases += 1
            if self._expected is not None:  # declared: only for leases still to come
                self._expected = max(0, self._expected - 1)
                replace = self._spares(key) < self._budget(self.size)
            else:  # on demand: from the second lease on
                replace = self._warmed or self._leases > 1
            # at once only when no spare of this key is ready or starting (a start a waiting
            # lease will take is not a spare): a start-up is CPU-heavy, and one spare at a time
            # beside the leases keeps them fast on a small machine
            spare_starting = self._starting[key] > self._waiting[key]
            now = (replace and not spare_starting and not any(k == key for k, _ in self._idle)
                   and self._held < self.size)
            if now:
                self._spawn(key)
            return worker, fresh, replace and not now

    def _close_unlocked(self, worker: W) -> None:
        """Close a worker the pool no longer holds, with the lock released meanwhile (closing
        kills and reaps a process: no other lease waits on that)."""
        self._cond.release()
        try:
            worker.close()
        finally:
            self._cond.acquire()

    def _forget(self, worker: W) -> None:
        """A held worker leaves the pool (under the lock)."""
        self._uses.pop(id(worker), None)
        self._held -= 1

    def _give_back(self, lease: Lease[W], ok: bool) -> None:
        worker = lease.worker
        with self._cond:
            uses = self._uses.get(id(worker), 0)
        keep = (ok and not lease.single_use and (self.max_uses is None or uses < self.max_uses)
                and worker.alive() and (self._keep is None or self._keep(worker)))
        with self._cond:
            key, _ = self._busy.pop(id(worker))
            if keep and not self._closed:
                self._idle.append((key, worker))
                self._cond.notify_all()
                return
            if self.single_use:
                self._uses.pop(id(worker), None)  # no longer held since it was leased
            else:
                self._forget(worker)
            if worker.alive() or lease.single_use or self.single_use:
                self.recycled += 1
            else:
                self.crashed += 1
            self._cond.notify_all()
        worker.close()

    # -- state ----------------------------------------------------------------------------------
    def workers(self) -> list[W]:
        """The workers alive now, idle or leased."""
        with self._cond:
            return [w for _, w in [*self._idle, *self._busy.values()]]

    def stats(self) -> PoolStats:
        with self._cond:
            return PoolStats(size=self.size, workers=self._held, idle=len(self._idle),
                             starting=sum(self._starting.values()), busy=len(self._busy),
                             started=self.started, recycled=self.recycled, crashed=self.crashed,
                             failures=self.failures)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran (a background start then fails on purpose)."""
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for _, worker in idle:
            worker.close()


__all__ = ["START_ATTEMPTS", "Lease", "Pool", "PoolStats", "Worker"]
