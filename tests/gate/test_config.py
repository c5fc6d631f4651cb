"""``[tool.sequent.gate]`` in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import PolicyConfigError
from pipeline.gate.config import GateConfig, load_gate_config


def test_defaults_without_pyproject_or_table(tmp_path: Path) -> None:
    assert load_gate_config(tmp_path) == GateConfig(new_theorem="warn")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_gate_config(tmp_path).new_theorem == "warn"


def test_reads_the_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.sequent.gate]\nnew_theorem = 'error'\n")
    assert load_gate_config(tmp_path).new_theorem == "error"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[tool.sequent.gate]\nnew_theorem = 'sometimes'\n", "new_theorem"),
        ("[tool.sequent.gate]\nunknown = 1\n", "unknown"),
        ("[tool.sequent.gate\n", "not valid TOML"),
        ("[tool.sequent]\ngate = 3\n", "must be a table"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(PolicyConfigError, match=needle) as info:
        load_gate_config(tmp_path)
    assert "pyproject.toml" in str(info.value)


def test_non_utf8_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"\xff\xfe[tool]")
    with pytest.raises(PolicyConfigError, match="UTF-8"):
        load_gate_config(tmp_path)
