"""Content-addressed result cache: (file, hashes of its imports, Lean version, policy) -> result.

Stored in the project's database (SQLite by default), and, when ``Settings.artifact_cache``
names a machine-wide store, also there (``checks/<key>.json``), so that other checkouts of the
same machine answer the same input without running Lean. An unchanged input is answered
without running Lean. Results that reflect the machine rather than the input (timeout,
out-of-memory, crash) are never cached.

Entries are stored under the MAC of their key (``Provenance.cache_key``, this user's key), not
under the key itself: the key is computable by anyone, so a database or store that the tree
under check supplied (or another user wrote) could otherwise answer a check with a planted
``accepted``; without the MAC key nobody can name an entry that a lookup finds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import select

from pipeline.lean.models import UNFINISHED, CheckResult
from pipeline.lean.provenance import Provenance
from pipeline.lean.tables import LeanResultRow
from pipeline.store.db import Database


def cache_key(*, source: str, file_name: str, import_hashes: Iterable[tuple[str, str]],
              lean_version: str, backend: str, policy_json: str) -> str:
    payload = json.dumps(
        {
            "source": source,
            "file": file_name,
            "imports": sorted(import_hashes),
            "lean": lean_version,
            "backend": backend,
            "policy": policy_json,
            "schema": 1,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@contextmanager
def key_lock(store: Path, key: str, wait_s: float) -> Iterator[bool]:
    """This machine's lock on one key of the shared store, across processes (``flock`` on
    ``<store>/locks/<key>.lock``): whoever holds it is computing what the key names.

    Waits at most ``wait_s`` (the caller's own time limit) and yields whether it holds the lock:
    past that, the caller computes the key itself, unlocked, rather than wait on a holder that
    has outlived the caller's limit."""
    path = store / "locks" / f"{key}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(_LOCK_POLL_S)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_LOCK_POLL_S = 0.05


class ResultCache:
    def __init__(self, db: Database, *, provenance: Provenance, shared: Path | None = None) -> None:
        self.db = db
        self.store = shared
        self.provenance = provenance

    def claim(self, key: str, wait_s: float) -> contextlib.AbstractContextManager[bool]:
        """With a shared store: the lock on ``key``, held from a miss until the result is put,
        so that two processes checking the same input at once run Lean once (the second waits,
        then reads the first's result). A result that is not cached (timeout, crash) is
        computed again by the waiter; so is one not put within ``wait_s`` (see ``key_lock``)."""
        return key_lock(self.store, key, wait_s) if self.store is not None else nullcontext(False)

    def get(self, key: str) -> CheckResult | None:
        with self.db.session() as s:
            row = s.execute(select(LeanResultRow.result_json)
                            .where(LeanResultRow.key == self.provenance.cache_key(key))).scalar()
        if row is None:
            return self._shared_get(key)
        result = CheckResult.model_validate_json(row)
        return result.model_copy(update={"cached": True}) if result.cache_key == key else None

    def _shared_path(self, key: str) -> Path | None:
        if self.store is None:
            return None
        name = self.provenance.cache_key(key)
        return self.store / "checks" / name[:2] / f"{name}.json"

    def _shared_get(self, key: str) -> CheckResult | None:
        path = self._shared_path(key)
        if path is None or not path.is_file():
            return None
        try:
            result = CheckResult.model_validate_json(path.read_text(encoding="utf-8"))
        except ValueError:
            return None
        if result.cache_key != key:
            return None
        self._db_put(result)
        return result.model_copy(update={"cached": True})

    def put(self, result: CheckResult) -> None:
        if UNFINISHED.intersection(result.reasons):
            return
        self._db_put(result)
        path = self._shared_path(result.cache_key)
        if path is not None and not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(result.model_dump_json())
            os.replace(tmp, path)

    def _db_put(self, result: CheckResult) -> None:
        with self.db.session() as s:
            s.merge(LeanResultRow(key=self.provenance.cache_key(result.cache_key), result_json=result.model_dump_json(),
                                  created_at=time.time()))

    def clear(self) -> int:
        with self.db.session() as s:
            n = s.query(LeanResultRow).delete()
        return int(n)


__all__ = ["ResultCache", "cache_key", "key_lock"]
