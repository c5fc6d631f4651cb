"""What every command needs, built once per invocation: :class:`AppContext` (settings, the
terminal, the database when asked for). The commands are the composition root: they build the
settings and configs here and pass them down; nothing below reads the environment for them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import typer

from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.store.db import Database

ProjectOption = typer.Option(None, "--project", help="Project root (default: found from the current folder).")


class AppContext(NamedTuple):
    """``settings, term = app_context(project)``."""

    settings: Settings
    term: Terminal

    def database(self) -> Database:
        """The project's database (the caller closes it)."""
        from pipeline.store.db import Database  # SQLAlchemy: only for the commands that use it

        return Database(self.settings.db_url)


def load_settings(project: Path | None = None, **overrides: object) -> Settings:
    """The settings of ``--project`` (default: found from the current folder); a usage error
    when ``--project`` is not a folder."""
    if project is not None and not Path(project).is_dir():
        raise InputError(f"--project {project}: not a folder")
    return Settings.load(project, **overrides)


def app_context(project: Path | None = None, **overrides: object) -> AppContext:
    return AppContext(load_settings(project, **overrides), Terminal())


def terminal() -> Terminal:
    """The terminal alone, for a command that reads no project."""
    return Terminal()


__all__ = ["AppContext", "ProjectOption", "app_context", "load_settings", "terminal"]
