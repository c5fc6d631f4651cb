"""``GET /v1/health``: liveness, the database, the queue's depth, the check workers and the Lean
engine's phase, read without starting anything."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pipeline.service.lean_host import LeanHost
from pipeline.service.models import Health
from pipeline.service.queue import JobQueue
from pipeline.service.worker import WorkerPool
from pipeline.store.db import Database


def package_version() -> str:
    try:
        return version("sequent")
    except PackageNotFoundError:
        return "0+unknown"


class HealthService:
    """What ``GET /v1/health`` answers."""

    def __init__(self, db: Database, host: LeanHost, queue: JobQueue, workers: WorkerPool) -> None:
        self._db, self._host, self._queue, self._workers = db, host, queue, workers

    def health(self) -> Health:
        checker = self._host.started_checker()  # never starts the engine
        return Health(
            resident=checker.stats() if checker is not None else None,
            status="ok",
            version=package_version(),
            database=self._db.engine.dialect.name,
            queue=self._queue.counts(),
            workers=self._workers.threads if self._workers.running else 0,
            lean_backend=checker.backend.name if checker is not None else None,
            lean_ready=self._host.ready.is_set(),
            lean_error=self._host.prepare_error,
            phase=self._host.phase,
        )


__all__ = ["HealthService", "package_version"]
