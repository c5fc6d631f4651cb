"""One in-process lock around write transactions on SQLite.

SQLite admits one writer at a time; threads that find the database locked wait in SQLite's
busy handler, which sleeps in growing steps (up to 100 ms), so under many concurrent
writers a few unlucky ones wait for seconds. Taking a Python lock first hands the write
lock from thread to thread at once; SQLite's own locking still orders writers of other
processes. PostgreSQL locks rows, so there the gate is a no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy.orm import Session

from pipeline.store.db import Database


class WriteGate:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock: threading.Lock | None = (
            threading.Lock() if db.engine.dialect.name == "sqlite" else None
        )

    def __call__(self) -> AbstractContextManager[object]:
        return self._lock if self._lock is not None else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction behind the gate (committed on exit, rolled back on error)."""
        with self(), self._db.session() as session:
            yield session


__all__ = ["WriteGate"]
