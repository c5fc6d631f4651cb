"""``sequent serve`` as a child process on a free loopback port: one class owns its life.

Used by the service's tests and benchmark, and by anything else that needs a real server
(start, wait until healthy or until the engine is ready, stop with SIGTERM, or SIGKILL).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from pipeline.settings import Settings
from tests.waiting import wait_until

CLI = "from pipeline.cli import main; main()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(settings: Settings, **service: object) -> dict[str, str]:
    """The environment of a child process that rebuilds ``settings`` (and service options)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENT_")}
    for name, value in settings.model_dump(exclude_none=True).items():
        env[f"SEQUENT_{name.upper()}"] = str(value)
    # warming a resident worker at start-up costs a Lean process per server: only the tests of
    # that warm start (test_warm_start.py) ask for it
    service.setdefault("warm_headers", 0)
    # `sequent mcp` answers initialize once the engine is ready (at most 30 s by default); the
    # tests of MCP's tools ask at once (the wait itself: test_warm_start.py)
    service.setdefault("mcp_ready_wait_s", 0)
    env.update({f"SEQUENT_SERVICE_{k.upper()}": str(v) for k, v in service.items()})
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    """Run ``sequent ARGS`` in a child process and capture its output."""
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


class ServerProcess:
    """``sequent serve`` on 127.0.0.1:<port>; ``kill()`` is a SIGKILL of the whole tree."""

    def __init__(self, root: Path, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        """``env`` from :func:`service_env`; the server's output is appended to ``log``."""
        self.root, self.env, self.log_path, self.workers = root, env, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> ServerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers), "--project", str(self.root)],
            env=self.env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{self.log()}")
            try:
                return httpx.get(self.url + "/v1/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout_s=timeout, what="the server answering /v1/health", every_s=0.2,
                   detail=self.log)
        return self

    def wait_ready(self, timeout: float = 300) -> dict[str, object]:
        """Wait until the engine is up and the library built (workers take jobs)."""

        def ready() -> dict[str, object] | None:
            try:  # a busy machine may answer late: ask again (the deadline bounds it)
                health = dict(httpx.get(self.url + "/v1/health", timeout=30).json())
            except httpx.TransportError:
                return None
            if health.get("lean_error"):
                raise RuntimeError(f"engine failed: {health['lean_error']}")
            return health if health.get("lean_ready") else None

        return wait_until(ready, timeout_s=timeout, what="the engine ready", every_s=0.5, detail=self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    def _tree(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        """SIGKILL the server; then reap the Lean processes it leaves behind (they run in
        their own sessions and would otherwise keep their memory)."""
        tree = self._tree()
        for p in tree[:1]:
            p.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=30)
        for p in tree[1:]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(tree[1:], timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        tree = self._tree()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for p in tree:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(tree, timeout=10)
        self.proc = None


__all__ = ["CLI", "ServerProcess", "free_port", "run_cli", "service_env"]
