"""Resident Lean workers: the iteration path's engine (many checks per process).

A resident worker is Lean's own file worker (``lean --worker``) kept running and fed full-text
``didChange`` notifications over LSP (:mod:`pipeline.lean.lsp`). It imports its file's header
once, so a re-check with the same header costs what elaborating the body costs (~0.1 s for a
small proof, against ~3.6 s for a warm one-shot process that first imports ``Init``).

* Workers are keyed by the file's **header** (everything up to the end of the last ``import``
  line), byte for byte: Lean's worker ends (exit code 2) when the header of its document
  changes. A check whose header no idle worker holds starts one (or replaces an idle worker of
  another header when the pool is full).
* A worker is **recycled** after ``recycle_checks`` leases (checks, goal and hover requests) or
  when its resident memory passes ``recycle_mb`` (checked after each lease), killed at once when it passes the hard cap
  ``memory_mb`` or the check's deadline (its whole process tree: own session), and a worker
  cannot outlive the process that started it (the launcher's parent watcher).
* A worker that dies in the middle of a check yields a ``crashed`` run; the next check starts
  a fresh worker.

The lifecycle (start, lease, recycle, evict, time out) is the one :class:`~pipeline.lean.pool.Pool`'s;
the process's (own session, limits, kill) the one :class:`~pipeline.lean.process.ManagedProcess`'s.

What a resident check does NOT give: an ``.olean``, hence no compiled-environment (axiom)
audit. The trust policy's token scan runs before (in :meth:`Checker.diagnose`); the
acceptance path (one-shot compile plus audit) is what records verdicts.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import LeanCrashError, LeanError
from pipeline.lean.lsp import JsonDict, LspProcess, WaitEnd
from pipeline.lean.models import Message, Severity
from pipeline.lean.pool import Pool, PoolStats
from pipeline.lean.syntax import header
from pipeline.models import Frozen

READY_TIMEOUT_S = 240.0
HEADER_CHANGED_RC = 2
"""Lean's file worker exits with this code when its document's header changes."""


CommandFactory = Callable[[Path], tuple[list[str], dict[str, str]]]
"""workdir -> (argv, environment) of a resident worker."""


def split_header(source: str) -> tuple[str, str]:
    """(header, body): the header (``syntax.header``) runs to the end of the line of its last
    token, comments before it included; a body keeps its positions."""
    end = header(source).end
    if end == 0:
        return "", source
    newline = source.find("\n", end)
    cut = len(source) if newline < 0 else newline + 1
    return source[:cut], source[cut:]


class ResidentRun(Frozen):
    """What one resident check produced, before interpretation."""

    messages: tuple[Message, ...] = ()
    timed_out: bool = False
    out_of_memory: bool = False
    crashed: bool = False
    stderr: str = ""
    elapsed_s: float
    started_worker: bool = False
    """Whether this check paid for starting a worker (and importing its header)."""
    worker_checks: int = 0
    rss_mb: float = 0.0


class Goal(Frozen):
    """The proof state at one position, as Lean's server reports it."""

    line: int
    """1-based line."""
    column: int
    """0-based column (code points)."""
    goals: tuple[str, ...] = ()
    """Tactic goals (``$/lean/plainGoal``), each rendered ``hyps ⊢ target``; empty when the
    position is not in a tactic block or the goals are closed there."""
    term_goal: str | None = None
    """Expected type at the position (``$/lean/plainTermGoal``), where there is a term."""
    messages: tuple[Message, ...] = ()
    """Lean's diagnostics for the whole source."""


# -- positions: Lean's messages count code points, LSP counts UTF-16 code units ------------------


def _utf16_to_codepoints(line_text: str, character: int) -> int:
    units = 0
    for i, ch in enumerate(line_text):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line_text)


def _codepoints_to_utf16(line_text: str, column: int) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in line_text[:column])


_SEVERITIES = {1: Severity.error, 2: Severity.warning, 3: Severity.information, 4: Severity.information}


