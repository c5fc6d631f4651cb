"""The service's resources and operations, shared by the HTTP app, the MCP server and
``sequent worker``.

:class:`ServiceCore` owns, from construction to :meth:`close`: the database (migrated at
start), the Lean :class:`~pipeline.lean.checker.Checker` (created on first need, or at
:meth:`start` when it runs workers) and the :class:`~pipeline.service.worker.WorkerPool`.
Its methods are the operations; the front ends only translate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import ClaimReview, Family
from pipeline.claims.assemble import assemble_proof
from pipeline.claims.iterate import (
    MinimalHypotheses,
    minimal_hypotheses,
    place_messages,
    proof_position,
    relocate,
    render,
    snippet_request,
)
from pipeline.claims.proof_status import evaluate
from pipeline.errors import InputError, LeanError, NotFoundError, SequentError, SetupError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import BuildReport, ModuleBuild, build_project, discover
from pipeline.lean.buildplan import ModuleSource, import_closure, topological_order
from pipeline.lean.checker import Checker, warm_choice
from pipeline.lean.models import CheckRequest, CheckResult
from pipeline.lean.olean.lookup import CATALOG_FILE, DeclarationInfo, Lookup, SearchResult
from pipeline.lean.resident import Goal
from pipeline.lean.syntax import imports
from pipeline.service.adhoc_checks import CHECK_POLICY, AdhocChecks
from pipeline.service.claim_responses import (
    RegistryCache,
    claim_summary,
    claim_view,
    hypotheses_of,
    library_statuses,
)
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import Busy, Conflict
from pipeline.service.export import ExportRequest, export_submission
from pipeline.service.migrate import upgrade
from pipeline.service.models import (
    Attempt,
    CheckedProof,
    CheckedSnippet,
    CheckIn,
    CheckOut,
    ClaimSummary,
    ClaimView,
    ExportView,
    Health,
    HypothesisView,
    LibraryStatus,
    ProofGoals,
    SubmissionAccepted,
    SubmissionIn,
    SubmissionPage,
    SubmissionView,
)
from pipeline.service.queue import JobQueue
from pipeline.service.schema import METADATA
from pipeline.service.submissions import SUBMISSION_POLICY, SubmissionStore
from pipeline.service.tables import SubmissionRow
from pipeline.service.tokens import TokenStore
from pipeline.service.worker import WorkerPool
from pipeline.service.writelock import WriteGate
from pipeline.settings import Settings, cpu_count
from pipeline.store.db import Database
from pipeline.store.times import utcnow

log = logging.getLogger(__name__)

LIBRARY_ATTEMPTS = 3

READY_WAIT_S = 5.0
"""How long an ad-hoc check waits for the engine to finish preparing before answering 503."""
BUILD_YIELD_S = 120.0
"""Longest the start-up build waits for running calls before building more modules."""
LIBRARY_QUIET_S = 10.0
"""After ready, the claims' library status waits for this many seconds without an ad-hoc call
(at most ``LIBRARY_DEFER_MAX_S``): its compiles would share the cores with an agent's first calls."""
LIBRARY_DEFER_MAX_S = 60.0


def _lean_file(request: CheckRequest) -> str:
    """The request's source with the imports it names (what it needs built)."""
    return "".join(f"import {m}\n" for m in request.imports) + request.source


def package_version() -> str:
    try:
        return version("sequent")
    except PackageNotFoundError:
        return "0+unknown"


def _open_database(url: str) -> Database:
    try:
        return Database(url, create=False)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        safe = url.split("@")[-1] if "@" in url else url
        raise SetupError(f"cannot open the database {safe}: {exc}") from exc


