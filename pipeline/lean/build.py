"""``sequent build``: compile every project module in import order with ``lean -o``.

Incremental: a module is rebuilt only when its source or a transitive import changed
(fingerprints in ``<build_dir>/manifest.json``). Independent modules compile in parallel,
up to the pool size. Every module is checked under the trust policy like any other file.

Only builds this pipeline made count as built: each manifest entry carries a MAC under this
user's key (:mod:`pipeline.lean.provenance`) over the module, its fingerprint and the hashes of
the files Lean wrote. A build folder the tree under check supplied (committed, copied, or an
``.olean`` dropped in with a recomputed fingerprint) has no valid MAC: its modules are compiled
again from source.

With ``Settings.artifact_cache`` set, a module already built elsewhere on this machine (same
name, source, imports' builds, Lean and audit) is copied from that store instead of compiled;
its compiled environment is audited again either way.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from pipeline.lean.artifacts import ArtifactCache
from pipeline.lean.buildplan import ModuleSource, import_closure, plan, topological_order, waves
from pipeline.lean.builds import MANIFEST, OUTPUT_SUFFIXES, load_manifest
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckResult, Policy
from pipeline.lean.syntax import imports, module_name
from pipeline.lean.verdict import read_text_checked
from pipeline.models import Frozen
from pipeline.settings import Settings, cpu_count

ProgressFn = Callable[[str, CheckResult | None], None]


class ModuleBuild(Frozen):
    module: str
    path: str
    up_to_date: bool
    result: CheckResult | None = None
    skipped_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.up_to_date or (self.result is not None and self.result.accepted)


class BuildReport(Frozen):
    modules: tuple[ModuleBuild, ...]
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.modules)

    @property
    def rebuilt(self) -> list[str]:
        return [m.module for m in self.modules if not m.up_to_date and m.result is not None]

    def failures(self) -> list[ModuleBuild]:
        return [m for m in self.modules if not m.ok]


def discover(settings: Settings) -> dict[str, ModuleSource]:
    """Every module of the Lean library: ``Formal.lean`` and everything under ``Formal/``."""
    root = settings.project_root
    files: list[Path] = []
    top = root / f"{settings.formal_dir}.lean"
    if top.is_file():
        files.append(top)
    if settings.formal_path.is_dir():
        files.extend(sorted(settings.formal_path.rglob("*.lean")))
    prefix = settings.formal_dir.split("/")[0]
    modules: dict[str, ModuleSource] = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        text = read_text_checked(path, max_bytes=settings.max_file_bytes)
        name = module_name(rel)
        deps = tuple(m for m in imports(text) if m == prefix or m.startswith(prefix + "."))
        modules[name] = ModuleSource(name=name, path=rel, imports=deps,
                                     source_sha256=hashlib.sha256(text.encode()).hexdigest())
    return modules


def olean_path(settings: Settings, module: str) -> Path:
    return settings.build_dir / Path(*module.split(".")).with_suffix(".olean")


def remove_parts(olean: Path) -> None:
    stem = str(olean)[: -len(".olean")]
    for suffix in OUTPUT_SUFFIXES:
        Path(stem + suffix).unlink(missing_ok=True)


@contextmanager
def build_lock(settings: Settings) -> Iterator[None]:
    """One build of a build folder at a time, across processes (a server and its workers on
    one machine share it): the second waits, then finds the modules up to date."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    with (settings.build_dir / ".build.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_project(settings: Settings, checker: Checker, *, progress: ProgressFn | None = None,
                  jobs: int | None = None, only: Collection[str] | None = None) -> BuildReport:
    """Build the project's modules that are out of date; ``only``: just the modules named
    there and what they import, transitively (a first call builds what it needs, not the
    whole library; names that are no project module are ignored). The report lists the
    modules considered."""
    with build_lock(settings):
        return _build(settings, checker, progress, jobs, only)


