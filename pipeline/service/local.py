"""A running ``sequent serve`` found through the project's state folder, so that the CLI's
position queries (``sequent goals``) use the server's warm resident Lean workers instead of
starting a worker of their own (17-82 s a call, measured: docs/performance.md).

``sequent serve`` writes ``<state>/server.json`` (the loopback URL, its process id and a random
per-process secret; readable by its owner only) and removes it when it stops. The secret
authorizes ``POST /v1/goals`` for whoever can read the state folder (the project's owner), as
an API token would. A file left by a server that died is ignored (the process is gone, or the
URL does not answer), and the CLI falls back to its own worker."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

import httpx
from pydantic import ValidationError

from pipeline.lean.resident import Goal
from pipeline.models import Frozen
from pipeline.settings import Settings

SERVER_FILE = "server.json"
LOCAL_SECRET_HEADER = "X-Sequent-Local"


class LocalServer(Frozen):
    url: str
    pid: int
    secret: str


def new_local_secret() -> str:
    return secrets.token_urlsafe(32)


def server_file(settings: Settings) -> Path:
    return settings.state / SERVER_FILE


def loopback_url(host: str, port: int) -> str:
    """Where a process on this machine reaches a server listening on ``host``."""
    if host in ("0.0.0.0", "localhost", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def write_server_file(settings: Settings, url: str, secret: str) -> Path:
    path = server_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(LocalServer(url=url, pid=os.getpid(), secret=secret).model_dump_json())
    tmp.replace(path)
    return path


def remove_server_file(settings: Settings, secret: str) -> None:
    """Remove the file if it is still this server's (another server may have replaced it)."""
    found = read_server_file(settings)
    if found is not None and found.secret == secret:
        with contextlib.suppress(FileNotFoundError):
            server_file(settings).unlink()


def read_server_file(settings: Settings) -> LocalServer | None:
    """The server that wrote the state folder's file, if that process is still alive."""
    try:
        found = LocalServer.model_validate(json.loads(server_file(settings).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's: not ours to use
        return None
    return found


def remote_goals(settings: Settings, source: str, line: int, column: int, *,
                 timeout_s: float) -> Goal | None:
    """The goals at (1-based ``line``, 0-based ``column``) of ``source`` from a running server
    of this project; ``None`` when none answers (the caller then starts its own worker). An
    answer the server refused (bad input, policy) is raised as the server's message."""
    from pipeline.errors import InputError

    found = read_server_file(settings)
    if found is None:
        return None
    try:
        answer = httpx.post(f"{found.url}/v1/goals", json={"source": source, "line": line, "column": column},
                            headers={LOCAL_SECRET_HEADER: found.secret}, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    if answer.status_code == 200:
        return Goal.model_validate(answer.json())
    if answer.status_code in (400, 404, 413, 422):
        try:
            detail = str(answer.json().get("detail"))
        except ValueError:
            detail = answer.text
        raise InputError(detail)
    return None  # busy, starting, an older server without the route: our own worker answers


__all__ = ["LOCAL_SECRET_HEADER", "LocalServer", "loopback_url", "new_local_secret", "read_server_file",
           "remote_goals", "remove_server_file", "server_file", "write_server_file"]
