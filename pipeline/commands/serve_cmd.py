"""``sequent serve``: the HTTP API of the submission service (and the report's live pages)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import typer

from pipeline.commands.context import ProjectOption, load_settings, service_config, terminal
from pipeline.errors import InputError, SetupError


def _ensure_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SetupError(f"{host}:{port} is already in use") from exc
            raise SetupError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    workers: int | None = typer.Option(
        None, "--workers", min=0, max=64,
        help="In-process check workers (0: only accept; run `sequent worker` elsewhere).",
    ),
    project: Path | None = ProjectOption,
) -> None:
    """Run the HTTP API (FastAPI under uvicorn); OpenAPI at /openapi.json."""
    import uvicorn

    from pipeline.report.web import mount_report
    from pipeline.service.app import create_app

    settings = load_settings(project)
    config = service_config(workers=workers)
    _ensure_port_free(host, port)
    terminal().info(
        f"serving {settings.project_root} on http://{host}:{port} "
        f"({config.workers} check worker(s); database {settings.db_url.split('://')[0]})"
    )
    from pipeline.agents.config import AgentConfig
    from pipeline.service.local import (
        loopback_url,
        new_local_secret,
        remove_server_file,
        write_server_file,
    )

    secret = new_local_secret()  # `sequent goals` on this machine uses this server's workers
    app = create_app(settings, config, AgentConfig.from_env(), local_secret=secret)
    mount_report(app, settings, checker=lambda: app.state.host.checker(), db=lambda: app.state.db)
    if port:
        write_server_file(settings, loopback_url(host, port), secret)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
    finally:
        remove_server_file(settings, secret)


COMMAND = serve
"""What ``sequent serve`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND"]
