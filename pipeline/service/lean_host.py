"""The service's Lean engine from start to close: the :class:`~pipeline.lean.checker.Checker`
(made on first need), the start-up build of the project's modules and the warm-up of resident
workers, the claims' status in the built library, the slots ad-hoc calls run in, and the search
index over the compiled environment.

:class:`LeanHost` knows nothing of submissions or tokens: what must happen once the engine is
ready (the check workers start) is registered by the composition (:meth:`LeanHost.on_ready`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.proof_status import evaluate
from pipeline.errors import LeanError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import BuildReport, ModuleBuild, build_project, discover
from pipeline.lean.buildplan import ModuleSource, import_closure, topological_order
from pipeline.lean.checker import Checker, warm_choice
from pipeline.lean.models import CheckRequest, CheckResult
from pipeline.lean.olean.lookup import Lookup
from pipeline.lean.process import run_in_background
from pipeline.lean.syntax import imports
from pipeline.service.claim_responses import RegistryCache, library_statuses
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import Busy
from pipeline.service.models import LibraryStatus
from pipeline.settings import Settings, cpu_count
from pipeline.store.db import Database
from pipeline.store.times import utcnow

log = logging.getLogger(__name__)

LIBRARY_ATTEMPTS = 3

READY_WAIT_S = 5.0
"""How long an ad-hoc check waits for the engine to finish preparing before answering 503."""
BUILD_YIELD_S = 120.0
"""Longest the start-up build waits for running calls before building more modules."""
LIBRARY_QUIET_S = 30.0
"""After ready, each of the claims' library checks waits for this many seconds without an ad-hoc
call (at most ``LIBRARY_DEFER_MAX_S``, and never while one runs): its compile would share the
cores with an agent's calls, whose think time between calls is usually shorter."""
LIBRARY_DEFER_MAX_S = 120.0


def lean_file(request: CheckRequest) -> str:
    """The request's source with the imports it names (what it needs built)."""
    return "".join(f"import {m}\n" for m in request.imports) + request.source


