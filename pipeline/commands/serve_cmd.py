"""``sequent serve``, ``sequent worker``, ``sequent mcp``, ``sequent token …`` and
``sequent submissions …``: the submission service from the command line."""

from __future__ import annotations

import errno
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from pipeline.commands.context import ProjectOption, app_context, load_settings, terminal
from pipeline.errors import InputError, SetupError
from pipeline.service.config import ServiceConfig

if TYPE_CHECKING:
    from pipeline.service.core import ServiceCore

token_app = typer.Typer(help="Create and manage API tokens for agents.", no_args_is_help=True)
submissions_app = typer.Typer(help="Inspect and export submissions.", no_args_is_help=True)


def _config(**overrides: object) -> ServiceConfig:
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServiceConfig(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InputError(f"invalid service setting: {exc}") from exc


@contextmanager
def _store(project: Path | None) -> Iterator[ServiceCore]:
    """The service's database and registry, without workers or Lean (for the admin commands)."""
    from pipeline.service.core import ServiceCore

    with ServiceCore(load_settings(project), _config(), worker_threads=0) as core:
        yield core


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
    config = _config(workers=workers)
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
    mount_report(app, settings, checker=lambda: app.state.core.checker(), db=lambda: app.state.core.db)
    if port:
        write_server_file(settings, loopback_url(host, port), secret)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=10)
    finally:
        remove_server_file(settings, secret)


def worker(
    threads: int = typer.Option(1, "--threads", min=1, max=64, help="Check workers in this process."),
    project: Path | None = ProjectOption,
) -> None:
    """Run check workers against the service database until interrupted (SIGINT/SIGTERM)."""
    from pipeline.service.core import ServiceCore

    settings, term = app_context(project)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with ServiceCore(settings, _config(workers=threads)) as core:
        term.info(f"preparing Lean and building {settings.formal_dir}/ ...")
        core.start(background=False)
        if core.prepare_error:
            raise SetupError(f"the Lean engine could not start: {core.prepare_error}")
        term.info(f"{threads} worker(s) checking jobs from {settings.db_url.split('://')[0]}; Ctrl-C stops")
        while not stop.wait(1.0):
            pass
        term.info(f"stopping after {core.workers.processed} job(s)")


MCP_STARTUP_TIMEOUT_S = 60
"""The server answers ``initialize`` at once (the engine warms in the background); 60 s covers a
loaded machine's Python start-up and database migration (measured: docs/performance.md)."""
MCP_TOOL_TIMEOUT_S = 600
"""A cold first call waits for the project's build (108-134 s from nothing built, measured) and
``submit_proof`` waits up to 120 s for its verdict by default; 600 s covers both with margin."""


def mcp_config(client: str, project: Path) -> str:
    """The client's configuration entry that starts ``sequent mcp`` for ``project``, with
    timeouts that fit the measured cold and warm latencies (docs/performance.md)."""
    import json
    import shutil
    import sys

    running = Path(sys.argv[0])
    exe = (str(running.absolute()) if running.name == "sequent" and running.is_file()
           else shutil.which("sequent"))
    command, prefix = (exe, []) if exe else (sys.executable, ["-m", "pipeline"])
    args = [*prefix, "mcp", "--project", str(project)]
    if client == "codex":  # ~/.codex/config.toml
        return (f"[mcp_servers.sequent]\ncommand = {json.dumps(command)}\n"
                f"args = [{', '.join(json.dumps(a) for a in args)}]\n"
                f"startup_timeout_sec = {MCP_STARTUP_TIMEOUT_S}\n"
                f"tool_timeout_sec = {MCP_TOOL_TIMEOUT_S}\n")
    # Claude Code (.mcp.json in the project), Claude Desktop, Cursor: the same JSON shape; their
    # timeouts are not per server (Claude Code: MCP_TIMEOUT / MCP_TOOL_TIMEOUT, see mcp_timeouts_note)
    return json.dumps({"mcpServers": {"sequent": {"command": command, "args": args}}}, indent=2) + "\n"


def mcp_timeouts_note(client: str) -> str | None:
    if client == "codex":
        return None
    return (f"Claude Code reads its MCP timeouts from the environment: set MCP_TIMEOUT="
            f"{MCP_STARTUP_TIMEOUT_S * 1000} and MCP_TOOL_TIMEOUT={MCP_TOOL_TIMEOUT_S * 1000} (milliseconds), "
            "e.g. in the \"env\" of .claude/settings.json; a cold first call can take minutes "
            "(docs/performance.md)")


