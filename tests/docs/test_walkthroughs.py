"""Every command shown in the user walkthroughs runs, in a temporary copy of the project
that is a real git repository (with a bare ``origin``), and exits as the text says.

The walkthroughs share one warm state: a session fixture builds ``Formal/`` once and checks
every claim once (Lean's results are cached in the state's database); each walkthrough
starts from a copy of it, so only what a walkthrough changes is checked again by Lean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.lean.provenance import Provenance
from pipeline.settings import Settings
from tests.conftest import REPO, copy_from_repo, lean_env, needs_lean
from tests.docs.console import commands, session

DOCS = REPO / "docs"
WALKTHROUGHS = ("walkthrough-mathematician.md", "walkthrough-agent-author.md", "walkthrough-ci.md")
PROJECT_FILES = ("Formal", "Formal.lean", "claims", "lakefile.lean", "lean-toolchain", ".github",
                 ".gitignore", "README.md", "pyproject.toml")

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]


def environment(home: Path) -> dict[str, str]:
    """What a reader's terminal has: the project's ``sequent`` on PATH, the shared Lean
    install, a git identity, and one user's build-provenance key in ``home``; no proxy or
    provider key from the machine running the tests.

    The key is the test session's own (what every in-process test signs with): one user, as a
    reader who built the project before is, so the warm state's signed builds and cached
    results count in every walkthrough, and the session's artifact store serves their builds.
    With a fresh key per ``home`` (as before) every walkthrough compiled the whole library again
    and re-checked every claim, in the server, the build and the first gate."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SEQUENT_", "GIT_", "ANTHROPIC_", "OPENAI_", "GITHUB_", "XDG_STATE_HOME"))}
    key = home / ".local" / "state" / "sequent" / "provenance.key"  # the default place
    if not key.is_file():
        key.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(session_key(), key)
    env.update(
        PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        HOME=str(home),
        GIT_AUTHOR_NAME="Ada Walkthrough", GIT_AUTHOR_EMAIL="ada@example.invalid",
        GIT_COMMITTER_NAME="Ada Walkthrough", GIT_COMMITTER_EMAIL="ada@example.invalid",
        GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1", COLUMNS="120",
    )
    env.update(lean_env())
    return env


def session_key() -> Path:
    """The provenance key the test session's in-process checks use (created if missing)."""
    settings = Settings.load(REPO)
    Provenance.load(settings)
    return settings.provenance_key_path


def copy_project(target: Path) -> Path:
    return copy_from_repo(target, PROJECT_FILES)


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def warm_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``.sequent`` of a copy of the project after ``sequent build`` and one check of every
    claim (without the Lean install, which is shared)."""
    root = copy_project(tmp_path_factory.mktemp("warm") / "project")
    env = environment(root.parent)
    for argv in (["sequent", "build"], ["sequent", "claims", "check"]):
        done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True,
                              timeout=1200, check=False)
        assert done.returncode in (0, 1), f"{argv}: {done.stdout}\n{done.stderr}"
    return root / ".sequent"


@pytest.fixture
def reader(tmp_path: Path, warm_state: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh clone-like project: a git repository on ``main`` with one commit, an
    ``origin`` remote (a bare repository), and the warm state."""
    home = tmp_path / "home"
    home.mkdir()
    env = environment(home)
    origin = tmp_path / "origin.git"
    git(tmp_path, env, "init", "-q", "--bare", "--initial-branch=main", str(origin))
    project = copy_project(tmp_path / "project")
    shutil.copytree(warm_state, project / ".sequent", symlinks=True)
    git(project, env, "init", "-q", "--initial-branch=main")
    git(project, env, "add", "--all")
    git(project, env, "commit", "-q", "-m", "Sequent project")
    git(project, env, "remote", "add", "origin", str(origin))
    git(project, env, "push", "-q", "origin", "main")
    git(project, env, "fetch", "-q", "origin")
    yield project, env


@pytest.mark.parametrize("name", WALKTHROUGHS)
def test_walkthrough_commands_run_as_documented(name: str, reader: tuple[Path, dict[str, str]]) -> None:
    project, env = reader
    cmds = commands((DOCS / name).read_text(encoding="utf-8"))
    assert cmds, f"{name} shows no command"
    with session(project, env, timeout_s=900) as terminal:
        for cmd in cmds:
            outcome = terminal.run(cmd)
            assert outcome.ok, f"{name} {outcome.describe()}"
            print(f"{outcome.elapsed_s:7.1f} s  line {cmd.line}: {cmd.text.splitlines()[0]}")


def test_every_shell_block_of_the_walkthroughs_is_a_tested_console_block() -> None:
    for name in WALKTHROUGHS:
        text = (DOCS / name).read_text(encoding="utf-8")
        assert "```console" in text
        assert "```bash" not in text and "```sh\n" not in text, f"{name}: untested shell block"


def test_the_ci_walkthrough_shows_the_workflow_this_repository_runs() -> None:
    """The workflow the CI walkthrough adds is byte for byte the one in .github/."""
    cmds = commands((DOCS / "walkthrough-ci.md").read_text(encoding="utf-8"))
    add = next(c for c in cmds if c.text.startswith("cat > .github/workflows/proofs.yml"))
    body = add.text.split("\n", 1)[1].rsplit("\n", 1)[0] + "\n"
    assert body == (REPO / ".github" / "workflows" / "proofs.yml").read_text(encoding="utf-8")
