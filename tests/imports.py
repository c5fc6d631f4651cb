"""What a Python file imports, for the tests that check the code's shape (every module it
names, the project's and others', lazy imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path


def imported(path: Path) -> set[str]:
    """The modules ``path`` imports (``from a.b import c`` names ``a.b``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


__all__ = ["imported"]
