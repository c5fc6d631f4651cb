"""The Language Server Protocol transport to one resident Lean file worker (``lean --worker``).

One :class:`LspProcess` owns one process's whole life: start (own session, so a kill takes the
whole tree), the ready marker, Content-Length framing of stdout (tolerant of the wasm build's
debug lines between messages), answering the worker's own requests with ``null``, a wait for a
response under a deadline and a resident-memory cap, and the kill. It knows nothing of checks:
:mod:`pipeline.lean.resident` builds those on it.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.errors import LeanCrashError
from pipeline.lean.process import READY_MARKER, close_pipes, kill_group, tree_rss_mb

HEADER = b"Content-Length: "
STDERR_TAIL = 200
"""Lines of stderr kept for a crash report."""

JsonDict = dict[str, Any]


class WaitEnd(StrEnum):
    """How a wait for a response ended when it did not get one."""

    timeout = "timeout"
    out_of_memory = "out_of_memory"
    exited = "exited"


def frame(message: JsonDict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
    return HEADER + str(len(body)).encode() + b"\r\n\r\n" + body


class Deframer:
    """Content-Length framing over a byte stream that may also carry non-LSP lines (the wasm
    Lean prints debug lines on stdout): bytes before a header are skipped, a split header
    waits for more bytes."""

    def __init__(self) -> None:
        self.buf = b""
        self.skipped = 0

    def feed(self, chunk: bytes) -> list[JsonDict]:
        self.buf += chunk
        out: list[JsonDict] = []
        while True:
            i = self.buf.find(HEADER)
            if i < 0:
                keep = len(HEADER) - 1  # a header may be split across chunks
                if len(self.buf) > keep:
                    self.skipped += len(self.buf) - keep
                    self.buf = self.buf[-keep:]
                return out
            if i > 0:
                self.skipped += i
                self.buf = self.buf[i:]
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return out
            try:
                length = int(self.buf[len(HEADER):end].split(b"\r\n")[0])
            except ValueError:  # not a header after all: skip past it
                self.buf = self.buf[len(HEADER):]
                continue
            if len(self.buf) < end + 4 + length:
                return out
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            try:
                message = json.loads(body)
            except ValueError:
                self.skipped += length
                continue
            if isinstance(message, dict):
                out.append(message)


class LspProcess:
    """A resident Lean worker process speaking LSP on stdin/stdout."""

    def __init__(self, command: Sequence[str], *, workdir: Path, env: dict[str, str], memory_mb: int,
                 announces_ready: bool = True) -> None:
        self.command = list(command)
        self.workdir = workdir
        self.memory_mb = memory_mb
        self.peak_rss_mb = 0.0
        self._ready = threading.Event()
        self._messages: queue.Queue[JsonDict | None] = queue.Queue()
        self._write_lock = threading.Lock()
        self._stderr: list[str] = []
        self._next_id = 0
        self.deframer = Deframer()
        if not announces_ready:  # a native worker reads stdin at once
            self._ready.set()
        try:
            self.proc = subprocess.Popen(
                self.command, cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            raise LeanCrashError(f"could not start Lean ({self.command[0]}): {exc}") from exc
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True, name="lsp-stdout"),
            threading.Thread(target=self._read_stderr, daemon=True, name="lsp-stderr"),
        ]
        for t in self._threads:
            t.start()

    # -- streams ----------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        if stream is None:
            raise LeanCrashError("the Lean worker has no output pipe")
        while True:
            try:
                chunk = os.read(stream.fileno(), 1 << 16)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            for message in self.deframer.feed(chunk):
                if "method" in message and "id" in message:
                    # the worker's own requests (inlay hint / semantic token refresh): answer null
                    self._send({"id": message["id"], "result": None})
                    continue
                self._messages.put(message)
        self._messages.put(None)

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        if stream is None:
            raise LeanCrashError("the Lean worker has no error pipe")
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not self._ready.is_set() and READY_MARKER in line:
                self._ready.set()
                continue
            if line.startswith("[DEBUG") or not line.strip():
                continue
            self._stderr.append(line)
            if len(self._stderr) > 2 * STDERR_TAIL:
                del self._stderr[:STDERR_TAIL]

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr[-STDERR_TAIL:])

    def _send(self, message: JsonDict) -> bool:
        stdin = self.proc.stdin
        if stdin is None:
            raise LeanCrashError("the Lean worker has no input pipe")
        try:
            with self._write_lock:
                stdin.write(frame(message))
                stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    # -- protocol -----------------------------------------------------------------------------
    def notify(self, method: str, params: JsonDict) -> None:
        if not self._send({"method": method, "params": params}):
            raise LeanCrashError("the Lean worker closed its input", self.stderr_tail())

    def request(self, method: str, params: JsonDict) -> int:
        self._next_id += 1
        if not self._send({"id": self._next_id, "method": method, "params": params}):
            raise LeanCrashError("the Lean worker closed its input", self.stderr_tail())
        return self._next_id

    def wait_response(self, request_id: int, timeout_s: float,
                      on_message: Callable[[JsonDict], None] | None = None) -> JsonDict | WaitEnd:
        """The response to ``request_id``; notifications on the way go to ``on_message``.
        Enforces the deadline and the memory cap (the process is killed on either)."""
        deadline = time.monotonic() + timeout_s
        next_sample = 0.0
        while True:
            now = time.monotonic()
            if now >= next_sample:
                self.sample_memory()
                next_sample = now + 0.2
                if self.peak_rss_mb > self.memory_mb:
                    self.kill()
                    return WaitEnd.out_of_memory
            if now >= deadline:
                self.kill()
                return WaitEnd.timeout
            try:
                message = self._messages.get(timeout=min(0.05, max(deadline - now, 0.001)))
            except queue.Empty:
                continue
            if message is None:
                self._messages.put(None)  # stay at end of stream for later waits
                return WaitEnd.exited
            if message.get("id") == request_id and "method" not in message:
                return message
            if on_message is not None:
                on_message(message)

    def drain(self) -> None:
        """Drop messages left over from earlier versions."""
        while True:
            try:
                message = self._messages.get_nowait()
            except queue.Empty:
                return
            if message is None:
                self._messages.put(None)
                return

    # -- life ---------------------------------------------------------------------------------
    def wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._ready.wait(0.2):
                return True
            self.sample_memory()
            if not self.alive() or self.peak_rss_mb > self.memory_mb:
                self.kill()
                return False
        return False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid)

    def sample_memory(self) -> float:
        rss = self.rss_mb()
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        return rss

    def kill(self) -> None:
        """Kill the whole process group (idempotent)."""
        kill_group(self.proc)

    def close(self) -> None:
        self.kill()
        for t in self._threads:
            t.join(timeout=5)
        close_pipes(self.proc)


__all__ = ["Deframer", "LspProcess", "WaitEnd", "frame"]
