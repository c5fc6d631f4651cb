"""One Lean process's whole life, for every kind of Lean process the engine runs.

:class:`ManagedProcess` is the one lifecycle: spawn in a private working folder and in its own
session (process group), so that a timeout or the memory cap kills the whole tree (Node and its
worker threads), leaving nothing behind; the launcher's ready marker; stdout and stderr pumped
by threads; limits; kill; reap; remove the folder. Memory is capped by polling the resident set
of the tree: an address-space limit does not work for wasm, whose engine reserves large virtual
ranges. Two kinds build on it: :class:`LeanProcess` (one ``main`` run: a compile) here and
:class:`~pipeline.lean.lsp.LspProcess` (``lean --worker`` speaking LSP: the resident path).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Self

import psutil

from pipeline.errors import LeanCrashError
from pipeline.models import Frozen

READY_MARKER = '"sequent":"ready"'
DONE_MARKER = '"sequent":"done"'
POLL_S = 0.1
SAMPLE_S = 0.2
"""How often a wait samples the process tree's memory."""
STDERR_TAIL = 200
"""Lines of stderr a crash report shows."""


class RawRun(Frozen):
    """What one Lean invocation produced, before interpretation."""

    stdout: str
    stderr: str
    returncode: int | None
    elapsed_s: float
    timed_out: bool = False
    out_of_memory: bool = False
    peak_rss_mb: float = 0.0


class WaitEnd(StrEnum):
    """How a wait on a process ended when it did not get what it waited for."""

    timeout = "timeout"
    out_of_memory = "out_of_memory"
    exited = "exited"