def to_message(diagnostic: JsonDict, lines: list[str], file_name: str) -> Message:
    """An LSP diagnostic as the one-shot checker's :class:`Message` (1-based line, code points)."""
    rng = diagnostic.get("fullRange") or diagnostic.get("range") or {}

    def pos(p: Any) -> dict[str, int] | None:
        if not isinstance(p, dict):
            return None
        line = int(p.get("line", 0))
        text = lines[line] if 0 <= line < len(lines) else ""
        return {"line": line + 1, "column": _utf16_to_codepoints(text, int(p.get("character", 0)))}

    return Message.model_validate({
        "severity": _SEVERITIES.get(int(diagnostic.get("severity", 1)), Severity.error),
        "data": str(diagnostic.get("message", "")),
        "pos": pos(rng.get("start")),
        "endPos": pos(rng.get("end")),
        "kind": None,
        "fileName": file_name,
    })


# -- one worker --------------------------------------------------------------------------------


class ResidentWorker:
    """One ``lean --worker`` process holding one document with a fixed header (a
    :class:`~pipeline.lean.pool.Worker` of the resident pool)."""

    def __init__(self, header: str, factory: CommandFactory, memory_mb: int) -> None:
        self.header = header
        self.workdir = Path(tempfile.mkdtemp(prefix="sequent-resident-"))
        cmd, env = factory(self.workdir)
        self.lsp = LspProcess(cmd, workdir=self.workdir, env=env, memory_mb=memory_mb,
                              announces_ready=env.get("SEQUENT_RESIDENT") == "1")
        self.uri = (self.workdir / "Check.lean").as_uri()
        self.version = 0
        self.text: str | None = None
        self.broken = False
        """A check did not finish: the document is unusable."""
        self.checks = 0
        self.messages: tuple[Message, ...] = ()
        self.lsp.start()

    def wait_ready(self, timeout_s: float) -> bool:
        if not self.lsp.wait_ready(timeout_s):
            return False
        # The file worker takes `initialize` without answering it; `initialized` must NOT follow
        # (it treats an unknown notification as an error).
        self.lsp.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                        "initializationOptions": {"hasWidgets": False}})
        return True

    def sync(self, text: str, timeout_s: float) -> ResidentRun:
        """Make ``text`` the document's content and wait for its diagnostics."""
        started = time.monotonic()
        self.lsp.drain()
        self.version += 1
        version = self.version
        if self.text is None:
            self.lsp.notify("textDocument/didOpen", {
                "textDocument": {"uri": self.uri, "languageId": "lean4", "version": version, "text": text},
                "dependencyBuildMode": "never",
            })
        else:
            self.lsp.notify("textDocument/didChange", {
                "textDocument": {"uri": self.uri, "version": version},
                "contentChanges": [{"text": text}],
            })
        self.text = text
        latest: list[JsonDict] = []

        def on_message(message: JsonDict) -> None:
            if message.get("method") == "textDocument/publishDiagnostics":
                params = message.get("params") or {}
                if params.get("uri") == self.uri and params.get("version") == version:
                    latest[:] = list(params.get("diagnostics") or [])

        rid = self.lsp.request("textDocument/waitForDiagnostics", {"uri": self.uri, "version": version})
        answer = self.lsp.wait_response(rid, timeout_s, on_message)
        self.checks += 1
        elapsed = time.monotonic() - started
        if isinstance(answer, WaitEnd) or "error" in answer:
            self.broken = True
            return ResidentRun(
                timed_out=answer is WaitEnd.timeout, out_of_memory=answer is WaitEnd.out_of_memory,
                crashed=answer is WaitEnd.exited or not isinstance(answer, WaitEnd),
                stderr=self._crash_text(answer), elapsed_s=elapsed, worker_checks=self.checks,
                rss_mb=self.lsp.peak_rss_mb,
            )
        lines = text.split("\n")
        self.messages = tuple(to_message(d, lines, "Check.lean") for d in latest)
        return ResidentRun(messages=self.messages, elapsed_s=elapsed, worker_checks=self.checks,
                           rss_mb=self.lsp.sample_memory())

    def _crash_text(self, answer: JsonDict | WaitEnd) -> str:
        if isinstance(answer, dict):
            return f"the Lean worker answered an error: {answer.get('error')}"
        if answer is WaitEnd.exited:
            try:
                rc = self.lsp.popen.wait(5)
            except Exception:  # noqa: BLE001 - only for the report
                rc = None
            return f"the Lean worker exited (code {rc}) during the check\n{self.lsp.stderr_tail()}"
        return ""

    def goal_at(self, line: int, column: int, timeout_s: float) -> tuple[tuple[str, ...], str | None]:
        """(tactic goals, expected type) at a 1-based line and 0-based code-point column of the
        current document."""
        if self.text is None:
            raise LeanError("no document is open in this resident worker")
        lines = self.text.split("\n")
        text_line = lines[line - 1] if 0 < line <= len(lines) else ""
        position = {"line": line - 1, "character": _codepoints_to_utf16(text_line, column)}
        doc = {"textDocument": {"uri": self.uri}, "position": position}
        goals: tuple[str, ...] = ()
        term: str | None = None
        answer = self.lsp.wait_response(self.lsp.request("$/lean/plainGoal", doc), timeout_s)
        if isinstance(answer, WaitEnd):
            raise LeanCrashError(f"the Lean worker gave no goals ({answer.value})", self.lsp.stderr_tail())
        result = answer.get("result")
        if isinstance(result, dict):
            goals = tuple(str(g) for g in result.get("goals") or ())
        answer = self.lsp.wait_response(self.lsp.request("$/lean/plainTermGoal", doc), timeout_s)
        if isinstance(answer, WaitEnd):
            raise LeanCrashError(f"the Lean worker gave no goals ({answer.value})", self.lsp.stderr_tail())
        result = answer.get("result")
        if isinstance(result, dict) and result.get("goal") is not None:
            term = str(result["goal"])
        return goals, term

    def hover_at(self, line: int, column: int, timeout_s: float) -> str | None:
        """The hover text (``textDocument/hover``, markdown) at a position of the current document."""
        if self.text is None:
            raise LeanError("hover asked of a worker with no open document")
        lines = self.text.split("\n")
        text_line = lines[line - 1] if 0 < line <= len(lines) else ""
        position = {"line": line - 1, "character": _codepoints_to_utf16(text_line, column)}
        answer = self.lsp.wait_response(self.lsp.request(
            "textDocument/hover", {"textDocument": {"uri": self.uri}, "position": position}), timeout_s)
        if isinstance(answer, WaitEnd):
            raise LeanCrashError(f"the Lean worker gave no hover ({answer.value})", self.lsp.stderr_tail())
        result = answer.get("result")
        contents = result.get("contents") if isinstance(result, dict) else None
        value = contents.get("value") if isinstance(contents, dict) else None
        return str(value) if value is not None else None

    def alive(self) -> bool:
        return not self.broken and self.lsp.alive()

    def stderr_tail(self) -> str:
        return self.lsp.stderr_tail()

    def close(self) -> None:
        self.lsp.close()  # and its working folder


