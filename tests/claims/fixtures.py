"""Fixtures of the claims tests: this repository's ``Formal/`` and ``claims/`` copied into
temporary projects. The library is built once per session (real embedded Lean); every copy
starts from those ``.olean`` files and shares one result cache, so a test pays only for the
modules and claims it changes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.lean.build import BuildReport, build_project
from pipeline.lean.checker import Checker
from pipeline.settings import Settings
from tests.conftest import LIBRARY_FILES, copy_from_repo, lean_home


def copy_sources(target: Path) -> Path:
    """This repository's Lean library and claims registry, copied to ``target``."""
    return copy_from_repo(target, LIBRARY_FILES)


def project_settings(root: Path, cache_db: Path) -> Settings:
    """One Lean process, the embedded backend, and the session's shared result cache."""
    return Settings.load(root, lean_home=lean_home(), state_dir=root / ".sequent", pool_size=1,
                         lean_backend="embedded", database_url=f"sqlite:///{cache_db}")


@dataclass(frozen=True)
class BuiltLibrary:
    settings: Settings
    report: BuildReport
    cache_db: Path


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory) -> BuiltLibrary:
    """The whole library, built once with the real Lean."""
    base = tmp_path_factory.mktemp("claims-built")
    root = copy_sources(base / "repo")
    cache_db = base / "cache.db"
    settings = project_settings(root, cache_db)
    with Checker(settings) as checker:
        report = build_project(settings, checker, jobs=1)
    return BuiltLibrary(settings=settings, report=report, cache_db=cache_db)


ProjectFactory = Callable[[str], Settings]


@pytest.fixture
def project_copy(tmp_path: Path, built_library: BuiltLibrary) -> Iterator[ProjectFactory]:
    """Make a fresh copy of the project whose build folder starts as the session's build."""

    def make(name: str) -> Settings:
        root = copy_sources(tmp_path / name)
        shutil.copytree(built_library.settings.build_dir, root / ".sequent" / "build")
        return project_settings(root, built_library.cache_db)

    yield make


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` (which must occur exactly once) by ``new`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")