class ServiceCore:
    """One per process. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        settings: Settings,
        config: ServiceConfig,
        *,
        worker_threads: int | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        settings.ensure_state()
        self.db = _open_database(settings.db_url)
        try:
            upgrade(self.db.engine)
            METADATA.create_all(self.db.engine)  # the other components' tables
        except BaseException:
            self.db.close()
            raise
        self.gate = WriteGate(self.db)
        self.queue = JobQueue(
            self.db, lease_s=self.config.lease_s, max_attempts=self.config.max_attempts,
            gate=self.gate,
        )
        self.tokens = TokenStore(self.db, self.config)
        self.submissions = SubmissionStore(self.db, self.config, self.queue, self.gate,
                                           uncitable=self._uncitable)
        self.registry = RegistryCache(settings)
        self._checker: Checker | None = None
        self._checker_lock = threading.Lock()
        threads = self.config.workers if worker_threads is None else worker_threads
        self.workers = WorkerPool(
            check=self._check,
            check_batch=self._check_batch,
            queue=self.queue,
            store=self.submissions,
            config=self.config,
            threads=threads,
        )
        self._adhoc_slots = threading.BoundedSemaphore(self.config.adhoc_concurrency)
        self.ready = threading.Event()
        """Set once the engine is up and the project's modules are built."""
        self._preparing: threading.Thread | None = None
        self.prepare_error: str | None = None
        self.phase = "not started"
        """What the engine is doing now (``GET /v1/health``, MCP progress messages)."""
        self._phase_since = time.monotonic()
        self._lookup: Lookup | None = None
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

    # ---- life -------------------------------------------------------------------------
    def start(self, *, background: bool = True) -> None:
        """Start the engine, build the project's modules (incrementally) so that claims'
        imports resolve, then start the in-process workers. Submissions are accepted (and
        queue up) meanwhile; nothing is checked against a half-built library."""
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
        self.ready.set()
        with self._library:
            self._library.notify_all()
        self.workers.start()
        self._set_phase("warming the search index")
        try:  # search and declaration answer in milliseconds from the first call
            self.lookup().warm()
        except Exception:  # search stays available (made on first call); the service is unaffected
            log.exception("warming the search index failed")
        self._set_phase("ready")
        if self.config.claim_status and report is not None:
            self._wait_quiet(LIBRARY_QUIET_S, LIBRARY_DEFER_MAX_S)
            self._evaluate_library(checker, report)

    def _build_library(self, checker: Checker) -> BuildReport:
        """Build the project's modules, what calls wait for first: the modules of the claims
        whose workers start-up warms, then warm them (:meth:`_warm`), then the modules waiting
        calls import, then the rest a few at a time. A call goes ahead as soon as what it
        imports is built (:meth:`_adhoc_slot`); while calls run, the rest of the build waits
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
                evaluated = evaluate(self.settings, checker, EVIDENCE_CHECKS, build=report)
            except LeanError as exc:
                log.warning("evaluating the claims' library status (attempt %d): %s", attempt, exc)
                if self.workers.stopping.wait(30.0 * attempt):
                    return
                continue
            except Exception:  # the status stays unknown (None); the service is unaffected
                log.exception("evaluating the claims' library status failed")
                return
            self.library = library_statuses(evaluated, utcnow())
            return

    def close(self) -> None:
        if self._preparing is not None:
            self._preparing.join(timeout=1.0)
        self.workers.stop()
        with self._checker_lock:
            if self._checker is not None:
                self._checker.close()
                self._checker = None
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checker(self) -> Checker:
        with self._checker_lock:
            if self._checker is None:
                self._checker = Checker(self.settings, prestart=True, db=self.db)
            return self._checker

    def _uncitable(self, claim_id: str) -> tuple[str, ...]:
        """What a submission to the claim may not cite: its own declaration (the audit rejects a
        proof whose compiled term reaches it, directly or through a lemma proved from it)."""
        return (self.registry.claim(claim_id).lean.declaration,)

    def _check(self, request: CheckRequest) -> CheckResult:
        return self.checker().check(request)

    def _check_batch(self, requests: list[CheckRequest]) -> list[CheckResult | SequentError]:
        return self.checker().check_batch(requests)

    # ---- operations -------------------------------------------------------------------
    def submit(self, sub: SubmissionIn, *, token_id: str | None, channel: str) -> SubmissionAccepted:
        claim = self.registry.claim(sub.claim_id)
        accepted = self.submissions.accept(
            claim, sub.proof, sub.agent, token_id=token_id, channel=channel
        )
        self.workers.notify()
        return accepted

    def submission(self, submission_id: str) -> SubmissionView:
        return self.submissions.get(submission_id)

    def list_submissions(self, *, claim_id: str | None = None, agent: str | None = None,
                         verdict: str | None = None, since: datetime | None = None, limit: int = 50,
                         cursor: str | None = None) -> SubmissionPage:
        """Submissions newest first, filtered by claim, agent, verdict (or status) and creation
        time; ``cursor``: the previous page's ``next_cursor``."""
        if claim_id is not None:
            self.registry.claim(claim_id)  # an unknown claim is a 404, not an empty page
        return self.submissions.page(claim_id=claim_id, agent=agent, status=verdict, since=since,
                                     limit=limit, before=cursor)

    def wait(self, submission_id: str, timeout_s: float) -> SubmissionView:
        return self.submissions.wait(submission_id, timeout_s)

    def poll(self, submission_id: str, deadline: float, *, poll_s: float) -> tuple[SubmissionView, float | None]:
        """The submission, and how long to wait before reading it again (``SubmissionStore.poll``)."""
        return self.submissions.poll(submission_id, deadline, poll_s=poll_s)

    def check(self, draft: CheckIn, *, token_id: str | None) -> CheckOut:
        """An ad-hoc check of a draft file; recorded for rate limits, never as a proof."""
        with self._adhoc_slot(source="".join(f"import {m}\n" for m in draft.imports) + draft.source):
            checks = AdhocChecks(self.db, self.config, self.checker(), self.gate)
            return checks.run(draft, token_id=token_id)

    # ---- iteration path: resident Lean workers, nothing recorded (docs/lean-backends.md) --
    def check_proof(self, claim_id: str, proof: str, *, ready_wait_s: float = READY_WAIT_S,
                    include_file: bool = False) -> CheckedProof:
        """Check a proof of a claim in the file a submission would get, under the submission
        policy, without recording it (iteration path: Lean's diagnostics, no axiom audit).
        Positions are placed in the proof sent; ``include_file``: the assembled file too."""
        claim = self.registry.claim(claim_id)
        request = self.submissions.prepare(claim, proof)
        with self._adhoc_slot(ready_wait_s, _lean_file(request)):
            result = self._iterate(request)
        placed = relocate(result, request, proof, claim.lean.statement)
        return CheckedProof(claim_id=claim_id, verdict=result.verdict.value, summary=result.summary(),
                            diagnostics=render(placed), messages=placed,
                            file=request.source if include_file else None, result=result)

    def multi_attempt(self, claim_id: str, proofs: list[str], *, ready_wait_s: float = READY_WAIT_S
                      ) -> list[Attempt]:
        """Several candidate proofs of one claim, each checked as :meth:`check_proof` does."""
        if not proofs:
            raise InputError("give at least one proof")
        if len(proofs) > self.config.max_attempts_per_call:
            raise InputError(f"at most {self.config.max_attempts_per_call} proofs per call")
        claim = self.registry.claim(claim_id)
        requests = [self.submissions.prepare(claim, p) for p in proofs]  # all valid, or none run
        with self._adhoc_slot(ready_wait_s, _lean_file(requests[0])):
            results = [self._iterate(r) for r in requests]
        attempts = []
        for i, (proof, request, result) in enumerate(zip(proofs, requests, results, strict=True)):
            placed = relocate(result, request, proof, claim.lean.statement)
            attempts.append(Attempt(index=i, verdict=result.verdict.value, summary=result.summary(),
                                    diagnostics=render(placed), messages=placed))
        return attempts

    def check_lean(self, snippet: str, claim_id: str | None = None, *,
                   ready_wait_s: float = READY_WAIT_S) -> CheckedSnippet:
        """An arbitrary snippet (lemmas, examples...) under the trust policy, after the claim's
        imports and opens when a claim is named. Positions are placed in the snippet sent."""
        size = len(snippet.encode("utf-8"))
        if size > self.config.max_check_bytes:
            raise InputError(f"the snippet is {size} bytes; the limit is {self.config.max_check_bytes} bytes")
        claim = self.registry.claim(claim_id) if claim_id else None
        request = snippet_request(claim, snippet, CHECK_POLICY)
        with self._adhoc_slot(ready_wait_s, _lean_file(request)):
            result = self._iterate(request)
        placed = relocate(result, request, snippet)
        return CheckedSnippet(verdict=result.verdict.value, summary=result.summary(),
                              diagnostics=render(placed), messages=placed, result=result)

    def goals_at(self, source: str, line: int, column: int, *, ready_wait_s: float = READY_WAIT_S) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of a Lean file, from a
        resident worker (``sequent goals`` through a running server)."""
        if line > source.count("\n") + 1:
            raise InputError(f"the source has no line {line}")
        with self._adhoc_slot(ready_wait_s, source):
            return self.checker().goals(source, line, column)

    def goal_state(self, claim_id: str, proof: str, line: int, *,
                   ready_wait_s: float = READY_WAIT_S) -> ProofGoals:
        """The goals before and after ``line`` (from 1, within ``proof`` as sent) of a proof
        attempt (``sorry`` allowed: an attempt is usually unfinished)."""
        claim = self.registry.claim(claim_id)
        request = self.submissions.prepare(claim, proof)
        at = proof_position(request, proof, line)
        text = request.source.split("\n")[at - 1]
        first = len(text) - len(text.lstrip())
        with self._adhoc_slot(ready_wait_s, _lean_file(request)):
            checker = self.checker()
            before = checker.goals(request.source, at, first, imports=request.imports)
            after = checker.goals(request.source, at, len(text.rstrip()), imports=request.imports)
        placed = place_messages(after.messages, request, proof, claim.lean.statement)
        return ProofGoals(claim_id=claim_id, line=line, text=text, goals_before=before.goals,
                          goals_after=after.goals, term_goal=after.term_goal, diagnostics=render(placed),
                          messages=placed)

    def minimal_hypotheses(self, claim_id: str, proof: str, *,
                           ready_wait_s: float = READY_WAIT_S) -> MinimalHypotheses:
        """Which of the claim's named hypotheses ``proof`` needs: each binder dropped in turn
        from the pinned statement and the proof re-checked (see pipeline.claims.iterate)."""
        claim = self.registry.claim(claim_id)
        request = self.submissions.prepare(claim, proof)  # size and command checks, as for a submission
        with self._adhoc_slot(ready_wait_s, _lean_file(request)):
            return minimal_hypotheses(claim, proof, self._iterate, SUBMISSION_POLICY)

    def review(self, claim_id: str, drafter_family: Family, agents: AgentConfig,
               statement: str | None = None, *, replay: bool = False) -> ClaimReview:
        """The cross-family faithfulness review the agents loop runs after a proof: a model of
        the other family than ``drafter_family`` judges whether ``statement`` (default: the
        claim's pinned one) says what the informal claim says. ``replay``: the claim's recorded
        reviewer (no network). ``agents``: the providers' settings, built by the command.
        Not recorded: the loop records the reviews of its proofs."""
        from pipeline.agents.models import other_family
        from pipeline.agents.providers import make_provider
        from pipeline.agents.providers.replay import ReplayProvider
        from pipeline.agents.review import review_claim

        claim = self.registry.claim(claim_id)
        reviewer = (ReplayProvider.for_claim(claim_id, agents.recordings_dir).reviewer() if replay
                    else make_provider(other_family(drafter_family), agents))
        try:
            return review_claim(claim, statement or claim.lean.statement, reviewer,
                                drafter_family=drafter_family)
        finally:
            reviewer.close()

    def _iterate(self, request: CheckRequest) -> CheckResult:
        return self.checker().diagnose(
            request.model_copy(update={"timeout_s": self.config.check_timeout_s}))

    @contextmanager
    def _adhoc_slot(self, ready_wait_s: float = READY_WAIT_S, source: str | None = None) -> Iterator[None]:
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

    def _wait_quiet(self, quiet_s: float, max_s: float) -> bool:
        """Wait until no ad-hoc call has run for ``quiet_s`` seconds (at most ``max_s``), so
        that the first calls after ready have the machine before the library's status is
        evaluated. Returns whether it became quiet."""
        deadline = time.monotonic() + max_s
        with self._library:
            while True:
                now = time.monotonic()
                quiet = self._inflight == 0 and now - self._last_call >= quiet_s
                if quiet or now >= deadline or self.workers.stopping.is_set():
                    return quiet
                self._library.wait(min(1.0, deadline - now))

    def _wait_library(self, wait_s: float, source: str | None) -> bool:
        """Wait until the engine is ready or, for ``source``, until the engine is up and the
        start-up build has dealt with every project module it imports (asking the build for
        them first). False when neither happened within ``wait_s`` (or preparing failed)."""
        if source is None:
            return self.ready.wait(wait_s)
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

    # ---- search and declarations: the compiled environment, no Lean process ---------------
    def lookup(self) -> Lookup:
        """Search over core and the project (``pipeline.lean.olean.lookup``), made on first use
        (the core catalog is built once per Lean install, then read from its cache)."""
        checker = self.checker()
        with self._checker_lock:
            if self._lookup is None:
                index_path = checker.backend.core_index_path
                self._lookup = Lookup(checker.backend.library_dir, index_path.with_name(CATALOG_FILE),
                                      checker.auditor.core.githash, self.settings.build_dir,
                                      self.settings.project_root)
            return self._lookup

    def search(self, query: str, mentions: list[str] | None = None, limit: int = 20) -> SearchResult:
        """Constants by name (substring) and by type shape (constants the type mentions)."""
        if len(query) > 200 or any(len(m) > 200 for m in mentions or ()):
            raise InputError("a query or a mentioned name is at most 200 characters")
        if not query.strip() and not mentions:
            raise InputError("give a name to search for, or constants the type mentions (or both)")
        if not 1 <= limit <= 200:
            raise InputError("limit must be between 1 and 200")
        return self.lookup().search(query, mentions or (), limit)

    def declaration(self, name: str) -> DeclarationInfo:
        """A constant's type, docstring and source location (project, then core)."""
        if not name.strip() or len(name) > 300:
            raise InputError("give a constant's full name (at most 300 characters)")
        found = self.lookup().declaration(name.strip())
        if found is None:
            raise NotFoundError(f"no constant {name!r} in the core library or the project's built modules")
        return found

    def claims(self) -> list[ClaimSummary]:
        return [
            claim_summary(c, self.submissions.proof_status(c.id), self.library.get(c.id))
            for c in self.registry.get().claims
        ]

    def claim(self, claim_id: str) -> ClaimView:
        claim = self.registry.claim(claim_id)
        return claim_view(claim, self.submissions.proof_status(claim.id), self.library.get(claim.id),
                          hypotheses_of(self.db, claim))

    def hypotheses(self, claim_id: str) -> tuple[HypothesisView, ...]:
        return hypotheses_of(self.db, self.registry.claim(claim_id))

    def export(self, submission_id: str) -> ExportView:
        view = self.submissions.get(submission_id)
        if view.status != "accepted":
            raise Conflict(f"submission {submission_id} is {view.status}; only accepted proofs export")
        with self.db.session() as session:
            row = session.get(SubmissionRow, submission_id)
            if row is None:  # pragma: no cover - just read above
                raise InputError(f"no submission {submission_id!r}")
            audited = row.result is not None and CheckResult.model_validate(row.result).environment is not None
            if not audited:
                raise Conflict(f"submission {submission_id} was accepted without the compiled-environment "
                               "audit; submit the proof again to have it audited before export")
            req = ExportRequest(
                submission_id=row.id,
                claim_id=row.claim_id,
                agent=row.agent,
                source=row.source,
                statement=row.statement,
                proof=row.proof,
            )
        try:
            pinned = self.registry.claim(req.claim_id)
        except SequentError:  # the claim left the registry: export the accepted file alone
            pinned = None
        if pinned is not None and pinned.lean.statement == req.statement:
            req = req.model_copy(update={"module": pinned.lean.module, "declaration": pinned.lean.declaration})
        done = export_submission(self.settings, req)
        return ExportView(submission_id=submission_id, branch=done.branch, commit=done.commit, path=done.path,
                          mode=done.mode)

    def health(self) -> Health:
        with self._checker_lock:
            checker = self._checker
        backend = checker.backend.name if checker is not None else None
        return Health(
            resident=checker.resident_stats() if checker is not None else None,
            status="ok",
            version=package_version(),
            database=self.db.engine.dialect.name,
            queue=self.queue.counts(),
            workers=self.workers.threads if self.workers.running else 0,
            lean_backend=backend,
            lean_ready=self.ready.is_set(),
            lean_error=self.prepare_error,
            phase=self.phase,
        )


__all__ = ["ServiceCore", "package_version"]