# -- the pool ----------------------------------------------------------------------------------


class ResidentStats(PoolStats):
    checks: int


class ResidentPool(Pool[str, ResidentWorker]):
    """Resident workers keyed by header, at most ``max_workers`` processes at once: the one
    :class:`~pipeline.lean.pool.Pool` holding :class:`ResidentWorker` s, with the iteration
    operations on top. A worker is recycled after ``recycle_checks`` leases or when its
    resident memory passes ``recycle_mb``; nothing is started that no lease waits for (or
    :meth:`prestart` asks for)."""

    def __init__(self, factory: CommandFactory, *, max_workers: int, memory_mb: int,
                 recycle_checks: int, recycle_mb: int, ready_timeout_s: float = READY_TIMEOUT_S) -> None:
        if max_workers < 1:
            raise ValueError("a resident pool needs at least one worker")
        super().__init__(lambda header: ResidentWorker(header, factory, memory_mb), max_workers,
                         name="resident Lean", ready_timeout_s=ready_timeout_s, max_uses=recycle_checks,
                         keep=lambda worker: worker.lsp.sample_memory() <= recycle_mb, expected_leases=0)
        self.max_workers = max_workers
        self.checks = 0

    def prestart(self, header: str, text: str | None = None) -> bool:
        """Start a worker holding ``header`` and leave it idle, so that the first check with
        this header finds it warm (a server warms its claims' headers before it reports
        ready). Nothing is started when an idle worker already holds ``header`` or when every
        slot is taken (an idle worker of another header is never evicted for a guess).
        ``text`` (the header and what follows it): elaborated too, so that a later document
        sharing its prefix re-elaborates only what differs. Returns whether a worker was
        started: not when the pool is closed under the start (a server shutting down)."""
        if not self.can_start(header):
            return False
        try:
            with self.lease(header, self.ready_timeout_s) as lease:
                if lease.fresh:  # the header alone: Lean imports it once, later checks keep it
                    run = lease.worker.sync(text if text is not None else header, self.ready_timeout_s)
                    if run.timed_out or run.crashed or run.out_of_memory:
                        raise LeanCrashError("the resident Lean worker did not import the header", run.stderr)
                return lease.fresh
        except LeanError:
            if self.closed:
                return False
            raise

    def check(self, source: str, timeout_s: float) -> ResidentRun:
        """Lean's diagnostics for ``source`` from a worker holding its header. A worker that
        exits because Lean disagreed about where the header ends is retried once, fresh."""
        header, _ = split_header(source)
        for attempt in (1, 2):
            with self.lease(header, timeout_s + self.ready_timeout_s) as lease:
                run = lease.worker.sync(source, timeout_s)
                rc = lease.worker.lsp.poll()
            with self._cond:
                self.checks += 1
            if run.crashed and lease.fresh and rc == HEADER_CHANGED_RC and attempt == 1:
                continue
            return run.model_copy(update={"started_worker": lease.fresh})
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def _synced(self, source: str, timeout_s: float) -> Iterator[ResidentWorker]:
        """A worker holding ``source`` elaborated (for position requests)."""
        header, _ = split_header(source)
        with self.lease(header, timeout_s + self.ready_timeout_s) as lease:
            worker = lease.worker
            if worker.text != source:
                run = worker.sync(source, timeout_s)
                if run.timed_out or run.crashed or run.out_of_memory:
                    raise LeanCrashError("the Lean worker did not finish elaborating the source "
                                         f"({'timeout' if run.timed_out else 'crash'})", run.stderr)
            yield worker

    def goals(self, source: str, line: int, column: int, timeout_s: float) -> Goal:
        with self._synced(source, timeout_s) as worker:
            goals, term = worker.goal_at(line, column, timeout_s)
            return Goal(line=line, column=column, goals=goals, term_goal=term, messages=worker.messages)

    def hovers(self, source: str, points: Sequence[tuple[int, int]], timeout_s: float) -> list[str | None]:
        """The hover text at each (1-based line, 0-based column) of ``source``."""
        with self._synced(source, timeout_s) as worker:
            return [worker.hover_at(line, column, timeout_s) for line, column in points]

    def stats(self) -> ResidentStats:
        with self._cond:
            checks = self.checks
        return ResidentStats(**super().stats().model_dump(), checks=checks)

    def worker_pids(self) -> list[int]:
        """Process ids of the workers alive now, idle or busy."""
        return [w.lsp.pid for w in self.workers()]


__all__ = ["Goal", "ResidentPool", "ResidentRun", "ResidentStats", "ResidentWorker", "split_header",
           "to_message"]
