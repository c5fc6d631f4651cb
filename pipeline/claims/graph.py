"""The claims' dependency graph: cycles, order, and its DOT / JSON renderings. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle as ``[a, b, …, a]``, or None. Unknown targets are ignored."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt):], nxt]
            if state.get(nxt) is None:
                found = visit(nxt, [*trail, nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in edges:
        if state.get(node) is None:
            found = visit(node, [node])
            if found:
                return found
    return None


def dependency_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes with every dependency before its dependents (input order otherwise kept).
    Nodes on a cycle are appended at the end in input order."""
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> None:
        if node in done or node in visiting:
            return
        visiting.add(node)
        for dep in edges.get(node, ()):
            if dep in edges:
                visit(dep)
        visiting.discard(node)
        done.add(node)
        order.append(node)

    for node in edges:
        visit(node)
    return order


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nodes: Sequence[tuple[str, str]], edges: Mapping[str, Sequence[str]]) -> str:
    """Graphviz DOT: one node per claim (id, label), an edge from a claim to each dependency."""
    lines = ["digraph claims {", "  rankdir=BT;", "  node [shape=box];"]
    for node_id, label in nodes:
        lines.append(f"  {_dot_id(node_id)} [label={_dot_id(f'{node_id}: {label}')}];")
    for src in edges:
        for dst in edges[src]:
            lines.append(f"  {_dot_id(src)} -> {_dot_id(dst)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_payload(nodes: Sequence[tuple[str, str]],
               edges: Mapping[str, Sequence[str]]) -> dict[str, list[dict[str, str]]]:
    """The graph as plain data: ``{"nodes": [{id, title}], "edges": [{from, to}]}``."""
    return {
        "nodes": [{"id": node_id, "title": label} for node_id, label in nodes],
        "edges": [{"from": src, "to": dst} for src in edges for dst in edges[src]],
    }


def to_json(nodes: Sequence[tuple[str, str]], edges: Mapping[str, Sequence[str]]) -> str:
    return json.dumps(to_payload(nodes, edges), indent=2, ensure_ascii=False) + "\n"


__all__ = ["dependency_order", "find_cycle", "to_dot", "to_json", "to_payload"]
