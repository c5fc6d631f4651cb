"""The import graph of ``pipeline/`` (and ``experiments/``), read from the code.

Every ``import`` and ``from … import`` counts, at module level or inside a function, under
``TYPE_CHECKING`` or not: a lazy import is still an arrow. The layers, lowest first, are
:data:`LAYERS`; an arrow may only point to a lower layer (or stay inside its package).

    python scripts/import_graph.py            # print the package graph (as in docs/architecture.md)
    python scripts/import_graph.py --check    # exit 1 on an upward arrow or a cycle of modules

``tests/docs/test_architecture.py`` runs both: the check, and that the graph in
docs/architecture.md is the one printed here.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "experiments")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("models",),
    ("settings",),
    ("vcs",),
    ("store",),
    ("lean",),
    ("claims",),
    ("evidence", "agents"),
    ("ab",),
    ("tracking", "service", "gate"),
    ("experiments",),
    ("report",),
    ("demo",),
    ("commands",),
    ("cli",),
    ("__main__",),
)
"""Lowest first. ``experiments`` is the top-level package of reference experiments: only the
commands (the composition root) import it."""

RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}

BEGIN, END = "<!-- import-graph:begin -->", "<!-- import-graph:end -->"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """``pipeline.lean.cache`` -> ``lean``; ``experiments.sgd`` -> ``experiments``."""
    head, _, rest = module.partition(".")
    return "experiments" if head == "experiments" else rest.split(".")[0]


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every project module ``path`` imports, with the line."""
    mod = module_name(path)
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # ``from pipeline.lean import cache`` imports the module pipeline.lean.cache
            names = [f"{base}.{alias.name}" if (ROOT / Path(*f"{base}.{alias.name}".split("."))).with_suffix(".py").is_file()
                     or (ROOT / Path(*f"{base}.{alias.name}".split("."))).is_dir() else base
                     for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in PACKAGES:
                yield name, node.lineno


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def module_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sources():
        source = module_name(path)
        for target, _line in imports(path):
            if target != source:
                edges[source].add(target)
    return edges


def package_graph() -> dict[str, set[str]]:
    """``lean -> {errors, models, settings, store}``: the arrows between layers' parts."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, targets in module_edges().items():
        for target in targets:
            a, b = part_of(source), part_of(target)
            if a != b:
                graph[a].add(b)
    return graph


def upward_arrows() -> list[str]:
    found = []
    for path in sources():
        source = module_name(path)
        for target, line in imports(path):
            a, b = part_of(source), part_of(target)
            if a == b:
                continue
            if a not in RANK or b not in RANK:
                found.append(f"{path.relative_to(ROOT)}:{line}: {source} -> {target}: "
                             f"{a if a not in RANK else b} is in no layer (scripts/import_graph.py LAYERS)")
            elif RANK[b] >= RANK[a]:
                found.append(f"{path.relative_to(ROOT)}:{line}: {source} -> {target}: "
                             f"{b} is not below {a}")
    return found


def cycles() -> list[list[str]]:
    """Cycles of modules (lazy imports included), each as the list of its modules."""
    edges = module_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def render() -> str:
    """The package graph, one line per part, layers from the top down."""
    graph = package_graph()
    lines = []
    for parts in reversed(LAYERS):
        for part in parts:
            targets = sorted(graph.get(part, ()), key=lambda t: (-RANK.get(t, -1), t))
            lines.append(f"{part:<12} -> {', '.join(targets) if targets else '(nothing)'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on an upward arrow or a cycle")
    args = parser.parse_args()
    if not args.check:
        print(render())
        return 0
    problems = upward_arrows() + [" -> ".join(c) + " (a cycle)" for c in cycles()]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
