"""``sequent mcp``: the MCP server over stdio, or (``--print-config``) the client entry that
starts it."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.commands.context import ProjectOption, load_settings, service_config, terminal
from pipeline.errors import InputError

MCP_STARTUP_TIMEOUT_S = 60
"""The server answers ``initialize`` once the engine is ready, or after
``SEQUENT_SERVICE_MCP_READY_WAIT_S`` (30 s) at the most; 60 s covers that and a loaded
machine's Python start-up and database migration (measured: docs/performance.md)."""
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
    from pipeline.service.mcp_server import build_server, serve_stdio
    from pipeline.service.services import open_services

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
    config = service_config(workers=workers)
    with open_services(settings, config) as services:
        services.start()
        server = build_server(claims=services.claims, checks=services.checks, declarations=services.declarations,
                              submissions=services.submissions, host=services.host, agents=agents)  # sets up the SDK's logging
        serve_stdio(server, services.host, ready_wait_s=config.mcp_ready_wait_s)


COMMAND = mcp
"""What ``sequent mcp`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND", "mcp_config"]
