"""Shared fixtures: the one embedded Lean install, per-test project folders, settings."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.settings import Settings

REPO = Path(__file__).resolve().parents[1]

# The packages' shared fixtures, visible to every test (a command's test under tests/commands/
# uses the same session-scoped built library, service project and demo run as its package).
pytest_plugins = ["tests.claims.fixtures", "tests.service.fixtures", "tests.report.fixtures"]


def lean_home() -> Path:
    """The embedded Lean installed by the README's setup (`sequent lean install`)."""
    return Path(os.environ.get("SEQUENT_LEAN_HOME", REPO / ".sequent" / "lean")).resolve()


def pytest_configure(config: pytest.Config) -> None:
    """One build-artifact store for the whole session (``Settings.artifact_cache``): a module
    that several tests build from the same source is compiled by Lean once, by the first of
    them, and every later build copies it and audits it again. Fresh per session, so every
    artifact comes from this session's Lean."""
    # a service warms a resident worker before "ready" (a Lean process per start): only the
    # tests of that warm start ask for it (tests/service/test_warm_start.py)
    os.environ.setdefault("SEQUENT_SERVICE_WARM_HEADERS", "0")
    # the kernel replay of every built module and accepted check (pipeline/lean/replay.py) is a
    # fresh Lean process of 8–15 s each; it is on in the product and in `.ci/run`'s own gate, and
    # the tests of replay itself ask for it (tests/lean/test_replay.py); every other test checks
    # everything else without it (and a build or verdict made without replay never counts for a
    # run with it: Checker.audit_id)
    os.environ.setdefault("SEQUENT_LEAN_REPLAY", "0")
    if "SEQUENT_ARTIFACT_CACHE" not in os.environ:
        store = tempfile.mkdtemp(prefix="sequent-artifacts-")
        os.environ["SEQUENT_ARTIFACT_CACHE"] = store
        config.stash[_STORE] = store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``heavy`` files first, each in collection order: the test processes take whole files
    in this order, so the files of minutes start early and the short ones fill in around them
    (taken by test count, a one-test file of minutes went last and ran alone)."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_unconfigure(config: pytest.Config) -> None:
    store = config.stash.get(_STORE, None)
    if store is not None:
        shutil.rmtree(store, ignore_errors=True)
        os.environ.pop("SEQUENT_ARTIFACT_CACHE", None)


_STORE = pytest.StashKey[str]()


def lean_env() -> dict[str, str]:
    """What a ``sequent`` subprocess with an otherwise clean environment needs to share the
    session's Lean install and build-artifact store."""
    env = {"SEQUENT_LEAN_HOME": str(lean_home()),
           "SEQUENT_LEAN_REPLAY": os.environ.get("SEQUENT_LEAN_REPLAY", "1")}
    if "SEQUENT_ARTIFACT_CACHE" in os.environ:
        env["SEQUENT_ARTIFACT_CACHE"] = os.environ["SEQUENT_ARTIFACT_CACHE"]
    return env


def lean_installed() -> bool:
    return (lean_home() / "install.json").is_file()


needs_lean = pytest.mark.skipif(
    not lean_installed(), reason="embedded Lean not installed: run `sequent lean install` (the README's setup does)"
)


LIBRARY_FILES = ("Formal", "claims", "Formal.lean", "lakefile.lean", "lean-toolchain")
"""This repository's Lean library and claims registry."""


def copy_from_repo(target: Path, names: tuple[str, ...]) -> Path:
    """Copy these files and folders of this repository (those that exist) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, target / name)
        elif src.is_file():
            shutil.copy2(src, target / name)
    return target


def make_settings(root: Path, **overrides: object) -> Settings:
    return Settings.load(root, lean_home=lean_home(), state_dir=root / ".sequent", **overrides)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder (with a lakefile so it is recognised as a project root)."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test project\n")
    return root


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of this repository's Lean library and claims registry."""
    return copy_from_repo(tmp_path / "repo", LIBRARY_FILES)


@pytest.fixture(scope="session")
def shared_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("shared-state")