def mcp(
    workers: int | None = typer.Option(None, "--workers", min=0, max=64,
                                       help="In-process check workers for submit_proof."),
    print_config: bool = typer.Option(False, "--print-config",
                                      help="Print the MCP client configuration that starts this server, and exit."),
    client: str = typer.Option("claude", "--client",
                               help="With --print-config: claude (.mcp.json) or codex (config.toml)."),
    project: Path | None = ProjectOption,
) -> None:
    """Run the MCP server over stdio (tools: check_proof, submit_proof, check_lean, goal_state,
    multi_attempt, minimal_hypotheses, review, list_claims, ...)."""
    from pipeline.agents.config import AgentConfig
    from pipeline.service.core import ServiceCore
    from pipeline.service.mcp_server import serve_stdio

    settings = load_settings(project)
    if print_config:
        if client not in ("claude", "codex"):
            raise InputError(f"unknown MCP client {client!r} (claude or codex)")
        term = terminal()
        term.raw(mcp_config(client, settings.project_root))
        note = mcp_timeouts_note(client)
        if note:
            term.info(note)
        return
    agents = AgentConfig.from_env()
    with ServiceCore(settings, _config(workers=workers)) as core:
        core.start()
        serve_stdio(core, agents)


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="Who uses the token (an agent's name)."),
    rate: int | None = typer.Option(None, "--rate", min=1, help="Writes per minute."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1,
                                           help="Submissions queued or running at once."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
    project: Path | None = ProjectOption,
) -> None:
    """Create a token. The secret is printed once and stored only as its hash."""
    term = terminal()
    with _store(project) as core:
        new = core.tokens.create(name, rate_per_minute=rate, max_concurrent=concurrency)
    if json_out:
        term.json(new)
        return
    term.info(f"token {new.token.id} for {new.token.name}: {new.token.rate_per_minute}/min, "
              f"{new.token.max_concurrent} concurrent. The secret is shown only now:")
    term.print(new.secret)


@token_app.command("list")
def token_list(
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
    project: Path | None = ProjectOption,
) -> None:
    """List tokens (never their secrets)."""
    term = terminal()
    with _store(project) as core:
        tokens = core.tokens.list()
    if json_out:
        term.json(tokens)
        return
    term.table(
        "API tokens",
        ["id", "name", "rate/min", "concurrent", "created", "last used", "state"],
        [
            [t.id, t.name, str(t.rate_per_minute), str(t.max_concurrent),
             t.created_at.strftime("%Y-%m-%d %H:%M"),
             t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "-",
             "revoked" if t.revoked else "active"]
            for t in tokens
        ],
    )


@token_app.command("revoke")
def token_revoke(
    name: str = typer.Argument(..., help="Token name or id."),
    project: Path | None = ProjectOption,
) -> None:
    """Revoke a token: its writes get 401 from now on."""
    with _store(project) as core:
        info = core.tokens.revoke(name)
    terminal().info(f"revoked {info.id} ({info.name})")


@submissions_app.command("list")
def submissions_list(
    claim: str | None = typer.Option(None, "--claim", help="Only this claim's submissions."),
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's."),
    verdict: str | None = typer.Option(None, "--verdict",
                                       help="accepted, rejected, error (or queued, running)."),
    since: datetime | None = typer.Option(None, "--since", help="Created at or after (ISO 8601)."),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="At most this many (a page)."),
    cursor: str | None = typer.Option(None, "--cursor", help="The previous page's next_cursor."),
    json_out: bool = typer.Option(False, "--json", help="Print the page as JSON (with next_cursor)."),
    project: Path | None = ProjectOption,
) -> None:
    """List submissions (API, MCP), newest first, with filters and pagination."""
    term = terminal()
    with _store(project) as core:
        page = core.list_submissions(claim_id=claim, agent=agent, verdict=verdict, since=since,
                                     limit=limit, cursor=cursor)
    if json_out:
        term.json(page)
        return
    term.table(f"{len(page.items)} submission(s)", ["id", "claim", "agent", "channel", "status", "created"],
               [[v.id, v.claim_id, v.agent, v.channel or "-", v.status,
                 v.created_at.strftime("%Y-%m-%d %H:%M:%S")] for v in page.items])
    if page.next_cursor:
        term.info(f"more: --cursor {page.next_cursor}")


@submissions_app.command("show")
def submissions_show(
    submission_id: str = typer.Argument(..., help="Submission id."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
    project: Path | None = ProjectOption,
) -> None:
    """Show a submission, its verdict and Lean's diagnostics."""
    term = terminal()
    with _store(project) as core:
        view = core.submission(submission_id)
    if json_out:
        term.json(view)
        return
    term.print(f"{view.id}  {view.claim_id}  by {view.agent}: {view.status}")
    if view.diagnostics:
        term.print(view.diagnostics)
    if view.error:
        term.print(view.error)


@submissions_app.command("export")
def submissions_export(
    submission_id: str = typer.Argument(..., help="Id of an accepted submission."),
    project: Path | None = ProjectOption,
) -> None:
    """Commit an accepted proof on branch sequent/review/<id> (the working tree is untouched)."""
    with _store(project) as core:
        done = core.export(submission_id)
    terminal().print(f"{done.branch} {done.commit[:12]} adds {done.path}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("mcp")(mcp)
    app.add_typer(token_app, name="token")
    app.add_typer(submissions_app, name="submissions")


__all__ = ["register"]
