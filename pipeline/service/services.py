"""The service's parts, wired once per process: :func:`open_services`.

:class:`Services` is what the composition root holds (a command, or the app's lifespan): it
starts and closes them. No front end takes it whole: each gets the focused services it uses,
one by one (the FastAPI dependencies of :mod:`.deps` each give a route one service; the MCP
tool groups of :func:`.mcp_server.build_server` each take theirs; the commands pick theirs):

========================  ==========================================================
``submissions``           submit, read, list, wait (:mod:`.submission_service`)
``checks``                ad-hoc checks and the iteration path (:mod:`.adhoc_checks`)
``tokens``                API tokens; their limits are admitted with each write (:mod:`.tokens`)
``export``                an accepted proof on a review branch (:mod:`.export`)
``claims``                claim views and the statement review (:mod:`.claim_views`)
``declarations``          search and declarations of the compiled environment
``health``                liveness, queue, workers, the engine's phase (:mod:`.health`)
``host``                  the Lean engine's life: start-up build, warm-up, slots (:mod:`.lean_host`)
``workers``               the check workers (:mod:`.worker`)
========================  ==========================================================

One submission flows one way: :meth:`SubmissionService.submit` (request built, row and job
inserted) -> :class:`JobQueue` -> :class:`WorkerPool` -> the engine -> :meth:`SubmissionStore.record`
-> :class:`ExportService` (docs/architecture.md, "One submission's path").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import SetupError
from pipeline.service.adhoc_checks import AdhocChecks
from pipeline.service.claim_responses import RegistryCache
from pipeline.service.claim_views import ClaimViews, Declarations
from pipeline.service.config import ServiceConfig
from pipeline.service.export import ExportService
from pipeline.service.health import HealthService
from pipeline.service.lean_host import LeanHost
from pipeline.service.migrate import upgrade
from pipeline.service.queue import JobQueue
from pipeline.service.schema import METADATA
from pipeline.service.submission_service import SubmissionService
from pipeline.service.submissions import SubmissionStore
from pipeline.service.tokens import TokenStore
from pipeline.service.worker import WorkerPool
from pipeline.service.writelock import WriteGate
from pipeline.settings import Settings
from pipeline.store.db import Database


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
    """The focused services of one process, for the composition root to start, close and hand
    out one by one; a context manager (or call :meth:`close`)."""

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
    health: HealthService

    def start(self, *, background: bool = True) -> None:
        """Start the engine: build the project's modules, warm its workers, then (once ready)
        the check workers. Submissions are accepted (and queue up) meanwhile."""
        self.host.start(background=background)

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
        db=db, host=host, queue=queue, workers=workers,
        submissions=submissions, checks=AdhocChecks(config, host, gate), tokens=TokenStore(db, config),
        export=ExportService(settings, registry, store), claims=ClaimViews(db, host, store),
        declarations=Declarations(host), health=HealthService(db, host, queue, workers),
    )


__all__ = ["Services", "open_services"]
