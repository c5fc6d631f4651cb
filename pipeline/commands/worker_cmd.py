"""``sequent worker``: check workers against the service database, in a process of their own."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from pipeline.commands.context import ProjectOption, app_context, service_config
from pipeline.errors import SetupError


def worker(
    threads: int = typer.Option(1, "--threads", min=1, max=64, help="Check workers in this process."),
    project: Path | None = ProjectOption,
) -> None:
    """Run check workers against the service database until interrupted (SIGINT/SIGTERM)."""
    from pipeline.service.services import open_services

    settings, term = app_context(project)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with open_services(settings, service_config(workers=threads)) as core:
        term.info(f"preparing Lean and building {settings.formal_dir}/ ...")
        core.start(background=False)
        if core.host.prepare_error:
            raise SetupError(f"the Lean engine could not start: {core.host.prepare_error}")
        term.info(f"{threads} worker(s) checking jobs from {settings.db_url.split('://')[0]}; Ctrl-C stops")
        while not stop.wait(1.0):
            pass
        term.info(f"stopping after {core.workers.processed} job(s)")


COMMAND = worker
"""What ``sequent worker`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND"]
