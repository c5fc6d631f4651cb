"""The claims dependency graph as inline SVG, laid out in Python (pure logic, no JS).

A simple layered (Sugiyama-style) layout:

1. cycles are broken by ignoring DFS back edges (the registry should have none);
2. each node's layer is the longest path from a claim with no dependencies, so every
   dependency sits above the claims that use it;
3. an edge that spans several layers gets a virtual point in each layer between;
4. the order within each layer is improved by a few barycenter sweeps (down, then up);
5. nodes get coordinates, each layer centred on the widest one.

Edges point from a dependency to the claim that depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import pairwise

from pipeline.models import Frozen

NODE_W = 220
NODE_H = 58
VIRTUAL_W = 24
H_GAP = 28
V_GAP = 70
MARGIN = 16
CHARS = 30
"""Characters that fit on one line of a node at the font size used."""


class GraphNode(Frozen):
    id: str
    label: str
    """First line (bold)."""
    sublabel: str = ""
    """Second line."""
    css_class: str = ""
    href: str | None = None
    tooltip: str = ""


class Placed(Frozen):
    id: str
    layer: int
    x: float
    """Centre."""
    y: float
    """Top."""
    virtual: bool = False


class Layout(Frozen):
    nodes: dict[str, Placed]
    edges: tuple[tuple[str, ...], ...]
    """Each edge as the chain of node ids it passes through (source, virtual..., target)."""
    reversed_edges: tuple[tuple[str, str], ...] = ()
    """Edges ignored to break a cycle (drawn dashed)."""
    width: float
    height: float


def _break_cycles(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    back: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, i = stack[-1]
            if i < len(succ[node]):
                stack[-1] = (node, i + 1)
                nxt = succ[node][i]
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                stack.pop()
    kept = [e for e in edges if e not in back]
    return kept, [e for e in edges if e in back]


def _layers(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        preds[b].append(a)
    layer: dict[str, int] = {}

    def visit(node: str) -> int:
        # iterative longest-path on a DAG
        stack = [node]
        while stack:
            cur = stack[-1]
            if cur in layer:
                stack.pop()
                continue
            pending = [p for p in preds[cur] if p not in layer]
            if pending:
                stack.extend(pending)
                continue
            layer[cur] = 1 + max((layer[p] for p in preds[cur]), default=-1)
            stack.pop()
        return layer[node]

    for i in ids:
        visit(i)
    return layer


def layout(ids: Sequence[str], edges: Sequence[tuple[str, str]], *, sweeps: int = 4) -> Layout:
    """Place ``ids`` (in their given order) and ``edges`` (dependency, dependent)."""
    ids = list(dict.fromkeys(ids))
    known = set(ids)
    edges = list(dict.fromkeys((a, b) for a, b in edges if a in known and b in known and a != b))
    kept, back = _break_cycles(ids, edges)
    layer = _layers(ids, kept)
    chains, virtual = _chains(kept, layer)
    n_layers = 1 + max(layer.values(), default=-1)
    rows = _ordered_rows(ids, layer, chains, n_layers, sweeps)
    placed, total_w = _place(rows, virtual)
    height = MARGIN * 2 + n_layers * NODE_H + max(n_layers - 1, 0) * V_GAP
    return Layout(
        nodes=placed,
        edges=tuple(tuple(c) for c in chains),
        reversed_edges=tuple(back),
        width=total_w + 2 * MARGIN,
        height=height if n_layers else 2 * MARGIN,
    )


def _chains(kept: Sequence[tuple[str, str]], layer: dict[str, int]
            ) -> tuple[list[list[str]], set[str]]:
    """Each kept edge as a chain through one virtual node per layer it spans (added to
    ``layer``), and the virtual nodes."""
    chains: list[list[str]] = []
    virtual: set[str] = set()
    for a, b in kept:
        chain = [a]
        for k in range(layer[a] + 1, layer[b]):
            v = f"\0{a}\0{b}\0{k}"
            layer[v] = k
            virtual.add(v)
            chain.append(v)
        chain.append(b)
        chains.append(chain)
    return chains, virtual


def _ordered_rows(ids: Sequence[str], layer: dict[str, int], chains: list[list[str]],
                  n_layers: int, sweeps: int) -> list[list[str]]:
    """The nodes of each layer, ordered by ``sweeps`` down-and-up passes of the barycentre
    heuristic (each node at the mean position of its neighbours in the adjacent layer)."""
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for node in ids:
        rows[layer[node]].append(node)
    for chain in chains:
        for v in chain[1:-1]:
            rows[layer[v]].append(v)

    up: dict[str, list[str]] = {n: [] for n in layer}
    down: dict[str, list[str]] = {n: [] for n in layer}
    for chain in chains:
        for a, b in pairwise(chain):
            down[a].append(b)
            up[b].append(a)

    def reorder(row: list[str], neighbours: dict[str, list[str]], ref: list[str]) -> list[str]:
        pos = {n: i for i, n in enumerate(ref)}

        def key(item: tuple[int, str]) -> tuple[float, int]:
            i, n = item
            ns = [pos[m] for m in neighbours[n] if m in pos]
            return (sum(ns) / len(ns) if ns else float(i), i)

        return [n for _, n in sorted(enumerate(row), key=key)]

    for _ in range(sweeps):
        for k in range(1, n_layers):
            rows[k] = reorder(rows[k], up, rows[k - 1])
        for k in range(n_layers - 2, -1, -1):
            rows[k] = reorder(rows[k], down, rows[k + 1])
    return rows


def _place(rows: list[list[str]], virtual: set[str]) -> tuple[dict[str, Placed], float]:
    """Each node's position (rows centred on the widest), and the widest row's width."""

    def width_of(n: str) -> float:
        return VIRTUAL_W if n in virtual else NODE_W

    row_widths = [sum(width_of(n) for n in row) + H_GAP * max(len(row) - 1, 0) for row in rows]
    total_w = max(row_widths, default=0.0)
    placed: dict[str, Placed] = {}
    for k, row in enumerate(rows):
        x = MARGIN + (total_w - row_widths[k]) / 2
        for n in row:
            w = width_of(n)
            placed[n] = Placed(id=n, layer=k, x=x + w / 2, y=MARGIN + k * (NODE_H + V_GAP),
                               virtual=n in virtual)
            x += w + H_GAP
    return placed, total_w


def _clip(text: str, limit: int = CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _edge_path(points: list[tuple[float, float]]) -> str:
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    px, py = x0, y0
    for x, y in rest:
        mid = (py + y) / 2
        parts.append(f"C{px:.1f},{mid:.1f} {x:.1f},{mid:.1f} {x:.1f},{y:.1f}")
        px, py = x, y
    return " ".join(parts)


def render_svg(nodes: Sequence[GraphNode], edges: Sequence[tuple[str, str]], *,
               title: str = "Claims dependency graph") -> str:
    """The graph as one ``<svg>`` element (text, safe to inline in HTML)."""
    lay = layout([n.id for n in nodes], edges)
    out: list[str] = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="claim-graph" role="img" '
         f'width="{lay.width:.0f}" height="{lay.height:.0f}" '
         f'viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" aria-label="{escape(title)}">'),
        f"<title>{escape(title)}</title>",
        ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
         'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
         'class="arrow-head"/></marker></defs>'),
        '<g class="edges">',
    ]
    for chain in lay.edges:
        pts: list[tuple[float, float]] = []
        for i, nid in enumerate(chain):
            p = lay.nodes[nid]
            if p.virtual:
                pts.append((p.x, p.y + NODE_H / 2))
            elif i == 0:
                pts.append((p.x, p.y + NODE_H))
            else:
                pts.append((p.x, p.y))
        out.append(
            f'<path class="edge" data-from="{escape(chain[0])}" data-to="{escape(chain[-1])}" '
            f'd="{_edge_path(pts)}" marker-end="url(#arrow)"/>'
        )
    for a, b in lay.reversed_edges:
        pa, pb = lay.nodes[a], lay.nodes[b]
        out.append(
            f'<path class="edge cycle" data-from="{escape(a)}" data-to="{escape(b)}" '
            f'd="M{pa.x:.1f},{pa.y:.1f} L{pb.x:.1f},{pb.y + NODE_H:.1f}" marker-end="url(#arrow)"/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for node in nodes:
        p = lay.nodes[node.id]
        x0 = p.x - NODE_W / 2
        body = [
            f'<g class="node {escape(node.css_class)}" data-claim="{escape(node.id)}">',
            f"<title>{escape(node.tooltip or node.label)}</title>",
            f'<rect x="{x0:.1f}" y="{p.y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" ry="8"/>',
            (f'<text class="label" x="{p.x:.1f}" y="{p.y + 23:.1f}" text-anchor="middle">'
             f"{escape(_clip(node.label))}</text>"),
        ]
        if node.sublabel:
            body.append(
                f'<text class="sublabel" x="{p.x:.1f}" y="{p.y + 43:.1f}" text-anchor="middle">'
                f"{escape(_clip(node.sublabel, CHARS + 8))}</text>"
            )
        body.append("</g>")
        if node.href:
            out.append(f'<a href="{escape(node.href)}">' + "".join(body) + "</a>")
        else:
            out.append("".join(body))
    out.append("</g></svg>")
    return "\n".join(out)


__all__ = ["NODE_H", "NODE_W", "GraphNode", "Layout", "Placed", "layout", "render_svg"]
