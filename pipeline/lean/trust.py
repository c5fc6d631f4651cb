"""The compiled-environment audit as the checker uses it.

:class:`EnvironmentAuditor` owns the core-library index of the backend's Lean (built once, at
``sequent lean install`` or on first use) and a cache of the project's decoded modules, and
turns the ``.olean`` parts of a freshly compiled file into an :class:`EnvironmentAudit`:

* no declared axiom, no axiom reached outside the policy's allowlist, no unresolvable reference;
* for a submission, nothing added beyond the expected declarations and their auxiliaries;
* every declaration's kind, type digest and axioms, so that callers (claims, gate, service)
  decide on facts about the kernel's terms rather than on source text.

A file that cannot be read (truncated, another Lean's, undecodable) is an ``unreadable``
issue, which rejects the check; it is never an ``accepted``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.errors import SequentError
from pipeline.lean.models import AuditIssue, DeclarationFact, EnvironmentAudit, Policy
from pipeline.lean.olean.audit import added_constants, audit_module
from pipeline.lean.olean.decode import Decoder, ModuleData
from pipeline.lean.olean.environment import CoreIndex, ProjectEnvironment, build_core_index
from pipeline.lean.olean.region import OleanFormatError, Region, module_parts

CHECKED_MODULE = "«checked file»"


def ensure_core_index(library: Path, index_path: Path, log: Callable[[str], None] | None = None) -> CoreIndex:
    """Load the core index, (re)building it when missing, unreadable or of another Lean."""
    if index_path.is_file():
        try:
            return CoreIndex.load(index_path)
        except OleanFormatError:
            pass
    if log:
        log(f"indexing the core library in {library} (once per Lean install)")
    index = build_core_index(library)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index.save(index_path)
    if log:
        log(f"indexed {len(index.kinds)} constants of {index.modules} modules in {index.elapsed_s:.1f}s")
    return index


class EnvironmentAuditor:
    """Reads compiled files against the core index and the project's built modules."""

    def __init__(self, library: Path, index_path: Path, build_dir: Path, *,
                 core: CoreIndex | None = None) -> None:
        self.library = library
        self.index_path = index_path
        self.build_dir = build_dir
        self._core: CoreIndex | None = core
        self._modules: dict[str, tuple[tuple[float, int], Decoder, ModuleData]] = {}
        self._lock = threading.Lock()

    @property
    def core(self) -> CoreIndex:
        with self._lock:
            if self._core is None:
                self._core = ensure_core_index(self.library, self.index_path)
            return self._core

    def project(self, modules: Iterable[str]) -> ProjectEnvironment:
        """The built project modules (every part), decoded once per file version."""
        env = ProjectEnvironment(self.core)
        for module in modules:
            olean = self.build_dir / Path(*module.split(".")).with_suffix(".olean")
            private = Path(str(olean) + ".private")
            stamp_file = private if private.is_file() else olean
            try:
                st = stamp_file.stat()
            except FileNotFoundError as exc:
                raise OleanFormatError(f"{olean}: {module} is not built") from exc
            stamp = (st.st_mtime, st.st_size)
            with self._lock:
                cached = self._modules.get(module)
            if cached is None or cached[0] != stamp:
                region = Region(module_parts(olean), githash=self.core.githash)
                decoder = Decoder(region)
                cached = (stamp, decoder, decoder.module_data())
                with self._lock:
                    self._modules[module] = cached
            env.add_decoded(module, cached[1], cached[2])
        return env

    def audit_file(self, olean: Path, project_modules: Iterable[str], policy: Policy,
                   expected: tuple[str, ...] | None = None) -> EnvironmentAudit:
        """The audit of one compiled file (all its parts beside ``olean``)."""
        try:
            env = self.project(project_modules)
            region = Region(module_parts(olean), githash=env.core.githash)
            decoder = Decoder(region)
            env.add_decoded(CHECKED_MODULE, decoder, decoder.module_data())
            found, reached = audit_module(env, CHECKED_MODULE, policy.allowed_axioms)
            if expected is not None:
                found += added_constants(env, CHECKED_MODULE, expected)
            facts = []
            for const in env.declared_in(CHECKED_MODULE):
                facts.append(DeclarationFact(
                    name=const.name, kind=const.kind.value,
                    type_digest=decoder.digest(const.type, const.level_params).hex(),
                    axioms=tuple(sorted(reached[const.name]))))
            return EnvironmentAudit(
                lean_githash=env.core.githash, declarations=tuple(facts),
                issues=tuple(AuditIssue(rule=i.rule, declaration=i.declaration, message=i.message)
                             for i in found))
        except SequentError as exc:
            return EnvironmentAudit(
                lean_githash=self._core.githash if self._core else "",
                issues=(AuditIssue(rule="unreadable", declaration="", message=str(exc)),))
        except (RecursionError, MemoryError, ValueError, IndexError) as exc:  # a decoder bug or a hostile file
            return EnvironmentAudit(
                lean_githash=self._core.githash if self._core else "",
                issues=(AuditIssue(rule="unreadable", declaration="",
                                   message=f"{olean.name}: the compiled file could not be decoded ({exc!r})"),))


__all__ = ["CHECKED_MODULE", "EnvironmentAuditor", "ensure_core_index"]
