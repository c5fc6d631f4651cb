"""The report's header names the project from its configuration, not from its folder."""

from __future__ import annotations

from pathlib import Path

from pipeline.report.collect import project_name
from tests.conftest import make_settings


def test_the_name_comes_from_the_configuration(project: Path) -> None:
    settings = make_settings(project)
    assert project_name(settings) == "proj"  # nothing configured: the folder's name
    (project / "lakefile.lean").write_text("import Lake\nopen Lake DSL\n\npackage «safety-proofs» where\n")
    assert project_name(settings) == "safety-proofs"
    (project / "pyproject.toml").write_text('[project]\nname = "alignment-guarantees"\n')
    assert project_name(settings) == "alignment-guarantees"
    (project / "pyproject.toml").write_text('[project]\nname = "pkg"\n[tool.sequent]\nname = "Guarantees"\n')
    assert project_name(settings) == "Guarantees"
    (project / "pyproject.toml").write_text("not toml [")
    assert project_name(settings) == "safety-proofs"  # an unreadable pyproject: the next source
