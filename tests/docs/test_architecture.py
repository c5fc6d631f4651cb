"""The layering holds and docs/architecture.md draws the real import graph
(``scripts/import_graph.py``: no arrow points up a layer, no modules import each other in a
circle, and the graph in the doc is the one read from the code)."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
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


# -- The doc's claims about the code, checked against the code (each reads both at run time) ----

PIPELINE = REPO / "pipeline"


def section(heading: str) -> str:
    """The text of the doc from ``heading`` to the next heading of its level."""
    text = DOC.read_text()
    level = heading.split(" ")[0]
    body = text.split(heading + "\n", 1)[1]
    return body.split("\n" + level + " ", 1)[0]


def parts_table() -> dict[str, str]:
    """The parts table: each row's first cell -> the whole row."""
    rows = [line for line in section("## The parts").splitlines() if line.startswith("| `")]
    return {row.split("|")[1]: row for row in rows}


def python_modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts and p.name != "__init__.py")


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a name or a chain of attributes, else ``""`` (cheaper than ast.unparse)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A module's syntax tree, read once for all the tests of this file."""
    return ast.parse(path.read_text(), str(path))


def test_every_engine_module_is_in_the_engines_file_list() -> None:
    listing = section("## The engine in detail (`pipeline/lean/`)")
    missing = [str(p.relative_to(PIPELINE / "lean")) for p in python_modules(PIPELINE / "lean")
               if not re.search(rf"(?<![\w.]){re.escape(p.name)}\b", listing)]
    assert not missing, f"docs/architecture.md's engine file list names none of {missing}"


def test_every_part_of_the_layers_is_a_row_of_the_parts_table() -> None:
    layers = [part for parts in load_script().LAYERS for part in parts]
    cells = " ".join(parts_table())
    missing = [part for part in layers
               if not re.search(rf"`(pipeline/{re.escape(part)}(/|\.py)|{re.escape(part)}/)`", cells)]
    assert not missing, f"no row of the parts table for {missing}"


COMMAND_HELPERS = {"__init__", "app", "context", "terminal"}
"""The modules of pipeline/commands that are not a command: assembly, context, the terminal."""


def test_one_command_per_commands_module() -> None:
    import typer

    from pipeline.commands.app import COMMAND_MODULES, build_app

    names = {p.stem for p in (PIPELINE / "commands").glob("*.py")}
    assert names - COMMAND_HELPERS == {m.__name__.rsplit(".", 1)[1] for m in COMMAND_MODULES}
    app = build_app()
    registered = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert sorted(registered) == sorted(m.__name__.rsplit(".", 1)[1].removesuffix("_cmd").replace("_", "-")
                                        for m in COMMAND_MODULES)
    for module in COMMAND_MODULES:
        assert module.__name__.endswith("_cmd") and (callable(module.COMMAND) or isinstance(module.COMMAND, typer.Typer)), \
            f"{module.__name__}: one command per module (its COMMAND), named as the module"


RICH_MARKUP = re.compile(r"\[/\]|\[/?(bold|dim|italic|underline|red|green|yellow|blue|cyan|magenta)\b")
WRITES = {"print", "echo", "secho"}


def test_only_the_terminal_writes_output_and_only_it_imports_rich() -> None:
    terminal = PIPELINE / "commands" / "terminal.py"
    found = []
    for path in python_modules(PIPELINE):
        if path == terminal:
            continue
        in_commands = path.parent == PIPELINE / "commands"
        for node in ast.walk(parsed(path)):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "rich" for a in node.names)
                    or isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rich"):
                found.append(f"{where} imports rich")
            elif not in_commands:
                continue
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and RICH_MARKUP.search(node.value):
                found.append(f"{where} writes Rich markup ({node.value!r}): use terminal.styled")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in WRITES:
                found.append(f"{where} calls {node.func.id}()")
            elif isinstance(node, ast.Call) and dotted(node.func) in {f"{m}.{w}" for m in ("typer", "click")
                                                                       for w in WRITES}:
                found.append(f"{where} calls {dotted(node.func)}()")
            elif isinstance(node, ast.Attribute) and dotted(node) in ("sys.stdout", "sys.stderr"):
                found.append(f"{where} writes to {dotted(node)}")
    assert not found, "commands/terminal.py owns all output:\n" + "\n".join(found)


TABLE_BASES = {"Base", "DeclarativeBase"}


def test_tables_live_only_in_tables_modules() -> None:
    """Every mapped class and ``Table(...)`` is in a package's ``tables.py`` (the store's own
    ``Base`` is the one exception: it is the metadata they all register on)."""
    found = []
    for path in python_modules(PIPELINE):
        if path.name == "tables.py" or path == PIPELINE / "store" / "db.py":
            continue
        tree = parsed(path)
        sqlalchemy_table = any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sqlalchemy")
                               and any(a.name == "Table" for a in n.names) for n in ast.walk(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and {dotted(b) for b in node.bases} & TABLE_BASES:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} class {node.name}")
            elif isinstance(node, ast.Call) and (dotted(node.func) == "sqlalchemy.Table"
                                                 or sqlalchemy_table and dotted(node.func) == "Table"):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} Table(...)")
    assert not found, "tables outside a tables.py:\n" + "\n".join(found)
    from pipeline.service.schema import TABLE_MODULES

    assert all(m.__name__.endswith(".tables") for m in TABLE_MODULES)


BUILDERS = re.compile(r"^(Settings\.load|Settings|ServiceConfig|AgentConfig|AgentConfig\.from_env|"
                      r"ServiceConfig\.from_env)$")


def test_the_doc_names_every_module_below_the_commands_that_builds_settings() -> None:
    """Settings and configs are built by the entry points; the doc's opening names each module
    outside ``pipeline/commands`` that builds one, and no other does."""
    builders = set()
    for path in python_modules(PIPELINE):
        if path.parent == PIPELINE / "commands":
            continue
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and BUILDERS.match(dotted(node.func)):
                builders.add(path.relative_to(REPO).as_posix())
    opening = DOC.read_text().split("\n## ", 1)[0]
    named = set(re.findall(r"`(pipeline/[\w/]+\.py)`", opening)) - {
        "pipeline/errors.py", "pipeline/settings.py", "pipeline/service/config.py", "pipeline/agents/config.py"}
    assert builders == named, (f"build settings but the doc does not say so: {builders - named}; "
                               f"named but build none: {named - builders}")


INFRASTRUCTURE = {"errors", "models", "settings"}


def test_the_report_row_names_every_part_the_report_reads() -> None:
    reads = load_script().package_graph()["report"] - INFRASTRUCTURE
    row = parts_table()[" `pipeline/report/` "]
    missing = sorted(part for part in reads if f"`{part}`" not in row)
    assert not missing, f"the report reads {missing}, which its row of the parts table does not name"


def test_every_file_the_words_table_names_exists() -> None:
    words = section("## Words")
    named = re.findall(r"`((?:pipeline/)?[\w/]+(?:\.py|/))`", words)
    assert named
    missing = [n for n in named if "<package>" not in n and not (REPO / n).exists()
               and not (PIPELINE / n).exists()]
    assert not missing, f"the Words table names files that do not exist: {missing}"