class LeanHost:
    """One per process; :meth:`close` ends the engine (the database is the caller's)."""

    def __init__(self, settings: Settings, config: ServiceConfig, db: Database, registry: RegistryCache) -> None:
        self.settings, self.config, self._db, self.registry = settings, config, db, registry
        self._checker: Checker | None = None
        self._checker_lock = threading.Lock()
        self._adhoc_slots = threading.BoundedSemaphore(config.adhoc_concurrency)
        self._ready_hooks: list[Callable[[], None]] = []
        self.stopping = threading.Event()
        """Set by :meth:`close`: the background work stops waiting."""
        self.ready = threading.Event()
        """Set once the engine is up and the project's modules are built."""
        self._preparing: threading.Thread | None = None
        self.prepare_error: str | None = None
        self.phase = "not started"
        """What the engine is doing now (``GET /v1/health``, MCP progress messages)."""
        self._phase_since = time.monotonic()
        self._library = threading.Condition()
        """Guards what the start-up build has done so far (calls wait on it, not on ready)."""
        self._modules: dict[str, ModuleSource] | None = None
        self._considered: set[str] = set()
        """Project modules the start-up build has built, found up to date, or failed on."""
        self._wanted: set[str] = set()
        """Project modules that waiting calls import: built before the rest."""
        self._inflight = 0
        self._last_call = time.monotonic()
        """When the last ad-hoc call ended (or the service was made)."""
        self.library: dict[str, LibraryStatus] = {}
        """Each claim's status in the project's library (empty until evaluated)."""

    def on_ready(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the engine is ready (the composition starts the check workers)."""
        self._ready_hooks.append(hook)

    def checker(self) -> Checker:
        with self._checker_lock:
            if self._checker is None:
                self._checker = Checker(self.settings, prestart=True, db=self._db)
            return self._checker

    def started_checker(self) -> Checker | None:
        """The engine if it was made (health reads it without starting one)."""
        with self._checker_lock:
            return self._checker

    # ---- life -------------------------------------------------------------------------
    def start(self, *, background: bool = True) -> None:
        """Start the engine, build the project's modules (incrementally) so that claims'
        imports resolve, then run the :meth:`on_ready` hooks (the composition's: start the
        check workers). Submissions are accepted (and queue up) meanwhile; nothing is checked
        against a half-built library."""
        if background:
            self._preparing = threading.Thread(target=self._prepare, name="sequent-prepare", daemon=True)
            self._preparing.start()
        else:
            self._prepare()

    def _set_phase(self, phase: str) -> None:
        self.phase, self._phase_since = phase, time.monotonic()

    def progress_message(self) -> str:
        """One line on what a waiting call waits for (MCP progress notifications)."""
        if self.prepare_error:
            return f"the Lean engine could not start: {self.prepare_error}"
        if not self.ready.is_set() and self._preparing is not None:
            return f"waiting for the Lean engine: {self.phase} ({time.monotonic() - self._phase_since:.0f} s)"
        return "Lean is checking"

    def _prepare(self) -> None:
        try:
            self._set_phase("starting the Lean engine")
            checker = self.checker()
            report = None
            if self.settings.formal_path.is_dir():
                report = self._build_library(checker)
                for failed in report.failures():
                    log.warning("module %s does not build; submissions importing it will be rejected",
                                failed.module)
            else:
                self._warm(checker)
        except Exception as exc:  # reported by health; the API stays up for reads
            self.prepare_error = str(exc)
            log.exception("the Lean engine could not be prepared")
            with self._library:
                self._library.notify_all()
            return
        self._mark_ready()
        for hook in self._ready_hooks:
            hook()
        self._set_phase("warming the search index")
        try:  # search and declaration answer in milliseconds from the first call
            self.lookup().warm()
        except Exception:  # search stays available (made on first call); the service is unaffected
            log.exception("warming the search index failed")
        self._set_phase("ready")
        if self.config.claim_status and report is not None:
            run_in_background()  # a compile, audit and replay per claim: calls that come meanwhile go first
            self._evaluate_library(checker, report)

    def _build_library(self, checker: Checker) -> BuildReport:
        """Build the project's modules, what calls wait for first: the modules of the claims
        whose workers start-up warms, then warm them (:meth:`_warm`), then the modules waiting
        calls import, then the rest a few at a time. A call goes ahead as soon as what it
        imports is built (:meth:`slot`); while calls run, the rest of the build waits
        (at most ``BUILD_YIELD_S`` each time), so the first calls get the machine."""
        modules = discover(self.settings)
        order = topological_order(modules)
        with self._library:
            self._modules = modules
        started = time.monotonic()
        builds: dict[str, ModuleBuild] = {}

        def step(targets: set[str]) -> set[str]:
            self._set_phase(f"building {self.settings.formal_dir}/ ({', '.join(sorted(targets))})")
            report = build_project(self.settings, checker, only=targets)
            for mb in report.modules:
                if mb.module not in builds or not mb.up_to_date:
                    builds[mb.module] = mb
            return {mb.module for mb in report.modules}

        def publish(done: set[str]) -> None:
            with self._library:
                self._considered |= done
                self._library.notify_all()

        with self._library:
            first = set(self._wanted)
        done = step(first | {m for r in self._warm_requests() for m in r.imports})
        self._warm(checker)  # before calls go ahead: the first one then finds the warm worker
        publish(done)
        project = set(modules)

        def waiting() -> set[str]:  # project modules that waiting calls import, not built yet
            return (self._wanted & project) - self._considered

        while True:
            with self._library:
                left = [m for m in order if m not in self._considered]
                if not left:
                    break
                wanted = waiting()
                if not wanted:  # yield to running calls (bounded), then build a few more
                    deadline = time.monotonic() + BUILD_YIELD_S
                    while self._inflight and not waiting():
                        if not self._library.wait(max(0.0, deadline - time.monotonic())) \
                                and time.monotonic() >= deadline:
                            break
                    wanted = waiting()
            publish(step(wanted or set(left[: max(1, cpu_count())])))
        return BuildReport(modules=tuple(builds[m] for m in order if m in builds),
                           elapsed_s=round(time.monotonic() - started, 3))

    def _warm_requests(self) -> list[CheckRequest]:
        """The check requests whose import headers start-up warms (:meth:`Checker.warm`)."""
        if not self.config.warm_headers:
            return []
        requests = [assemble_proof(claim, "by\n  sorry") for claim in self.registry.get().claims]
        return [r for _, group in warm_choice(requests, self.config.warm_headers) for r in group]

    def _warm(self, checker: Checker) -> None:
        if self.config.warm_headers:
            self._set_phase("starting Lean workers for the claims' imports")
            self._warm_iteration(checker)

    def _warm_iteration(self, checker: Checker) -> None:
        """Before "ready": a resident worker for each of the ``warm_headers`` import headers
        most claims share (a claim's proof file as ``check_proof`` assembles it), a replay
        worker for their accepted proofs, and the audit's decoded core index and project
        modules, so that the first call pays for none of them."""
        try:
            requests = [assemble_proof(claim, "by\n  sorry") for claim in self.registry.get().claims]
            started = checker.warm(requests, self.config.warm_headers)
        except Exception:  # the first call then starts its worker itself; the service is unaffected
            log.exception("warming a resident Lean worker for the claims' imports failed")
            return
        log.info("warmed %d resident Lean worker(s) for the claims' imports", started)

    def _evaluate_library(self, checker: Checker, report: BuildReport) -> None:
        """The claims' status in the project's library, once, after the workers started.
        A busy or broken engine is retried a few times; the status stays unknown otherwise."""
        for attempt in range(1, LIBRARY_ATTEMPTS + 1):
            try:
                evaluated = evaluate(self.settings, checker, EVIDENCE_CHECKS, build=report,
                                     verdicts=partial(self._one_at_a_time, checker))
            except LeanError as exc:
                if self.stopping.is_set():
                    return
                log.warning("evaluating the claims' library status (attempt %d): %s", attempt, exc)
                if self.stopping.wait(30.0 * attempt):
                    return
                continue
            except Exception:  # the status stays unknown (None); the service is unaffected
                log.exception("evaluating the claims' library status failed")
                return
            self.library = library_statuses(evaluated, utcnow())
            return

    def _one_at_a_time(self, checker: Checker, requests: Sequence[CheckRequest]) -> list[CheckResult]:
        """The library's checks one by one, each once the calls are quiet again: a call that
        comes meanwhile waits for one claim's check at most, on one core, not for all of them."""
        results = []
        for request in requests:
            self._wait_quiet(LIBRARY_QUIET_S, LIBRARY_DEFER_MAX_S)
            if self.stopping.is_set():
                raise LeanError("the service is stopping")
            results.append(checker.check(request))
        return results

    def close(self) -> None:
        """Stop the background work and close the engine (the workers are stopped first)."""
        self.stopping.set()
        if self._preparing is not None:
            self._preparing.join(timeout=1.0)
        with self._checker_lock:
            if self._checker is not None:
                self._checker.close()
                self._checker = None

    # ---- ad-hoc calls ---
    @contextmanager
    def slot(self, ready_wait_s: float = READY_WAIT_S, source: str | None = None) -> Iterator[None]:
        """A slot for an ad-hoc Lean call, once the engine is ready, or (``source``: the Lean
        file the call checks) once the modules it imports are built."""
        if self._preparing is not None and not self.ready.is_set() and not self._wait_library(ready_wait_s, source):
            raise Busy(self.prepare_error or "the Lean engine is still starting; try again shortly", 10.0)
        if not self._adhoc_slots.acquire(timeout=1.0):
            raise Busy("every Lean worker is busy with ad-hoc checks; try again shortly", 5.0)
        with self._library:
            self._inflight += 1
        try:
            yield
        finally:
            with self._library:
                self._inflight -= 1
                self._last_call = time.monotonic()
                self._library.notify_all()
            self._adhoc_slots.release()

    def _mark_ready(self) -> None:
        """The engine is ready; the quiet the library's status waits for counts from now (an
        agent's first call may come a few seconds after ready)."""
        with self._library:
            self._last_call = time.monotonic()
            self.ready.set()
            self._library.notify_all()

    def _wait_quiet(self, quiet_s: float, max_s: float) -> bool:
        """Wait until no ad-hoc call has run for ``quiet_s`` seconds since ready (after
        ``max_s``: until no call is running), so that an agent's first calls after ready have
        the machine before the library's status is evaluated. Returns whether it became quiet."""
        deadline = time.monotonic() + max_s
        with self._library:
            while True:
                now = time.monotonic()
                idle = self._inflight == 0
                quiet = idle and now - self._last_call >= quiet_s
                if quiet or (idle and now >= deadline) or self.stopping.is_set():
                    return quiet
                wake = [deadline - now] if now < deadline else []  # (a call's end notifies)
                self._library.wait(min(1.0, *wake, max(0.01, self._last_call + quiet_s - now)))

    def wait_ready(self, wait_s: float) -> bool:
        """Wait at most ``wait_s`` until the engine is ready (or could not be prepared);
        whether it is ready."""
        deadline = time.monotonic() + wait_s
        with self._library:
            while not self.ready.is_set() and self.prepare_error is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._library.wait(min(remaining, 1.0))
        return self.ready.is_set()

    def _wait_library(self, wait_s: float, source: str | None) -> bool:
        """Wait until the engine is ready or, for ``source``, until the engine is up and the
        start-up build has dealt with every project module it imports (asking the build for
        them first). False when neither happened within ``wait_s`` (or preparing failed)."""
        if source is None:
            return self.wait_ready(wait_s)
        wanted = set(imports(source))
        deadline = time.monotonic() + wait_s
        with self._library:
            self._wanted |= wanted
            self._library.notify_all()
            while not self.ready.is_set() and self.prepare_error is None:
                if self._modules is not None and import_closure(self._modules, wanted) <= self._considered:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._library.wait(min(remaining, 1.0))
        return self.ready.is_set()

    # ---- the compiled environment: no Lean process ---
    def lookup(self) -> Lookup:
        """Search over core and the project (:meth:`Checker.lookup`), made on first use (the
        core catalog is built once per Lean install, then read from its cache)."""
        return self.checker().lookup()


__all__ = ["READY_WAIT_S", "LeanHost", "lean_file"]
