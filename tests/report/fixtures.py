"""A small real project for the report tests: this repository's debate claims (two claims,
one depending on the other) and their Lean modules, taken through ``sequent demo`` once per
session with the real embedded Lean, the real reference experiments, the real hypothesis
checks and a replayed drafting session. The report, live-page and browser tests read the
state that run left."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.conftest import REPO, lean_env, lean_home, lean_installed

MODULES = ("Basic", "Debate", "Equilibrium")
CLAIMS = ("debate_tree", "debate_equilibrium")


def small_project(root: Path) -> Path:
    """Two claims of this repository with the modules they need."""
    (root / "Formal").mkdir(parents=True)
    (root / "claims").mkdir()
    for name in MODULES:
        shutil.copy2(REPO / "Formal" / f"{name}.lean", root / "Formal" / f"{name}.lean")
    for claim in CLAIMS:
        shutil.copy2(REPO / "claims" / f"{claim}.toml", root / "claims" / f"{claim}.toml")
    for name in ("lakefile.lean", "lean-toolchain"):
        shutil.copy2(REPO / name, root / name)
    return root


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SEQUENT_", "ANTHROPIC_", "OPENAI_"))}
    env.update(lean_env(), SEQUENT_POOL_SIZE="1", NO_COLOR="1",
               COLUMNS="200")
    return env


def sequent(cwd: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(REPO / ".venv" / "bin" / "sequent"), *args], cwd=cwd,
                          env=cli_env(), capture_output=True, text=True, timeout=timeout,
                          check=False)


@dataclass(frozen=True)
class DemoRun:
    root: Path
    settings: Settings
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``sequent demo`` on the small project (real Lean, experiments, checks, replay)."""
    if not lean_installed():
        pytest.skip("embedded Lean not installed: run `sequent lean install`")
    root = small_project(tmp_path_factory.mktemp("demo") / "project")
    result = sequent(root, "demo")
    settings = Settings.load(root, lean_home=lean_home(), state_dir=root / ".sequent",
                             pool_size=1)
    return DemoRun(root=root, settings=settings, result=result)
