"""Every module of the package says what it offers (``__all__``), and says it truly: each
listed name exists in the module, once, and is public (as httpx's test of its exports)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "pipeline"
WITHOUT_EXPORTS = ("pipeline.cli", "pipeline.__main__", "pipeline.evidence.pytest_plugin")
"""Entry points: run, never imported for their names."""


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def exported(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                assert node.value is not None
                return list(ast.literal_eval(node.value))
    return None


def defines_public_names(path: Path) -> bool:
    return any(isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")
               for n in ast.parse(path.read_text()).body)


MODULES = [p for p in sorted(PACKAGE.rglob("*.py"))
           if "migrations" not in p.parts and module_name(p) not in WITHOUT_EXPORTS]


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_every_exported_name_exists_once_and_is_public(path: Path) -> None:
    names = exported(path)
    if names is None:
        is_command = path.parent.name == "commands" and path.stem.endswith("_cmd")
        assert is_command or not defines_public_names(path), (
            f"{module_name(path)} defines public names but has no __all__")
        return
    module = importlib.import_module(module_name(path))
    assert len(names) == len(set(names)), f"listed twice: {sorted({n for n in names if names.count(n) > 1})}"
    assert [n for n in names if n.startswith("_") and not n.startswith("__")] == []
    assert [n for n in names if not hasattr(module, n)] == []