def _build(settings: Settings, checker: Checker, progress: ProgressFn | None, jobs: int | None,
           only: Collection[str] | None) -> BuildReport:
    started = time.monotonic()
    modules = discover(settings)
    manifest = load_manifest(settings.build_dir)
    built = {m: str(e.get("fingerprint", "")) for m, e in checker.builds.trusted_manifest().items()}
    dirty, prints = plan(modules, built)
    order = topological_order(modules)
    if only is not None:
        wanted = import_closure(modules, only)
        order = [m for m in order if m in wanted]
        dirty = [m for m in dirty if m in wanted]
    results: dict[str, ModuleBuild] = {}
    failed: set[str] = set()
    for name in order:
        if name not in dirty:
            results[name] = ModuleBuild(module=name, path=modules[name].path, up_to_date=True)
            if progress:
                progress(name, None)
    workers = max(1, min(jobs or cpu_count(), cpu_count()))
    artifacts = ArtifactCache(settings.artifact_cache, checker.provenance) if settings.artifact_cache else None

    def compile_one(name: str) -> ModuleBuild:
        return _compile_one(settings, checker, artifacts, modules[name], name, failed)

    with ThreadPoolExecutor(max_workers=workers) as ex:
        for wave in waves(order, modules, set(dirty)):
            for mb in ex.map(compile_one, wave):
                results[mb.module] = mb
                if not mb.ok:
                    failed.add(mb.module)
                    manifest.pop(mb.module, None)
                    remove_parts(olean_path(settings, mb.module))
                else:
                    manifest[mb.module] = checker.builds.sign(
                        mb.module, fingerprint=prints[mb.module], imports=modules[mb.module].imports,
                        path=modules[mb.module].path)
                if progress:
                    progress(mb.module, mb.result)
                _write_manifest(settings, manifest)
    for gone in set(manifest) - set(modules):
        manifest.pop(gone, None)
        remove_parts(olean_path(settings, gone))
    _write_manifest(settings, manifest)
    return BuildReport(modules=tuple(results[n] for n in order), elapsed_s=round(time.monotonic() - started, 3))


def _compile_one(settings: Settings, checker: Checker, artifacts: ArtifactCache | None, mod: ModuleSource,
                 name: str, failed: set[str]) -> ModuleBuild:
    """Compile one module (skipped when an import of it failed), through the artifact store
    when there is one."""
    blocked = [d for d in mod.imports if d in failed]
    if blocked:
        return ModuleBuild(module=name, path=mod.path, up_to_date=False,
                           skipped_reason=f"not built: its import {blocked[0]} failed")
    text = (settings.project_root / mod.path).read_text(encoding="utf-8")
    olean = olean_path(settings, name)
    if artifacts is None:
        return ModuleBuild(module=name, path=mod.path, up_to_date=False,
                           result=checker.compiler.compile_module(name, text, olean))
    key = ArtifactCache.key(name, checker.builds.module_key(name, text))
    # another checkout building it now: wait (at most this build's time limit), then copy
    with artifacts.claim(key, settings.lean_timeout_s):
        result = _restore(artifacts, key, checker, text, olean)
        if result is None:
            result = checker.compiler.compile_module(name, text, olean)
            if result.accepted:
                artifacts.store(key, olean, result)
    return ModuleBuild(module=name, path=mod.path, up_to_date=False, result=result)


def _restore(artifacts: ArtifactCache, key: str, checker: Checker, text: str,
             olean: Path) -> CheckResult | None:
    """A stored build of this module, copied into place and audited again (``None``: none
    stored, or the copy does not pass the audit, and the module is compiled)."""
    stored = artifacts.restore(key, olean)
    if stored is None:
        return None
    audit = checker.auditor.audit_file(olean, checker.builds.closure(imports(text)), Policy())
    if audit.issues:
        remove_parts(olean)
        return None
    return stored.model_copy(update={"environment": audit})


def _write_manifest(settings: Settings, manifest: dict[str, dict[str, object]]) -> None:
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.build_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, settings.build_dir / MANIFEST)


__all__ = ["BuildReport", "ModuleBuild", "build_lock", "build_project", "discover", "olean_path"]
