"""The engine's public API: everything that checks Lean goes through :class:`Checker` (the CLI,
claims, build, gate, agents, service). One way in for each thing it does:

==========================  ==============================================================
the audited verdict         :meth:`Checker.check` (one request), :meth:`Checker.check_all`
                            (several: the one path, ``check`` is it for one request)
iteration diagnostics       :meth:`Checker.diagnose`
goal states                 :meth:`Checker.goals`
build                       :func:`pipeline.lean.build.build_project` (its modules through
                            ``Checker.compiler.compile_module``)
the compiled environment    :meth:`Checker.environment` (built modules, decoded), and
                            :meth:`Checker.lookup` (search and declarations)
counters                    :meth:`Checker.stats` (the resident workers; starts nothing)
==========================  ==============================================================

Its parts (``builds``, ``iteration``, ``compiler``, ``replayer``...) are the engine's own:
nothing outside :mod:`pipeline.lean` reaches into them.

How a request runs is a strategy chosen inside, never by the caller: a file on its own
(:class:`~pipeline.lean.acceptance.Compiler`), several submissions of one statement as one
module (:class:`~pipeline.lean.batching.SharedModule`), or a resident worker for the iteration
path (:class:`~pipeline.lean.iteration.Iteration`). Every strategy runs behind the same steps::

    source ──► size/UTF-8 limits ──► cache key ──► cache hit? ──► result   (acceptance only)
                                         ▼
                                    policy.scan ── violations: rejected (Lean never runs the file)
                                         ▼
                          strategy: `lean -o` in a session ──► interpret ──► environment audit ──►
                          kernel replay ──► CheckResult ──► cache          (acceptance)
                          or a resident worker's diagnostics ──► same reasons (iteration)

Every verdict that can be ``accepted`` on the acceptance path passed the compiled-environment
audit of the ``.olean`` this pipeline's Lean produced: the token policy is the fast first filter
with the best messages, the compiled environment is the last word. The resident path never
decides acceptance (an iteration attempt citing ``uncitable`` constants that Lean accepted is
handed to the acceptance path).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, Self

from pipeline.errors import SequentError
from pipeline.lean.acceptance import Compiler
from pipeline.lean.backends import Backend, auto_pool_size, open_backend
from pipeline.lean.batching import SharedModule, groups, member
from pipeline.lean.builds import MANIFEST, OUTPUT_SUFFIXES, Builds, keep_parts, load_manifest
from pipeline.lean.cache import ResultCache
from pipeline.lean.iteration import Iteration, iteration_header, warm_choice
from pipeline.lean.models import CheckRequest, CheckResult, Policy
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.lookup import CATALOG_FILE, Lookup
from pipeline.lean.policy import scan
from pipeline.lean.provenance import Provenance, refuse_tracked_state
from pipeline.lean.replayer import Replayer
from pipeline.lean.resident import Goal, ResidentPool, ResidentStats
from pipeline.lean.syntax import imports
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.lean.verdict import Results, read_text_checked, source_of
from pipeline.settings import Settings
from pipeline.store.db import Database


class Strategy(Protocol):
    """How one request's file runs once it passed the limits and the policy."""

    label: str
    """Added to the result's ``backend`` (``+resident``)."""
    cached: bool
    """Whether its results are the result cache's (the acceptance path's only)."""

    def run(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult: ...


def all_or_raise(items: Sequence[CheckResult | SequentError]) -> list[CheckResult]:
    """The results of :meth:`Checker.check_all`, or the first error it returned."""
    for item in items:
        if isinstance(item, SequentError):
            raise item
    return [item for item in items if isinstance(item, CheckResult)]


class Checker:
    """Owns a backend (embedded pool or native), the result cache and the strategies."""

    def __init__(self, settings: Settings, *, warm: bool = True, prestart: bool = False,
                 expected_leases: int | None = None, backend: Backend | None = None,
                 db: Database | None = None) -> None:
        """``expected_leases``: how many Lean sessions the caller will use, if it knows (each
        compile is one, and the replay of an accepted file another); ``0`` is a one-shot checker
        that starts a process only for a session that asks for one, never one nobody leases
        (``WarmPool.expect``; ``backend.expect_leases`` declares later)."""
        self.settings = settings
        refuse_tracked_state(settings)  # the tree under check may not supply the state
        self.provenance = Provenance.load(settings)
        settings.ensure_state()
        self.backend = backend or open_backend(settings, warm=warm, prestart=prestart,
                                               expected_leases=expected_leases)
        self._own_db = db is None
        self.db = db or Database(settings.db_url)
        self.cache = ResultCache(self.db, shared=settings.artifact_cache, provenance=self.provenance)
        self.auditor = EnvironmentAuditor(self.backend.library_dir, self.backend.core_index_path,
                                          settings.build_dir)
        self.builds = Builds(settings, self.backend, self.provenance)
        self.results = Results(settings, self.backend, self.builds)
        self.replayer = Replayer(settings, self.backend, self._new_pool)
        parts = (settings, self.backend, self.auditor, self.builds, self.results, self.replayer)
        self.compiler = Compiler(*parts)
        self.batched = SharedModule(*parts)
        self.iteration = Iteration(settings, self.results, self._new_pool, self.check)
        self._lookup: Lookup | None = None
        self._lookup_lock = threading.Lock()

    @property
    def audit_id(self) -> str:
        """The audit a verdict or build passed (part of every cache key and manifest entry)."""
        return self.builds.audit_id

    # -- the audited verdict ----------------------------------------------------------------------
    def check(self, request: CheckRequest) -> CheckResult:
        """The audited verdict of one request (an InputError for bad input)."""
        return self._decide(request, self.compiler)

    def check_all(self, requests: Sequence[CheckRequest]) -> list[CheckResult | SequentError]:
        """Each request's audited verdict (the one :meth:`check` gives it), or the error
        :meth:`check` raised for it. Submissions that share a header and a statement are
        compiled as ONE module (one import paid for all; :mod:`pipeline.lean.batching`), each
        decided on the compiled environment; what that cannot attribute, and every other
        request, is checked on its own, up to the pool's size at once."""
        out: list[CheckResult | SequentError | None] = [None] * len(requests)
        candidates = []
        for i, request in enumerate(requests):
            try:
                source = source_of(request, self.settings.max_file_bytes)
            except SequentError as exc:
                out[i] = exc
                continue
            key = self.builds.key(source, request)
            out[i] = self.cache.get(key)
            candidate = member(i, request, source, key) if out[i] is None else None
            if candidate is not None:
                candidates.append(candidate)
        for group in groups(candidates):
            for i, result in self.batched.run(group).items():
                self.cache.put(result)
                out[i] = result
        rest = [i for i, item in enumerate(out) if item is None]
        for i, item in zip(rest, self._each([requests[i] for i in rest]), strict=True):
            out[i] = item
        return [item for item in out if item is not None]

    def _each(self, requests: Sequence[CheckRequest]) -> list[CheckResult | SequentError]:
        def one(request: CheckRequest) -> CheckResult | SequentError:
            try:
                return self.check(request)
            except SequentError as exc:
                return exc

        if len(requests) < 2:
            return [one(r) for r in requests]
        workers = min(len(requests), auto_pool_size(self.settings))  # the pool bounds Lean anyway
        with ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(one, requests))

    # -- iteration: diagnostics and goal states ---------------------------------------------------
    def diagnose(self, request: CheckRequest) -> CheckResult:
        """An iteration check: the trust policy's scan, then Lean's diagnostics from a resident
        worker (:mod:`pipeline.lean.iteration`); never a recorded verdict."""
        return self._decide(request, self.iteration)

    def goals(self, source: str, line: int, column: int, imports: Sequence[str] = (), *,
              policy: Policy | None = None) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of ``source``, from a resident
        worker. The source passes the trust policy's scan first (Lean never runs a violation)."""
        return self.iteration.goals(source, line, column, imports, policy=policy)

    def _decide(self, request: CheckRequest, strategy: Strategy) -> CheckResult:
        """Limits, cache (acceptance), policy, then the strategy; the one path of every verdict."""
        source = source_of(request, self.settings.max_file_bytes)
        key = self.builds.key(source, request)
        cached = self.cache.get(key) if strategy.cached else None
        if cached is not None:
            return cached
        violations = scan(source, request.policy)
        if violations:
            result = self.results.refused(violations, request, key, time.monotonic())
            if strategy.cached:
                self.cache.put(result)
            return result.model_copy(update={"backend": f"{result.backend}{strategy.label}"})
        if not strategy.cached:
            return strategy.run(source, request, key, time.monotonic())
        # another process checking the same input: wait (at most this check's limit), then read
        with self.cache.claim(key, self.results.limit(request)):
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            result = strategy.run(source, request, key, time.monotonic())
            self.cache.put(result)
        return result

    def warm(self, requests: Sequence[CheckRequest], headers: int) -> int:
        """Make the first checks like ``requests`` fast: start a resident worker for each of
        the ``headers`` import headers most requests share (while the pool has free slots), a
        replay worker for each of their imports (replay on), and decode the audit's core index
        and the project modules those requests import (the compiled-environment audit of an
        accepted attempt reads them). Returns how many workers were started."""
        chosen = warm_choice(requests, headers)
        pool = self.iteration.pool()
        with ThreadPoolExecutor(max_workers=2) as ex:  # the replay workers start meanwhile
            replays = ex.submit(lambda: sum(
                self.replayer.warm(imports(source_of(group[0], self.settings.max_file_bytes)), workers=len(chosen))
                for _head, group in chosen) if self.settings.lean_replay else 0)
            started = sum(pool.prestart(head) for head, _ in chosen)
            modules = list(dict.fromkeys(m for _, group in chosen for m in group[0].imports))
            self.environment(modules)  # decodes the core index too
            return started + replays.result()

    # -- the compiled environment and counters ----------------------------------------------------
    def environment(self, modules: Sequence[str]) -> ProjectEnvironment:
        """The compiled environment of the built project modules ``modules`` and of every
        project module they import, decoded (once per file version); only builds this pipeline
        made and signed count (:meth:`~pipeline.lean.builds.Builds.closure`). ``modules`` are
        decoded in the order given, what they import after them."""
        order = {module: i for i, module in enumerate(modules)}
        return self.auditor.project(sorted(self.builds.closure(modules), key=lambda m: order.get(m, len(order))))

    def lookup(self) -> Lookup:
        """Search and declarations over core and the project's built modules
        (:mod:`pipeline.lean.olean.lookup`), made on first use; the core catalog is built once
        per Lean install and cached beside the core index, the project part re-read when a
        module is rebuilt."""
        with self._lookup_lock:
            if self._lookup is None:
                self._lookup = Lookup(self.backend.library_dir,
                                      self.backend.core_index_path.with_name(CATALOG_FILE),
                                      self.auditor.core.githash, self.settings.build_dir,
                                      self.settings.project_root)
            return self._lookup

    def stats(self) -> ResidentStats | None:
        """The resident workers' counters (alive, idle, started, checks run); ``None`` before
        the iteration path first used them. Starts nothing."""
        return self.iteration.stats()

    def _new_pool(self, workers: int, recycle_checks: int) -> ResidentPool:
        return ResidentPool(self.backend.resident_command, max_workers=max(1, workers),
                            memory_mb=self.settings.lean_memory_mb, recycle_checks=recycle_checks,
                            recycle_mb=self.settings.resident_recycle_mb)

    def close(self) -> None:
        self.iteration.close()
        self.replayer.close()
        self.backend.close()
        if self._own_db:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["MANIFEST", "OUTPUT_SUFFIXES", "Checker", "Strategy", "all_or_raise", "iteration_header",
           "keep_parts", "load_manifest", "read_text_checked", "warm_choice"]
