"""One class owns one Lean process's whole life: start, readiness, one run, limits, kill.

The process runs in its own session (process group) so that a timeout or the memory cap
kills the whole tree (Node and its worker threads), leaving nothing behind. Memory is
capped by polling the resident set of the tree: an address-space limit does not work for
wasm, whose engine reserves large virtual ranges.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import psutil

from pipeline.errors import LeanCrashError
from pipeline.models import Frozen

READY_MARKER = '"sequent":"ready"'
DONE_MARKER = '"sequent":"done"'
POLL_S = 0.1


class RawRun(Frozen):
    """What one Lean invocation produced, before interpretation."""

    stdout: str
    stderr: str
    returncode: int | None
    elapsed_s: float
    timed_out: bool = False
    out_of_memory: bool = False
    peak_rss_mb: float = 0.0


class LeanProcess:
    """A (possibly pre-started) Lean process in a private working folder.

    ``command`` is the full argv; when ``warm`` the process waits for one request on stdin
    (the launcher's delayed ``main``), otherwise it runs immediately and ``run`` just waits.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        workdir: Path,
        env: dict[str, str],
        warm: bool,
        memory_mb: int,
    ) -> None:
        self.command = list(command)
        self.workdir = workdir
        self.env = env
        self.warm = warm
        self.memory_mb = memory_mb
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._ready = threading.Event()
        self._done = threading.Event()
        self._done_rc: int | None = None
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self.peak_rss_mb = 0.0
        self.used = False

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> LeanProcess:
        self.started_at = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise LeanCrashError(f"could not start Lean ({self.command[0]}): {exc}") from exc
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._stderr, True), daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def _pump(self, stream: object, sink: list[bytes], markers: bool) -> None:
        """Collect one output stream; with ``markers`` (stderr), act on the launcher's
        ready and done lines instead of keeping them."""
        if stream is None:
            raise LeanCrashError("the Lean process has no output pipe")
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            if markers and not self._ready.is_set() and READY_MARKER.encode() in line:
                self._ready.set()
                continue
            if markers and DONE_MARKER.encode() in line:
                self._main_returned(line)
                continue
            sink.append(line)

    def _main_returned(self, line: bytes) -> None:
        """The launcher's marker: Lean's ``main`` returned with this exit code (``null``: it
        threw, so wait for the process to end as it will)."""
        try:
            rc = json.loads(line).get("rc")
        except (ValueError, AttributeError):
            return
        if isinstance(rc, int) and not isinstance(rc, bool):
            self._done_rc = rc
            self._done.set()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the runtime is initialised (warm mode). False on timeout or death."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ready.wait(0.2):
                return True
            self._sample_memory()
            if not self.alive():
                return False
            if self.peak_rss_mb > self.memory_mb:
                self.kill()
                return False
        return False

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stderr_text(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    # -- one run ------------------------------------------------------------------------------
    def run(self, args: Sequence[str] | None, timeout_s: float) -> RawRun:
        """Send ``args`` (warm mode) and wait for exit under the time and memory limits."""
        if self.proc is None:
            self.start()
        if self.proc is None or self.proc.stdin is None:
            raise LeanCrashError("the Lean process did not start with an input pipe")
        if self.used:
            raise LeanCrashError("a Lean process runs main once; this one was already used")
        self.used = True
        started = time.monotonic()
        if self.warm:
            if not self.wait_ready(timeout_s):
                over_memory = self.peak_rss_mb > self.memory_mb
                still_running = self.alive()
                self.kill()
                if over_memory or still_running:  # a limit hit while Lean was still starting
                    return RawRun(stdout="", stderr=self.stderr_text(), returncode=None,
                                  elapsed_s=time.monotonic() - started, timed_out=not over_memory,
                                  out_of_memory=over_memory, peak_rss_mb=self.peak_rss_mb)
                raise LeanCrashError("the Lean process died before it was ready", self.stderr_text())
            try:
                self.proc.stdin.write((json.dumps({"args": list(args or [])}) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                self.kill()
                raise LeanCrashError("the Lean process closed its input", self.stderr_text()) from exc
        timed_out = oom = False
        deadline = started + timeout_s
        while True:
            if self._done.wait(POLL_S):  # main returned: the output is complete; skip teardown
                self.kill()
                break
            if self.proc.poll() is not None:
                break
            self._sample_memory()
            if self.peak_rss_mb > self.memory_mb:
                oom = True
                self.kill()
                break
            if time.monotonic() > deadline:
                timed_out = True
                self.kill()
                break
        for t in self._threads:
            t.join(timeout=5)
        return RawRun(
            stdout=b"".join(self._stdout).decode("utf-8", "replace"),
            stderr=self.stderr_text(),
            returncode=None if (timed_out or oom) else (
                self._done_rc if self._done.is_set() else self.proc.returncode),
            elapsed_s=time.monotonic() - started,
            timed_out=timed_out,
            out_of_memory=oom,
            peak_rss_mb=self.peak_rss_mb,
        )

    # -- limits and teardown ----------------------------------------------------------------
    def tree_rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid) if self.proc is not None else 0.0

    def _sample_memory(self) -> None:
        self.peak_rss_mb = max(self.peak_rss_mb, self.tree_rss_mb())

    def kill(self) -> None:
        """Kill the whole process group (idempotent)."""
        if self.proc is not None:
            kill_group(self.proc)

    def close(self) -> None:
        """Kill, drain the output threads, close the pipes and remove the working folder."""
        self.kill()
        for t in self._threads:
            t.join(timeout=5)
        if self.proc is not None:
            close_pipes(self.proc)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tree_rss_mb(pid: int) -> float:
    """Resident memory (MB) of a process and all its descendants; 0 when it is gone."""
    try:
        root = psutil.Process(pid)
        total = 0
        for p in [root, *root.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total / (1 << 20)
    except psutil.Error:
        return 0.0


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL a process's whole group and reap it (idempotent)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - kernel did not reap in 5 s
        pass


def close_pipes(proc: subprocess.Popen[Any]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


__all__ = ["LeanProcess", "RawRun", "close_pipes", "kill_group", "tree_rss_mb"]
