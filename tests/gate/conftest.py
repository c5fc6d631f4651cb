"""Temporary git repositories for the gate tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import git
import pytest


class GitProject:
    """A real git repository in a temporary folder, driven like a mathematician would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.repo = git.Repo.init(root, initial_branch="main")
        with self.repo.config_writer() as cfg:
            cfg.set_value("user", "name", "Gate Test")
            cfg.set_value("user", "email", "gate@example.invalid")
            cfg.set_value("commit", "gpgsign", "false")

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink()

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def replace(self, relative: str, old: str, new: str) -> None:
        text = self.read(relative)
        assert old in text, f"{old!r} not in {relative}"
        self.write(relative, text.replace(old, new))

    def commit(self, message: str = "change") -> str:
        self.repo.git.add("--all")
        self.repo.git.commit("--allow-empty", "-q", "-m", message)
        return str(self.repo.head.commit.hexsha)

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.repo.git.checkout("-q", "-b", name, start)

    def switch(self, name: str) -> None:
        self.repo.git.checkout("-q", name)

    def status(self) -> str:
        return str(self.repo.git.status("--porcelain", "--untracked-files=all"))

    def close(self) -> None:
        self.repo.close()


@pytest.fixture
def git_project(tmp_path: Path) -> Iterator[GitProject]:
    project = GitProject(tmp_path / "project")
    yield project
    project.close()
