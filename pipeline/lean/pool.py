"""A pool of pre-started, one-shot workers, kept apart from what the workers are.

Workers are created by a factory and are used once (the wasm Lean runs ``main`` once per
process); each lease is followed by a replacement started in the background. While other
ready workers remain, the replacement starts when the lease ends, not while the leased worker
works: a start-up is CPU-heavy (~10 s of wasm instantiation) and would slow the check beside it
on a small machine. When the lease takes the last ready worker, it starts at once. Free and busy
sets live under one condition variable; ``lease`` raises :class:`NoWorkerAvailable` at
its deadline. The pool knows nothing of Lean and is tested with plain processes.

``prestart=False`` (a command's pool: it may need one worker, or none when its checks are
cached) starts nothing up front: a lease that finds no ready worker starts one for itself, and
replacements start only once a second lease shows that more work comes. A start-up costs
seconds of CPU, so a worker nobody leases is pure waste on a small machine.

``expected_leases`` (or :meth:`WarmPool.expect`): the caller declares how many leases will
still come. While a declaration holds, the pool never starts a worker that no declared lease
will take: ready and starting workers never outnumber the leases still to come (a command that
checks once declares 0, a one-shot pool: each lease starts its own worker and nothing more).
A lease beyond the declaration still gets a worker (it starts its own); ``None``, the default,
is the heuristic above (the service's warm pool replaces every leased worker).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

from pipeline.errors import NoWorkerAvailable


class Worker(Protocol):
    def wait_ready(self, timeout_s: float) -> bool: ...
    def alive(self) -> bool: ...
    def close(self) -> None: ...


W = TypeVar("W", bound=Worker)


class WarmPool(Generic[W]):
    def __init__(self, factory: Callable[[], W], size: int, *, ready_timeout_s: float = 180.0,
                 prestart: bool = True, expected_leases: int | None = None) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self._factory = factory
        self.size = size
        self._ready_timeout_s = ready_timeout_s
        self._cond = threading.Condition()
        self._free: list[W] = []
        self._starting = 0
        self._busy: set[int] = set()
        self._closed = False
        self._waiting = 0
        self._prestart = prestart
        self._leases = 0
        self._expected: int | None = None
        self.started = 0
        self.failures = 0
        self.expect(expected_leases)
        if prestart:
            for _ in range(self._budget(size)):
                self._spawn()

    def expect(self, leases: int | None) -> None:
        """Declare how many more leases will come (``None``: unknown, the default heuristic)."""
        if leases is not None and leases < 0:
            raise ValueError("expected leases cannot be negative")
        with self._cond:
            self._expected = leases

    def _budget(self, wanted: int) -> int:
        """At most ``wanted`` workers, and no more than the declared leases still to come."""
        return wanted if self._expected is None else min(wanted, self._expected)

    def _spawn(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._starting += 1
        threading.Thread(target=self._start_one, daemon=True).start()

    def _start_one(self) -> None:
        worker: W | None = None
        try:
            worker = self._factory()
            ok = worker.wait_ready(self._ready_timeout_s)
        except Exception:  # noqa: BLE001 - a failed start is counted and retried by the next lease
            ok = False
        with self._cond:
            self._starting -= 1
            self.started += 1
            if ok and worker is not None and not self._closed:
                self._free.append(worker)
                worker = None
            elif not ok:
                self.failures += 1
            self._cond.notify_all()
        if worker is not None:
            worker.close()

    @contextmanager
    def lease(self, timeout_s: float) -> Iterator[W]:
        """A ready worker for one use; its replacement starts at once if it was the last
        ready one, else when the lease ends (on demand: none for the pool's first lease)."""
        deadline = time.monotonic() + timeout_s
        while True:
            worker, deferred = self._take(deadline, timeout_s)
            if worker.alive():
                break
            # died while idle (e.g. killed by the OS under memory pressure): replace it
            with self._cond:
                self._busy.discard(id(worker))
                self.failures += 1
            worker.close()
            if deferred:
                self._spawn_spare()
        try:
            yield worker
        finally:
            with self._cond:
                self._busy.discard(id(worker))
                self._cond.notify_all()
            worker.close()
            if deferred:
                self._spawn_spare()

    def _spawn_spare(self) -> None:
        """A deferred replacement, unless a declaration since says no lease will take it."""
        with self._cond:
            wanted = len(self._free) + self._starting < self._budget(self.size)
        if wanted:
            self._spawn()

    def _take(self, deadline: float, timeout_s: float) -> tuple[W, bool]:
        """(a ready worker, whether its replacement is left to the end of the lease)."""
        with self._cond:
            self._waiting += 1
            try:
                while not self._free:
                    if self._closed:
                        raise NoWorkerAvailable("the Lean pool is closed")
                    if self._starting < min(self._waiting, self.size):
                        # nothing is starting for this lease (on demand, or every start failed)
                        self._cond.release()
                        try:
                            self._spawn()
                        finally:
                            self._cond.acquire()
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise NoWorkerAvailable(
                            f"no Lean worker became free within {timeout_s:.0f}s "
                            f"({self.failures} failed starts)"
                        )
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
            worker = self._free.pop(0)
            self._busy.add(id(worker))
            self._leases += 1
            if self._expected is not None:  # declared: only for leases still to come
                self._expected = max(0, self._expected - 1)
                replace = len(self._free) + self._starting < self._budget(self.size)
            else:
                replace = self._prestart or self._leases > 1  # on demand: from the second lease on
            later = replace and bool(self._free)
            now = replace and not self._free and self._starting < self.size
        if now:
            self._spawn()
        return worker, later

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {
                "size": self.size,
                "free": len(self._free),
                "starting": self._starting,
                "busy": len(self._busy),
                "started": self.started,
                "failures": self.failures,
            }

    def close(self) -> None:
        with self._cond:
            self._closed = True
            free, self._free = self._free, []
            self._cond.notify_all()
        for worker in free:
            worker.close()


__all__ = ["WarmPool", "Worker"]
