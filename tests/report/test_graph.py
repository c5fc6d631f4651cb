"""The layered layout and the SVG of the dependency graph (pure logic)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from pipeline.report.graph import NODE_H, GraphNode, layout, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_dependencies_sit_above_the_claims_that_use_them() -> None:
    lay = layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")])
    layer = {n: p.layer for n, p in lay.nodes.items() if not p.virtual}
    assert layer == {"a": 0, "b": 1, "c": 2, "d": 3}
    # the long edge a -> c passes through one virtual point in layer 1
    long = next(chain for chain in lay.edges if chain[0] == "a" and chain[-1] == "c")
    assert len(long) == 3 and lay.nodes[long[1]].virtual and lay.nodes[long[1]].layer == 1
    for chain in lay.edges:
        ys = [lay.nodes[n].y for n in chain]
        assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_nodes_in_one_layer_do_not_overlap_and_fit_in_the_canvas() -> None:
    ids = [f"c{i}" for i in range(7)]
    lay = layout(ids, [("c0", f"c{i}") for i in range(1, 7)])
    row = sorted((p for p in lay.nodes.values() if p.layer == 1), key=lambda p: p.x)
    assert len(row) == 6
    for left, right in itertools.pairwise(row):
        assert right.x - left.x >= 220  # node width; centres at least one node apart
    for p in lay.nodes.values():
        assert 0 < p.x < lay.width and 0 < p.y and p.y + NODE_H < lay.height


def test_barycenter_ordering_removes_an_avoidable_crossing() -> None:
    # a1 -> b2 and a2 -> b1 cross when b keeps its input order; ordering uncrosses them.
    lay = layout(["a1", "a2", "b1", "b2"], [("a1", "b2"), ("a2", "b1")])
    x = {n: p.x for n, p in lay.nodes.items()}
    assert (x["a1"] < x["a2"]) == (x["b2"] < x["b1"])


def test_a_cycle_is_broken_not_looped_forever() -> None:
    lay = layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    assert lay.reversed_edges == (("c", "a"),)
    assert {n: p.layer for n, p in lay.nodes.items()} == {"a": 0, "b": 1, "c": 2}


def test_unknown_endpoints_and_self_loops_are_ignored() -> None:
    lay = layout(["a"], [("a", "a"), ("a", "zzz"), ("yyy", "a")])
    assert lay.edges == () and set(lay.nodes) == {"a"}


def test_empty_graph() -> None:
    lay = layout([], [])
    assert lay.nodes == {} and lay.edges == ()
    ET.fromstring(render_svg([], []))


def test_svg_is_well_formed_links_nodes_and_escapes_text() -> None:
    nodes = [
        GraphNode(id="a", label="a", sublabel="proved", css_class="proved", href="claims/a.html",
                  tooltip='<script>alert("x")</script>'),
        GraphNode(id="b&c", label="b & c " + "x" * 80, css_class="unstated"),
    ]
    svg = render_svg(nodes, [("a", "b&c")])
    root = ET.fromstring(svg)  # well-formed XML, so the browser renders it
    groups = root.findall(f".//{SVG}g[@data-claim]")
    assert [g.get("data-claim") for g in groups] == ["a", "b&c"]
    links = root.findall(f".//{SVG}a")
    assert [a.get("href") for a in links] == ["claims/a.html"]
    assert "<script>" not in svg
    label = groups[1].find(f"{SVG}text").text
    assert label.endswith("…") and len(label) <= 30
    edge = root.find(f".//{SVG}path[@class='edge']")
    assert edge is not None and edge.get("data-from") == "a" and edge.get("data-to") == "b&c"
