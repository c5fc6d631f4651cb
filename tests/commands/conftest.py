"""Fixtures the command tests share with the packages they drive."""

from tests.gate.conftest import git_project

__all__ = ["git_project"]