class ManagedProcess(ABC):
    """One process in a private working folder (removed by :meth:`close`), started by
    :meth:`start`, in its own session. A subclass reads stdout (:meth:`_read_stdout`) and may
    filter stderr lines (:meth:`_on_stderr`); ``announces_ready``: the launcher prints the ready
    marker on stderr once the runtime is initialised (the embedded Lean; a native Lean is ready
    at once)."""

    kind = "Lean process"

    def __init__(self, command: Sequence[str], *, workdir: Path, env: dict[str, str], memory_mb: int,
                 announces_ready: bool = True) -> None:
        self.command = list(command)
        self.workdir = workdir
        self.env = env
        self.memory_mb = memory_mb
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.peak_rss_mb = 0.0
        self._ready = threading.Event()
        if not announces_ready:
            self._ready.set()
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []

    # -- start ----------------------------------------------------------------------------------
    def start(self) -> Self:
        self.started_at = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.command, cwd=self.workdir, env=self.env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            raise LeanCrashError(f"could not start Lean ({self.command[0]}): {exc}") from exc
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self._pipe(self.proc.stdout),), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._pipe(self.proc.stderr),), daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            raise LeanCrashError(f"the {self.kind} was not started")
        return self.proc

    def _pipe(self, stream: IO[bytes] | None) -> IO[bytes]:
        if stream is None:
            raise LeanCrashError(f"the {self.kind} has no pipe")
        return stream

    # -- streams --------------------------------------------------------------------------------
    @abstractmethod
    def _read_stdout(self, stream: IO[bytes]) -> None:
        """Read the process's stdout until it closes (the subclass's protocol)."""

    def _read_stderr(self, stream: IO[bytes]) -> None:
        marker_seen = False
        for raw in iter(stream.readline, b""):
            if not marker_seen and READY_MARKER.encode() in raw:
                marker_seen = True
                self._ready.set()
                continue
            self._on_stderr(raw)

    def _on_stderr(self, raw: bytes) -> None:
        """One stderr line (the ready marker excepted): kept."""
        self._stderr.append(raw.decode("utf-8", "replace"))

    def stderr_text(self) -> str:
        return "".join(self._stderr)

    def stderr_tail(self) -> str:
        return "".join(self._stderr[-STDERR_TAIL:]).rstrip("\n")

    # -- state and limits -------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def poll(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def sample_memory(self) -> float:
        """The tree's resident memory now (MB); the peak is kept."""
        rss = tree_rss_mb(self.proc.pid) if self.proc is not None else 0.0
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        return rss

    def over_limit(self, deadline: float) -> WaitEnd | None:
        """Sample memory; past the cap or the deadline, kill the tree and say which."""
        self.sample_memory()
        if self.peak_rss_mb > self.memory_mb:
            self.kill()
            return WaitEnd.out_of_memory
        if time.monotonic() > deadline:
            self.kill()
            return WaitEnd.timeout
        return None

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the runtime is initialised. False on timeout, death or the memory cap
        (then killed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ready.wait(SAMPLE_S):
                return True
            self.sample_memory()
            if not self.alive() or self.peak_rss_mb > self.memory_mb:
                self.kill()
                return False
        return False

    # -- teardown -------------------------------------------------------------------------------
    def kill(self) -> None:
        """Kill the whole process group and reap it (idempotent)."""
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


class LeanProcess(ManagedProcess):
    """A (possibly pre-started) Lean process that runs ``main`` once.

    ``command`` is the full argv; when ``warm`` the process waits for one request on stdin
    (the launcher's delayed ``main``), otherwise it runs immediately and ``run`` just waits.
    """

    def __init__(self, command: Sequence[str], *, workdir: Path, env: dict[str, str], warm: bool,
                 memory_mb: int) -> None:
        super().__init__(command, workdir=workdir, env=env, memory_mb=memory_mb, announces_ready=warm)
        self.warm = warm
        self._done = threading.Event()
        self._done_rc: int | None = None
        self._stdout: list[bytes] = []
        self.used = False

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            self._stdout.append(line)

    def _on_stderr(self, raw: bytes) -> None:
        """The launcher's done marker: Lean's ``main`` returned with this exit code (``null``: it
        threw, so wait for the process to end as it will)."""
        if DONE_MARKER.encode() not in raw:
            super()._on_stderr(raw)
            return
        try:
            rc = json.loads(raw).get("rc")
        except (ValueError, AttributeError):
            return
        if isinstance(rc, int) and not isinstance(rc, bool):
            self._done_rc = rc
            self._done.set()

    # -- one run ------------------------------------------------------------------------------
    def run(self, args: Sequence[str] | None, timeout_s: float) -> RawRun:
        """Send ``args`` (warm mode) and wait for exit under the time and memory limits."""
        if self.proc is None:
            self.start()
        proc = self.popen
        if proc.stdin is None:
            raise LeanCrashError("the Lean process did not start with an input pipe")
        if self.used:
            raise LeanCrashError("a Lean process runs main once; this one was already used")
        self.used = True
        if in_background():  # started ahead for anyone: background work runs it at its priority
            yield_to_calls(proc.pid)
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
                proc.stdin.write((json.dumps({"args": list(args or [])}) + "\n").encode())
                proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                self.kill()
                raise LeanCrashError("the Lean process closed its input", self.stderr_text()) from exc
        end: WaitEnd | None = None
        deadline = started + timeout_s
        while end is None:
            if self._done.wait(POLL_S):  # main returned: the output is complete; skip teardown
                self.kill()
                break
            if proc.poll() is not None:
                break
            end = self.over_limit(deadline)
        for t in self._threads:
            t.join(timeout=5)
        return RawRun(
            stdout=b"".join(self._stdout).decode("utf-8", "replace"),
            stderr=self.stderr_text(),
            returncode=None if end is not None else (
                self._done_rc if self._done.is_set() else proc.returncode),
            elapsed_s=time.monotonic() - started,
            timed_out=end is WaitEnd.timeout,
            out_of_memory=end is WaitEnd.out_of_memory,
            peak_rss_mb=self.peak_rss_mb,
        )


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


BACKGROUND_NICE = 10
"""The CPU priority (nice) of background work: an agent's calls get the cores first."""


_thread = threading.local()


def run_in_background() -> bool:
    """Mark the calling thread as background work and lower it to :data:`BACKGROUND_NICE` for
    good. On Linux a nice value is per thread and inherited by the threads and processes it
    starts; a Lean process started ahead (at normal priority) that this thread runs is lowered
    when it runs (:meth:`LeanProcess.run`), and the warm replay workers stay for the calls
    (:func:`in_background`). So the processes that answer calls get the cores first.
    Irreversible without privileges: call it from a thread that does nothing but background
    work. False where the platform has no per-thread priority."""
    _thread.background = True
    return _lower(getattr(os, "PRIO_PROCESS", 0), threading.get_native_id())


def in_background() -> bool:
    """Whether the calling thread does background work (:func:`run_in_background`)."""
    return bool(getattr(_thread, "background", False))


def yield_to_calls(pid: int) -> None:
    """Lower the process group of ``pid`` (a process started in its own session: every
    process and thread of its tree) to :data:`BACKGROUND_NICE`; best effort."""
    _lower(getattr(os, "PRIO_PGRP", 0), pid)


def _lower(which: int, who: int) -> bool:
    """Set ``who``'s nice value to :data:`BACKGROUND_NICE` (never raise one already higher);
    False where the platform has no such priority or the system refuses."""
    if not hasattr(os, "setpriority"):
        return False
    try:
        os.setpriority(which, who, max(BACKGROUND_NICE, os.getpriority(which, who)))
    except OSError:
        return False
    return True


__all__ = ["BACKGROUND_NICE", "LeanProcess", "ManagedProcess", "RawRun", "WaitEnd", "close_pipes", "in_background",
           "kill_group", "run_in_background", "tree_rss_mb", "yield_to_calls"]
