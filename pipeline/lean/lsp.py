"""The Language Server Protocol transport to one resident Lean file worker (``lean --worker``).

:class:`LspProcess` is a :class:`~pipeline.lean.process.ManagedProcess` (the one process
lifecycle: start in its own session, ready marker, limits, kill) that adds the protocol:
Content-Length framing of stdout (tolerant of the wasm build's debug lines between messages),
answering the worker's own requests with ``null``, and a wait for a response under a deadline
and the resident-memory cap. It knows nothing of checks: :mod:`pipeline.lean.resident` builds
those on it.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from pipeline.errors import LeanCrashError
from pipeline.lean.process import SAMPLE_S, STDERR_TAIL, ManagedProcess, WaitEnd

HEADER = b"Content-Length: "

JsonDict = dict[str, Any]


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


class LspProcess(ManagedProcess):
    """A resident Lean worker process speaking LSP on stdin/stdout (its life:
    :class:`~pipeline.lean.process.ManagedProcess`)."""

    kind = "Lean worker"

    def __init__(self, command: Sequence[str], *, workdir: Path, env: dict[str, str], memory_mb: int,
                 announces_ready: bool = True) -> None:
        super().__init__(command, workdir=workdir, env=env, memory_mb=memory_mb,
                         announces_ready=announces_ready)
        self._messages: queue.Queue[JsonDict | None] = queue.Queue()
        self._write_lock = threading.Lock()
        self._next_id = 0
        self.deframer = Deframer()

    # -- streams ----------------------------------------------------------------------------
    def _read_stdout(self, stream: IO[bytes]) -> None:
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

    def _on_stderr(self, raw: bytes) -> None:
        """Lean's lines only (not the wasm build's debug lines), the last few hundred."""
        if raw.startswith(b"[DEBUG") or not raw.strip():
            return
        super()._on_stderr(raw)
        if len(self._stderr) > 2 * STDERR_TAIL:
            del self._stderr[:STDERR_TAIL]

    def _send(self, message: JsonDict) -> bool:
        stdin = self.popen.stdin
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
                next_sample = now + SAMPLE_S
                end = self.over_limit(deadline)
                if end is not None:
                    return end
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


__all__ = ["Deframer", "LspProcess", "WaitEnd", "frame"]
