"""The service's parts, wired once per process: :func:`open_services`.

Each front end (the HTTP routes, the MCP tools, ``sequent worker`` and the token and
submission commands) takes the focused service it needs from :class:`Services`:

========================  ==========================================================
``submissions``           submit, read, list, wait (:mod:`.submission_service`)
``checks``                ad-hoc checks and the iteration path (:mod:`.adhoc_checks`)
``tokens``                API tokens; their limits are admitted with each write (:mod:`.tokens`)
``export``                an accepted proof on a review branch (:mod:`.export`)
``claims``                claim views and the statement review (:mod:`.claim_views`)
``declarations``          search and declarations of the compiled environment
``host``                  the Lean engine's life: start-up build, warm-up, slots (:mod:`.lean_host`)
``workers``               the check workers (:mod:`.worker`)
========================  ==========================================================

One submission flows one way: :meth:`SubmissionService.submit` (request built, row and job
inserted) -> :class:`JobQueue` -> :class:`WorkerPool` -> the engine -> :meth:`SubmissionStore.record`
-> :class:`ExportService` (docs/architecture.md, "One submission's path").
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import SetupError
from pipeline.service.adhoc_checks import AdhocChecks
from pipeline.service.claim_responses import RegistryCache
from pipeline.service.claim_views import ClaimViews, Declarations
from pipeline.service.config import ServiceConfig
from pipeline.service.export import ExportService
from pipeline.service.lean_host import LeanHost
from pipeline.service.migrate import upgrade
from pipeline.service.models import Health
from pipeline.service.queue import JobQueue
from pipeline.service.schema import METADATA
from pipeline.service.submission_service import SubmissionService
from pipeline.service.submissions import SubmissionStore
from pipeline.service.tokens import TokenStore
from pipeline.service.worker import WorkerPool
from pipeline.service.writelock import WriteGate
from pipeline.settings import Settings
from pipeline.store.db import Database


def package_version() -> str:
    try:
        return version("sequent")
    except PackageNotFoundError:
        return "0+unknown"


def _open_database(url: str) -> Database:
    try:
        db = Database(url, create=False)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        safe = url.split("@")[-1] if "@" in url else url
        raise SetupError(f"cannot open the database {safe}: {exc}") from exc
    try:
        upgrade(db.engine)
        METADATA.create_all(db.engine)  # the other components' tables
    except BaseException:
        db.close()
        raise
    return db


@dataclass(frozen=True, eq=False)
class Services:
    """The focused services of one process; a context manager (or call :meth:`close`)."""

    settings: Settings
    config: ServiceConfig
    db: Database
    host: LeanHost
    queue: JobQueue
    workers: WorkerPool
    submissions: SubmissionService
    checks: AdhocChecks
    tokens: TokenStore
    export: ExportService
    claims: ClaimViews
    declarations: Declarations

    def start(self, *, background: bool = True) -> None:
        """Start the engine: build the project's modules, warm its workers, then (once ready)
        the check workers. Submissions are accepted (and queue up) meanwhile."""
        self.host.start(background=background)

    def health(self) -> Health:
        checker = self.host.started_checker()
        return Health(
            resident=checker.iteration.stats() if checker is not None else None,
            status="ok",
            version=package_version(),
            database=self.db.engine.dialect.name,
            queue=self.queue.counts(),
            workers=self.workers.threads if self.workers.running else 0,
            lean_backend=checker.backend.name if checker is not None else None,
            lean_ready=self.host.ready.is_set(),
            lean_error=self.host.prepare_error,
            phase=self.host.phase,
        )

    def close(self) -> None:
        self.host.stopping.set()
        self.workers.stop()
        self.host.close()
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_services(settings: Settings, config: ServiceConfig, *, worker_threads: int | None = None) -> Services:
    """Open the database (migrated), and wire the parts; nothing starts Lean until
    :meth:`Services.start` or a first call. ``worker_threads``: default ``config.workers``."""
    settings.ensure_state()
    db = _open_database(settings.db_url)
    gate = WriteGate(db)
    registry = RegistryCache(settings)
    host = LeanHost(settings, config, db, registry)
    queue = JobQueue(db, lease_s=config.lease_s, max_attempts=config.max_attempts, gate=gate)
    workers = WorkerPool(engine=host.checker, queue=queue, config=config,
                         threads=config.workers if worker_threads is None else worker_threads)
    host.on_ready(workers.start)
    store = SubmissionStore(db)
    submissions = SubmissionService(config, registry, store, queue, gate, notify=workers.notify)
    try:
        submissions.fill_requests()  # jobs an older version queued
    except BaseException:
        db.close()
        raise
    return Services(
        settings=settings, config=config, db=db, host=host, queue=queue, workers=workers,
        submissions=submissions, checks=AdhocChecks(config, host, gate), tokens=TokenStore(db, config),
        export=ExportService(settings, registry, store), claims=ClaimViews(db, host, store),
        declarations=Declarations(host),
    )


__all__ = ["Services", "open_services", "package_version"]
