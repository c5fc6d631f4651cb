"""Which builds count, and the keys of results and builds.

Only a module this pipeline compiled (or copied from the artifact store and audited again) into
the build folder counts as built: its manifest entry carries a MAC under this user's
provenance key (:mod:`pipeline.lean.provenance`) over the module, its fingerprint, its imports,
the hashes of the parts Lean wrote and the Lean and audit it was made with (:attr:`Builds.lean_id`).
A committed build, an ``.olean`` compiled elsewhere or a recomputed fingerprint has none: the
build compiles the module again and a check refuses to import it.

The result cache's key (:meth:`Builds.key`) carries the source, the file name, the builds of the
modules it imports, the Lean, the audit (:attr:`Builds.audit_id`), the backend and the policy
with the expected declarations and the uncitable constants.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from pipeline.lean.backends import Backend
from pipeline.lean.cache import cache_key
from pipeline.lean.models import CheckRequest
from pipeline.lean.provenance import Provenance, parts_digest
from pipeline.lean.syntax import imports
from pipeline.settings import Settings

MANIFEST = "manifest.json"
AUDIT_VERSION = "env-audit-2"
"""Part of every cache key: results from before (or from another version of) the audit are
never reused."""
OUTPUT_SUFFIXES = (".olean", ".olean.server", ".olean.private", ".ir", ".ilean")
"""What ``lean -o X.olean`` writes for a module: the exported part, the language server's part,
the private part (proof bodies; its objects point into the earlier parts), the IR and the
position index. All of them are kept: the compiled-environment audit reads the private part."""
_CORE = frozenset({"Init", "Std", "Lean", "Lake"})


def keep_parts(produced: Path, olean_out: Path) -> None:
    """Copy every part Lean wrote beside ``produced`` to beside ``olean_out`` (atomically each;
    a part that this Lean did not write is removed from the destination)."""
    olean_out.parent.mkdir(parents=True, exist_ok=True)
    stem_src = str(produced)[: -len(".olean")]
    stem_dst = str(olean_out)[: -len(".olean")]
    for suffix in OUTPUT_SUFFIXES:
        src, dst = Path(stem_src + suffix), Path(stem_dst + suffix)
        if src.is_file():
            tmp = Path(str(dst) + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        else:
            dst.unlink(missing_ok=True)


def load_manifest(build_dir: Path) -> dict[str, dict[str, object]]:
    path = build_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _imports_of(entry: dict[str, object]) -> list[str]:
    deps = entry.get("imports", [])
    return [str(d) for d in deps] if isinstance(deps, list) else []


class Builds:
    """The build folder as this pipeline signed it, for one backend and settings."""

    def __init__(self, settings: Settings, backend: Backend, provenance: Provenance) -> None:
        self.settings, self.backend, self.provenance = settings, backend, provenance

    @property
    def audit_id(self) -> str:
        """The audit a verdict or build passed: with or without the kernel replay, so that what
        was built or accepted with ``SEQUENT_LEAN_REPLAY`` off never counts for a run with it on
        (a manifest entry and a cache key of the other mode do not match)."""
        return f"{AUDIT_VERSION}|{'replay' if self.settings.lean_replay else 'no-replay'}"

    @property
    def lean_id(self) -> str:
        """The Lean and audit a build was made with (part of every signed manifest entry)."""
        return f"{self.backend.name}|{self.backend.version}|{self.audit_id}"

    def olean(self, module: str) -> Path:
        return self.settings.build_dir / Path(*module.split(".")).with_suffix(".olean")

    @staticmethod
    def _entry_fields(module: str, entry: dict[str, object]) -> tuple[object, ...]:
        return ("build", module, entry.get("fingerprint"), entry.get("imports"), entry.get("path"),
                entry.get("parts"), entry.get("lean"))

    def sign(self, module: str, *, fingerprint: str, imports: Sequence[str], path: str) -> dict[str, object]:
        """The manifest entry of a module this pipeline just compiled (or copied from the
        artifact store and audited) into the build folder, with its MAC."""
        parts = parts_digest(self.olean(module), OUTPUT_SUFFIXES)
        entry: dict[str, object] = {"fingerprint": fingerprint, "olean_sha256": parts.get(".olean", ""),
                                    "imports": list(imports), "path": path, "parts": parts,
                                    "lean": self.lean_id}
        entry["mac"] = self.provenance.mac(*self._entry_fields(module, entry))
        return entry

    def trusted_manifest(self) -> dict[str, dict[str, object]]:
        """The build folder's manifest entries that this pipeline signed, for this Lean and
        audit, whose files still hash to what was signed. Anything else in the build folder (a
        committed build, an ``.olean`` compiled elsewhere, a recomputed fingerprint) is not a
        build: the build compiles the module again and a check refuses to import it."""
        out: dict[str, dict[str, object]] = {}
        for module, entry in load_manifest(self.settings.build_dir).items():
            if not isinstance(entry, dict) or entry.get("lean") != self.lean_id:
                continue
            if not self.provenance.valid(entry.get("mac"), *self._entry_fields(module, entry)):
                continue
            parts = entry.get("parts")
            if isinstance(parts, dict) and parts and parts_digest(self.olean(module), OUTPUT_SUFFIXES) == parts:
                out[module] = entry
        return out

    def closure(self, modules: Sequence[str]) -> list[str]:
        """The built project modules that ``modules`` import, transitively (core ones skipped);
        only builds this pipeline made and signed (:meth:`trusted_manifest`)."""
        manifest = self.trusted_manifest()
        seen: list[str] = []
        stack = list(modules)
        while stack:
            mod = stack.pop()
            if mod in seen or mod.split(".")[0] in _CORE or mod not in manifest:
                continue
            seen.append(mod)
            stack.extend(_imports_of(manifest[mod]))
        return seen

    def untrusted_imports(self, source: str) -> list[str]:
        """The modules ``source`` imports (transitively) that Lean would load from neither its
        own library nor a build this pipeline made and signed."""
        trusted = self.trusted_manifest()
        library = self.backend.library_dir
        bad: list[str] = []
        seen: set[str] = set()
        stack = list(imports(source))
        while stack:
            mod = stack.pop()
            if mod in seen:
                continue
            seen.add(mod)
            if (library / Path(*mod.split(".")).with_suffix(".olean")).is_file():
                continue
            entry = trusted.get(mod)
            if entry is None:
                bad.append(mod)
                continue
            stack.extend(_imports_of(entry))
        return sorted(bad)

    def import_hashes(self, modules: Sequence[str]) -> list[tuple[str, str]]:
        """(module, hash) for the transitive closure of project modules in the build folder
        (a module without a signed build: ``untrusted:<sha256>`` or ``missing``)."""
        manifest = self.trusted_manifest()
        seen: dict[str, str] = {}
        stack = list(modules)
        while stack:
            mod = stack.pop()
            if mod in seen:
                continue
            entry = manifest.get(mod)
            olean = self.olean(mod)
            if entry is not None:
                seen[mod] = str(entry.get("olean_sha256", ""))
                stack.extend(_imports_of(entry))
            elif olean.is_file():
                seen[mod] = "untrusted:" + hashlib.sha256(olean.read_bytes()).hexdigest()
            else:
                seen[mod] = "core" if mod.split(".")[0] in _CORE else "missing"
        return sorted(seen.items())

    def key(self, source: str, request: CheckRequest) -> str:
        """The result cache's key of checking ``source`` (the request's file, imports added)."""
        return cache_key(
            source=source, file_name=request.file_name,
            import_hashes=self.import_hashes(imports(source)),
            lean_version=f"{self.backend.version}|{self.audit_id}", backend=self.backend.name,
            policy_json=request.policy.model_dump_json()
            + (f"|expect={','.join(request.expected_declarations)}" if request.expected_declarations is not None else "")
            + (f"|uncitable={','.join(request.uncitable)}" if request.uncitable else ""),
        )

    def module_key(self, module: str, source: str) -> str:
        """The key of a project module's build: its source under the default policy, with
        the current builds of the modules it imports."""
        return self.key(source, CheckRequest(source=source, file_name=f"{module}.lean"))


__all__ = ["AUDIT_VERSION", "MANIFEST", "OUTPUT_SUFFIXES", "Builds", "keep_parts", "load_manifest"]
