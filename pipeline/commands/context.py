"""What every command needs, built once per invocation: settings and a terminal."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.settings import Settings

ProjectOption = typer.Option(None, "--project", help="Project root (default: found from the current folder).")


def load_settings(project: Path | None = None, **overrides: object) -> Settings:
    if project is not None and not Path(project).is_dir():
        raise InputError(f"--project {project}: not a folder")
    return Settings.load(project, **overrides)


def terminal() -> Terminal:
    return Terminal()


__all__ = ["ProjectOption", "load_settings", "terminal"]
