"""Content-addressed build artifacts shared by several checkouts of one machine.

A project module's build is a pure function of its source, its name, the compiled modules it
imports, the Lean and the audit: :meth:`ArtifactCache.key` hashes exactly those. The store
keeps what ``lean -o`` wrote (every part) and the build's verdict; a hit copies the parts into
the build folder. The caller audits the copied environment again before using it, so a hit
never skips the compiled-environment audit, only Lean's elaboration.

Every entry carries a MAC under this user's key (:mod:`pipeline.lean.provenance`) over its key,
the sha256 of each part and its verdict: an entry that another user, a checkout or anything but
this pipeline wrote (a store pointed inside a checkout, a file dropped in) fails it and is
never copied; the module is compiled instead.

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

from pipeline.lean.builds import OUTPUT_SUFFIXES, keep_parts
from pipeline.lean.cache import key_lock
from pipeline.lean.models import CheckResult
from pipeline.lean.provenance import Provenance, parts_digest

RESULT = "result.json"
MAC = "mac"


class ArtifactCache:
    def __init__(self, root: Path, provenance: Provenance) -> None:
        self.root = root
        self.provenance = provenance

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
        """Copy a stored build to ``olean_out`` (and its other parts) and return its verdict;
        ``None`` when none is stored or its MAC does not hold for the copied files."""
        entry = self._entry(key)
        result_file, mac_file = entry / RESULT, entry / MAC
        if not result_file.is_file() or not mac_file.is_file():
            return None
        try:
            text = result_file.read_text(encoding="utf-8")
            result = CheckResult.model_validate_json(text)
            mac = mac_file.read_text(encoding="utf-8").strip()
        except (ValueError, OSError):
            return None
        keep_parts(entry / "module.olean", olean_out)
        # the MAC is checked on the copies, so nothing changed between the check and the use
        if not self.provenance.valid(mac, "artifact", key, parts_digest(olean_out, OUTPUT_SUFFIXES), text):
            stem = str(olean_out)[: -len(".olean")]
            for suffix in OUTPUT_SUFFIXES:
                Path(stem + suffix).unlink(missing_ok=True)
            return None
        return result.model_copy(update={"cached": True})

    def _valid(self, key: str, entry: Path) -> bool:
        try:
            text = (entry / RESULT).read_text(encoding="utf-8")
            mac = (entry / MAC).read_text(encoding="utf-8").strip()
        except OSError:
            return False
        return self.provenance.valid(mac, "artifact", key, parts_digest(entry / "module.olean", OUTPUT_SUFFIXES), text)

    def store(self, key: str, olean: Path, result: CheckResult) -> None:
        entry = self._entry(key)
        if entry.is_dir():
            if self._valid(key, entry):
                return
            shutil.rmtree(entry, ignore_errors=True)  # not ours: replaced by this build
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        try:
            stem = str(olean)[: -len(".olean")]
            for suffix in OUTPUT_SUFFIXES:
                part = Path(stem + suffix)
                if part.is_file():
                    shutil.copyfile(part, staging / f"module{suffix}")
            text = result.model_dump_json()
            (staging / RESULT).write_text(text, encoding="utf-8")
            parts = parts_digest(staging / "module.olean", OUTPUT_SUFFIXES)
            (staging / MAC).write_text(self.provenance.mac("artifact", key, parts, text), encoding="utf-8")
            os.rename(staging, entry)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)


__all__ = ["ArtifactCache"]
