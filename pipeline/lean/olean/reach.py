"""Which constants a compiled file's proofs reach, and by which path.

A submission proves a claim's pinned statement; it must not *cite* the claim's own declaration,
nor any constant whose proof (transitively) uses it: ``exact Formal.X.thm``, a term that
``apply?``/``exact?`` found, ``@Formal.X.thm``, a lambda or ``▸`` wrapper around it, or a
project lemma proved from it all compile to a proof term that reaches the declaration. This is
decided on the compiled environment: the closure of the constants the file's declarations use
(types, values — proofs included —, recursor rules, an inductive's constructors), through the
project's modules; core constants cannot reach a project constant and are not entered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from pipeline.lean.models import user_name
from pipeline.lean.olean.decode import Kind
from pipeline.lean.olean.environment import ProjectEnvironment


def _uses(env: ProjectEnvironment, name: str) -> frozenset[str]:
    located = env.get(name)
    if located is None:
        return frozenset()
    const = located.constant
    used = located.decoder.referenced(const)
    if const.kind in (Kind.inductive, Kind.constructor):
        used |= frozenset(const.names)
    return used


def citation_path(env: ProjectEnvironment, start: Iterable[str], targets: Iterable[str]) -> list[str] | None:
    """The shortest chain ``start constant → … → target`` of "uses" edges through project
    constants, or ``None`` when no constant of ``start`` reaches any of ``targets``."""
    wanted = set(targets)
    if not wanted:
        return None
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for name in start:
        if name not in parent:
            parent[name] = None
            queue.append(name)
    while queue:
        name = queue.popleft()
        if name in wanted or user_name(name) in wanted:
            path = [name]
            step = parent[name]
            while step is not None:
                path.append(step)
                step = parent[step]
            return path[::-1]
        for used in sorted(_uses(env, name)):
            if used not in parent and (used in wanted or user_name(used) in wanted or env.get(used) is not None):
                parent[used] = name
                queue.append(used)
    return None


def render_path(path: list[str]) -> str:
    """``a → b → c`` with private names as they were written."""
    return " → ".join(user_name(n) for n in path)


__all__ = ["citation_path", "render_path"]
