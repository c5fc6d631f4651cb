"""The iteration strategy: Lean's diagnostics and goal states from a resident worker holding the
file's import header (:mod:`pipeline.lean.resident`; ~0.1 s when one is warm). Same verdict rules
as the acceptance path, but no compiled-environment audit and no cache: an agent's draft, never a
recorded verdict. The resident path never decides acceptance."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from pipeline.errors import InputError
from pipeline.lean.backends import auto_pool_size
from pipeline.lean.interpret import reasons_for
from pipeline.lean.models import CheckRequest, CheckResult, Policy, Severity
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.resident import Goal, ResidentPool, ResidentStats, split_header
from pipeline.lean.verdict import Results, with_imports, within_size
from pipeline.settings import Settings

PoolFactory = Callable[[int, int], ResidentPool]
"""(workers, checks before a worker is recycled) -> a resident pool."""


def iteration_header(request: CheckRequest) -> str:
    """The import header of the file an iteration check of ``request`` runs (the resident
    worker's key, :mod:`pipeline.lean.resident`)."""
    return split_header(with_imports(request.source, request.imports))[0]


def warm_choice(requests: Sequence[CheckRequest], headers: int) -> list[tuple[str, list[CheckRequest]]]:
    """The ``headers`` import headers most ``requests`` share (ties in the requests' order),
    each with its requests: what :meth:`Checker.warm` starts workers for."""
    by_header: dict[str, list[CheckRequest]] = {}
    for request in requests:
        by_header.setdefault(iteration_header(request), []).append(request)
    return sorted(by_header.items(), key=lambda kv: -len(kv[1]))[:headers]


class Iteration:
    """Resident workers, started on first use: diagnostics (:meth:`run`), goals, hovers."""

    label = "+resident"
    cached = False

    def __init__(self, settings: Settings, results: Results, new_pool: PoolFactory,
                 audited: Callable[[CheckRequest], CheckResult]) -> None:
        """``audited``: the acceptance path, for an accepted attempt with ``uncitable`` constants."""
        self.settings, self.results = settings, results
        self._new_pool, self._audited = new_pool, audited
        self._pool: ResidentPool | None = None
        self._lock = threading.Lock()

    def pool(self) -> ResidentPool:
        """The resident worker pool, started on first use."""
        with self._lock:
            if self._pool is None:
                workers = self.settings.resident_workers or auto_pool_size(self.settings)
                self._pool = self._new_pool(workers, self.settings.resident_recycle_checks)
            return self._pool

    def stats(self) -> ResidentStats | None:
        """The resident pool's counters (``None`` before its first use); starts nothing."""
        with self._lock:
            return self._pool.stats() if self._pool is not None else None

    def run(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult:
        """Lean's diagnostics of a file that passed the policy. An attempt with ``uncitable``
        constants (a proof of a claim) that Lean accepted is compiled and audited as the
        acceptance path does, since whether its proof term reaches the claim's own declaration
        is a fact of the compiled environment only (the audited result is cached, so submitting
        the same proof afterwards costs no second compile)."""
        run = self.pool().check(source, self.results.limit(request))
        messages = [m.model_copy(update={"file_name": request.file_name}) for m in run.messages]
        errors = any(m.severity is Severity.error for m in messages)
        raw = RawRun(stdout="", stderr=run.stderr, returncode=None if run.crashed else (1 if errors else 0),
                     elapsed_s=run.elapsed_s, timed_out=run.timed_out, out_of_memory=run.out_of_memory,
                     peak_rss_mb=run.rss_mb)
        reasons = reasons_for(raw, messages, request.policy)
        if not reasons and request.uncitable:
            return self._audited(request)
        result = self.results.decided(reasons, messages, request, key, started, raw_stderr=run.stderr)
        return result.model_copy(update={"backend": f"{result.backend}{self.label}"})

    def _scan_for_state(self, source: str, policy: Policy | None) -> None:
        """Size limit and policy scan (``sorry`` allowed by default) before a resident worker
        elaborates ``source`` for a position request; a violation is an InputError."""
        within_size(source, self.settings.max_file_bytes)
        violations = scan(source, policy or Policy(allow_sorry=True))
        if violations:
            v = violations[0]
            raise InputError(f"line {v.line}:{v.column}: policy ({v.rule}): {v.message}")

    def goals(self, source: str, line: int, column: int, imports: Sequence[str] = (), *,
              policy: Policy | None = None) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of ``source``. The source
        passes the trust policy's scan first (Lean never runs a violation)."""
        full = with_imports(source, imports)
        self._scan_for_state(full, policy)
        added = full.count("\n") - source.count("\n")  # import lines put before the caller's lines
        goal = self.pool().goals(full, line + added, column, self.settings.lean_timeout_s)
        return goal.model_copy(update={"line": line})

    def hovers(self, source: str, points: Sequence[tuple[int, int]], *, policy: Policy | None = None
               ) -> list[str | None]:
        """Lean's hover text (markdown) at each (1-based line, 0-based column) of ``source``;
        the source passes the trust policy's scan first."""
        self._scan_for_state(source, policy)
        return self.pool().hovers(source, points, self.settings.lean_timeout_s)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


__all__ = ["Iteration", "iteration_header", "warm_choice"]
