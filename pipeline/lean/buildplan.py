"""Pure build planning: module graph, import order, what is out of date. No I/O, no Lean."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

from pipeline.errors import InputError
from pipeline.models import Frozen


class ModuleSource(Frozen):
    name: str
    """Dotted module name, e.g. ``Formal.Debate``."""
    path: str
    """Relative to the project root."""
    imports: tuple[str, ...]
    """Project modules it imports (core imports are dropped)."""
    source_sha256: str


def topological_order(modules: Mapping[str, ModuleSource]) -> list[str]:
    """Import order (dependencies first), deterministic; raises on a cycle or unknown module."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*trail[trail.index(name):], name])
            raise InputError(f"import cycle: {cycle}")
        if name not in modules:
            raise InputError(f"{trail[-1] if trail else '?'} imports unknown project module {name}")
        state[name] = 1
        for dep in sorted(modules[name].imports):
            visit(dep, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in sorted(modules):
        visit(name, [])
    return order


def fingerprint(module: ModuleSource, dep_fingerprints: Mapping[str, str]) -> str:
    """What a module's .olean depends on: its source and its dependencies' fingerprints."""
    h = hashlib.sha256(module.source_sha256.encode())
    for dep in sorted(module.imports):
        h.update(f"{dep}={dep_fingerprints[dep]}".encode())
    return h.hexdigest()


def plan(modules: Mapping[str, ModuleSource], built: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """(modules to rebuild in order, fingerprint of every module).

    ``built`` maps module -> fingerprint recorded when its .olean was produced. A module is
    rebuilt when its fingerprint changed, i.e. its source or any transitive import changed.
    """
    order = topological_order(modules)
    prints: dict[str, str] = {}
    dirty: list[str] = []
    for name in order:
        prints[name] = fingerprint(modules[name], prints)
        if built.get(name) != prints[name]:
            dirty.append(name)
    return dirty, prints


def import_closure(modules: Mapping[str, ModuleSource], names: Collection[str]) -> set[str]:
    """The project modules among ``names`` and everything they import, transitively."""
    seen: set[str] = set()
    stack = [n for n in names if n in modules]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(d for d in modules[name].imports if d in modules)
    return seen


def waves(order: list[str], modules: Mapping[str, ModuleSource], todo: set[str]) -> list[list[str]]:
    """Group ``todo`` into waves that can compile in parallel (each after its deps' waves)."""
    level: dict[str, int] = {}
    for name in order:
        deps = [level[d] for d in modules[name].imports if d in level]
        level[name] = (max(deps) + 1) if deps else 0
    grouped: dict[int, list[str]] = {}
    for name in order:
        if name in todo:
            grouped.setdefault(level[name], []).append(name)
    return [grouped[k] for k in sorted(grouped)]


__all__ = ["ModuleSource", "fingerprint", "import_closure", "plan", "topological_order", "waves"]
