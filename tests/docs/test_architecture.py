"""The layering holds and docs/architecture.md draws the real import graph
(``scripts/import_graph.py``: no arrow points up a layer, no modules import each other in a
circle, and the graph in the doc is the one read from the code)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "import_graph.py"
DOC = REPO / "docs" / "architecture.md"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_arrow_points_up_and_no_modules_import_each_other_in_a_circle() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_doc_draws_the_graph_read_from_the_code() -> None:
    graph = load_script()
    text = DOC.read_text()
    drawn = text.split(graph.BEGIN)[1].split(graph.END)[0].strip().strip("`").strip()
    assert drawn == graph.render(), "run `python scripts/import_graph.py` and paste its output"


def write(root: Path, module: str, source: str) -> None:
    path = root / Path(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Path]:
    graph = load_script()
    monkeypatch.setattr(graph, "ROOT", tmp_path)
    for package in ("pipeline", "pipeline.lean", "pipeline.report", "experiments"):
        write(tmp_path, f"{package}.__init__", "")
    write(tmp_path, "pipeline.report.web", "from pipeline.lean import cache\n")
    write(tmp_path, "pipeline.lean.cache", "")
    return graph, tmp_path


def test_the_check_finds_an_upward_arrow_even_a_lazy_one(tree: tuple[ModuleType, Path]) -> None:
    graph, root = tree
    assert graph.upward_arrows() == []
    write(root, "pipeline.lean.cache", "def f():\n    from pipeline.report.web import x\n")
    assert [a.split(": ", 1)[1] for a in graph.upward_arrows()] == [
        "pipeline.lean.cache -> pipeline.report.web: report is not below lean"]


def test_the_check_finds_a_circle_inside_a_package(tree: tuple[ModuleType, Path]) -> None:
    graph, root = tree
    write(root, "pipeline.lean.install", "from pipeline.lean import backends\n")
    write(root, "pipeline.lean.backends", "def f():\n    from . import install\n")
    assert graph.cycles() == [["pipeline.lean.backends", "pipeline.lean.install"]]
    assert graph.upward_arrows() == []


def test_a_package_outside_every_layer_is_reported(tree: tuple[ModuleType, Path]) -> None:
    graph, root = tree
    write(root, "pipeline.newpart.__init__", "from pipeline.lean import cache\n")
    assert any("newpart is in no layer" in a for a in graph.upward_arrows())
