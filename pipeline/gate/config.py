"""The gate's settings in ``pyproject.toml``, table ``[tool.sequent.gate]``::

    [tool.sequent.gate]
    new_theorem = "error"   # or "warn" (default): a new theorem in Formal/ without a claim

Command-line options override what is configured here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from pipeline.errors import PolicyConfigError
from pipeline.gate.models import NewTheoremPolicy
from pipeline.models import Frozen


class GateConfig(Frozen):
    new_theorem: NewTheoremPolicy = "warn"


def load_gate_config(project_root: Path) -> GateConfig:
    """The ``[tool.sequent.gate]`` table of the project's ``pyproject.toml`` (defaults if absent)."""
    path = project_root / "pyproject.toml"
    if not path.is_file():
        return GateConfig()
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyConfigError(f"{path} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyConfigError(f"{path} is not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("sequent", {}).get("gate", {})
    if not isinstance(table, dict):
        raise PolicyConfigError(f"{path}: [tool.sequent.gate] must be a table")
    try:
        return GateConfig.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'table'}: {err['msg']}" for err in exc.errors()
        )
        raise PolicyConfigError(f"{path} [tool.sequent.gate]: {problems}") from exc


__all__ = ["GateConfig", "load_gate_config"]
