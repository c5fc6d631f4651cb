"""Content-addressed build artifacts shared by several checkouts of one machine.

A project module's build is a pure function of its source, its name, the compiled modules it
imports, the Lean and the audit: :meth:`ArtifactCache.key` hashes exactly those. The store
keeps what ``lean -o`` wrote (every part) and the build's verdict; a hit copies the parts into
the build folder. The caller audits the copied environment again before using it, so a hit
never skips the compiled-environment audit, only Lean's elaboration.

Only accepted builds are stored. Entries are written to a temporary folder and renamed into
place, so concurrent builds never see half an entry; a builder holds the key's lock
(:meth:`ArtifactCache.claim`) from looking the module up until it stored it, so that two
checkouts building the same module at once compile it once (the second waits, then copies).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.lean.cache import key_lock
from pipeline.lean.checker import OUTPUT_SUFFIXES, keep_parts
from pipeline.lean.models import CheckResult

RESULT = "result.json"


class ArtifactCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key(module: str, check_key: str) -> str:
        """``check_key``: the checker's key of the module's source (source, imports' hashes,
        Lean, audit version, policy); the module's name is added since Lean records it."""
        return hashlib.sha256(f"{module}\n{check_key}".encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / key

    def claim(self, key: str, wait_s: float) -> contextlib.AbstractContextManager[bool]:
        """This machine's lock on one key, across processes (``flock``), waited for at most
        ``wait_s`` (see ``key_lock``)."""
        return key_lock(self.root, key, wait_s)

    def restore(self, key: str, olean_out: Path) -> CheckResult | None:
        """Copy a stored build to ``olean_out`` (and its other parts) and return its verdict."""
        entry = self._entry(key)
        result_file = entry / RESULT
        if not result_file.is_file():
            return None
        try:
            result = CheckResult.model_validate_json(result_file.read_text(encoding="utf-8"))
        except ValueError:
            return None
        keep_parts(entry / "module.olean", olean_out)
        return result.model_copy(update={"cached": True})

    def store(self, key: str, olean: Path, result: CheckResult) -> None:
        entry = self._entry(key)
        if entry.is_dir():
            return
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        try:
            stem = str(olean)[: -len(".olean")]
            for suffix in OUTPUT_SUFFIXES:
                part = Path(stem + suffix)
                if part.is_file():
                    shutil.copyfile(part, staging / f"module{suffix}")
            (staging / RESULT).write_text(result.model_dump_json(), encoding="utf-8")
            os.rename(staging, entry)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)


__all__ = ["ArtifactCache"]
