"""The dependency graph: cycles, order, renderings."""

from __future__ import annotations

import json

from pipeline.claims.graph import dependency_order, find_cycle, to_dot, to_json


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["a"]}) == ["a", "b", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"x": [], "a": ["b"], "b": ["c"], "c": ["b"]}) == ["b", "c", "b"]
    assert find_cycle({"a": ["missing"]}) is None


def test_dependency_order_puts_dependencies_first() -> None:
    order = dependency_order({"c": ["b"], "b": ["a"], "a": [], "d": []})
    assert order.index("a") < order.index("b") < order.index("c")
    assert sorted(order) == ["a", "b", "c", "d"]
    assert sorted(dependency_order({"a": ["b"], "b": ["a"]})) == ["a", "b"]


def test_renderings() -> None:
    nodes = [("a", 'A "quoted" title'), ("b", "B")]
    dot = to_dot(nodes, {"a": ["b"], "b": []})
    assert dot.startswith("digraph claims {") and '"a" -> "b";' in dot
    assert 'label="a: A \\"quoted\\" title"' in dot
    data = json.loads(to_json(nodes, {"a": ["b"], "b": []}))
    assert data["edges"] == [{"from": "a", "to": "b"}]
    assert [n["id"] for n in data["nodes"]] == ["a", "b"]
