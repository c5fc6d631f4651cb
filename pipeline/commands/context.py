"""What every command needs, built once per invocation: :class:`AppContext` (settings, the
terminal, the database when asked for). The commands are the composition root: they build the
settings and configs here and pass them down; nothing below reads the environment for them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NamedTuple

import typer

from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.service.config import ServiceConfig
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.service.services import Services
    from pipeline.store.db import Database

ProjectOption = typer.Option(None, "--project", help="Project root (default: found from the current folder).")
BuildOption = typer.Option(True, "--build/--no-build", help="Build Formal/ first, so that imports resolve.")
"""The commands that run Lean on the project's modules build them first unless told not to."""
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text (the same data, for scripts).")]
"""Every command that can answer in JSON takes ``json_out: JsonOption = False``."""


class AppContext(NamedTuple):
    """``settings, term = app_context(project)``."""

    settings: Settings
    term: Terminal

    @contextmanager
    def database(self) -> Iterator[Database]:
        """The project's database, closed when the block ends."""
        from pipeline.store.db import Database  # SQLAlchemy: only for the commands that use it

        db = Database(self.settings.db_url)
        try:
            yield db
        finally:
            db.close()


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


def service_config(**overrides: object) -> ServiceConfig:
    """The service's configuration (``SEQUENT_SERVICE_…``), with the options given on the
    command line (``None``: not given) over it; a usage error when a value is invalid."""
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServiceConfig(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InputError(f"invalid service setting: {exc}") from exc


@contextmanager
def offline_service(project: Path | None) -> Iterator[Services]:
    """The service's database and registry, without workers or Lean (for the admin commands:
    tokens, submissions)."""
    from pipeline.service.services import open_services

    with open_services(load_settings(project), service_config(), worker_threads=0) as services:
        yield services


__all__ = ["AppContext", "BuildOption", "ProjectOption", "app_context", "load_settings", "offline_service",
           "service_config", "terminal"]
