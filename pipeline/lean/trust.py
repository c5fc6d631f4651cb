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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pipeline.errors import SequentError
from pipeline.lean.models import AuditIssue, DeclarationFact, EnvironmentAudit, Policy, user_name
from pipeline.lean.olean.audit import (
    EnvIssue,
    added_constants,
    audit_module,
    is_auxiliary_of,
    project_reach,
)
from pipeline.lean.olean.decode import Decoder, ModuleData
from pipeline.lean.olean.environment import CoreIndex, ProjectEnvironment, build_core_index
from pipeline.lean.olean.instances import core_instance_issues
from pipeline.lean.olean.reach import citation_path, render_path
from pipeline.lean.olean.region import OleanFormatError, Region, module_parts
from pipeline.lean.olean.structural import structural_issues
from pipeline.lean.policy import is_core_class

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
        env = ProjectEnvironment(self.core, self.library)
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

    def _with_checked(self, olean: Path, project_modules: Iterable[str]) -> tuple[ProjectEnvironment, Decoder]:
        """The project's modules plus the compiled file (all its parts), as :data:`CHECKED_MODULE`."""
        env = self.project(project_modules)
        decoder = Decoder(Region(module_parts(olean), githash=env.core.githash))
        env.add_decoded(CHECKED_MODULE, decoder, decoder.module_data())
        return env, decoder

    def audit_file(self, olean: Path, project_modules: Iterable[str], policy: Policy,
                   expected: tuple[str, ...] | None = None, uncitable: Sequence[str] = ()) -> EnvironmentAudit:
        """The audit of one compiled file (all its parts beside ``olean``); ``uncitable``:
        constants its declarations may not reach (:func:`citation_issues`)."""
        try:
            env, decoder = self._with_checked(olean, project_modules)
            found, reached = audit_module(env, CHECKED_MODULE, policy.allowed_axioms)
            found += structural_issues(env, CHECKED_MODULE, self.library)
            if not policy.trusted_tooling:  # instances of core classes, through parents too
                found += core_instance_issues(env, CHECKED_MODULE, decoder, is_core_class)
            if expected is not None:
                found += added_constants(env, CHECKED_MODULE, expected)
            found += citation_issues(env, [c.name for c in env.declared_in(CHECKED_MODULE)], uncitable)
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

    def audit_members(self, olean: Path, project_modules: Iterable[str], policy: Policy, reference: str,
                      members: Sequence[str], rename: Callable[[str, int], str],
                      uncitable: Sequence[str] = ()) -> list[EnvironmentAudit | None] | None:
        """The audit of each member of a batch (``pipeline.lean.batch``), on the one compiled file.

        A member's audit holds its own constants only (its theorem ``members[i]`` and the
        auxiliaries Lean generated under it, named by ``rename``): their axiom closure, the
        issues they raise. ``None`` for a member whose result the batch cannot vouch for (its
        theorem missing, or of another type than the ``reference`` definition's value, i.e. the
        statement as Lean elaborated it before any member's text; or its proof reaching another
        member's constants). ``rename(text, i)`` writes member ``i``'s names in ``text`` as its
        own file would have them. ``None`` for all when a constant belongs to no member (the file is
        not what the batch wrote) or the file cannot be read."""
        try:
            env, decoder = self._with_checked(olean, project_modules)
            found, reached = audit_module(env, CHECKED_MODULE, policy.allowed_axioms)
            found += structural_issues(env, CHECKED_MODULE, self.library)
        except (SequentError, RecursionError, MemoryError, ValueError, IndexError):
            return None
        owner: dict[str, int] = {}
        ref_value: bytes | None = None
        for const in env.declared_in(CHECKED_MODULE):
            user = user_name(const.name)
            if user == reference and const.value is not None:
                ref_value = decoder.digest(const.value, const.level_params)
                owner[const.name] = -1
                continue
            mine = [i for i, m in enumerate(members) if user == m or is_auxiliary_of(const.name, m)]
            if len(mine) != 1:
                return None
            owner[const.name] = mine[0]
        if ref_value is None:
            return None
        out: list[EnvironmentAudit | None] = []
        for i, member in enumerate(members):
            consts = [c for c in env.declared_in(CHECKED_MODULE) if owner[c.name] == i]
            theorem = next((c for c in consts if user_name(c.name) == member), None)
            if theorem is None or decoder.digest(theorem.type, theorem.level_params) != ref_value:
                out.append(None)
                continue
            if any(owner.get(n, i) != i for n in project_reach(env, [c.name for c in consts])):
                out.append(None)
                continue
            names = {c.name for c in consts}
            facts = tuple(DeclarationFact(
                name=rename(c.name, i), kind=c.kind.value,
                type_digest=decoder.digest(c.type, c.level_params).hex(),
                axioms=tuple(sorted(reached[c.name]))) for c in consts)
            own = [f for f in found if f.declaration in names]
            own += citation_issues(env, [c.name for c in consts], uncitable)
            issues = tuple(AuditIssue(rule=f.rule, declaration=rename(f.declaration, i),
                                      message=rename(f.message, i)) for f in own)
            out.append(EnvironmentAudit(lean_githash=env.core.githash, declarations=facts, issues=issues))
        return out


def citation_issues(env: ProjectEnvironment, start: Sequence[str], uncitable: Sequence[str]) -> list[EnvIssue]:
    """A ``cites_target`` issue when a constant of ``start`` reaches one of ``uncitable``
    (directly, or through a project constant whose proof uses it), naming the path."""
    path = citation_path(env, start, uncitable)
    if path is None:
        return []
    target = user_name(path[-1])
    return [EnvIssue("cites_target", path[0],
                     f"the proof uses {target}, the declaration it must prove, through {render_path(path)}; "
                     "a submission may not cite its own target or a constant proved from it")]


__all__ = ["CHECKED_MODULE", "EnvironmentAuditor", "citation_issues", "ensure_core_index"]
