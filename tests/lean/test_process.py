"""The one process lifecycle (pipeline.lean.process.ManagedProcess) and its two kinds, run on
real processes that are not Lean: small Python programs that speak the launcher's protocol
(ready and done markers on stderr, one request on stdin) and LSP framing. What is tested is
the lifecycle (start, ready, limits, kill of the whole group, reap, stderr capture, the pool
around it), not Lean's verdicts: those are tests/lean/test_checker.py and test_resident.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil
import pytest

from pipeline.errors import LeanCrashError
from pipeline.lean.lsp import LspProcess, WaitEnd
from pipeline.lean.pool import Pool
from pipeline.lean.process import BACKGROUND_NICE, LeanProcess, run_in_background
from tests.waiting import wait_until

LAUNCHER = r"""
import json, os, subprocess, sys, time
if os.environ.get("DIE_EARLY"):
    print("no runtime here", file=sys.stderr, flush=True)
    sys.exit(7)
print('{"sequent":"ready"}', file=sys.stderr, flush=True)
args = json.loads(sys.stdin.readline())["args"]
rc = 0
if args[0] == "echo":
    print("\n".join(args[1:]), flush=True)
    print("a line of stderr", file=sys.stderr, flush=True)
elif args[0] == "hang":  # a child in the same group, then no answer
    child = subprocess.Popen(["sleep", "600"])
    print(child.pid, flush=True)
    time.sleep(600)
elif args[0] == "eat":
    block = bytearray(400 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(600)
print(json.dumps({"sequent": "done", "rc": rc}, separators=(",", ":")), file=sys.stderr, flush=True)
time.sleep(600)  # like the launcher: main returned, the runtime lingers until killed
"""

LSP = r"""
import json, sys
out = sys.stdout.buffer
def send(msg):
    body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
    out.write(b"[DEBUG] a wasm line\n" + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    out.flush()
def read():
    length = 0
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            sys.exit(0)
        if line.startswith(b"Content-Length: "):
            length = int(line.split(b":")[1])
        elif line == b"\r\n":
            return json.loads(sys.stdin.buffer.read(length))
print("[DEBUG] starting", file=sys.stderr, flush=True)
print('{"sequent":"ready"}', file=sys.stderr, flush=True)
send({"id": "s1", "method": "workspace/semanticTokens/refresh"})  # the worker's own request
while True:
    msg = read()
    if msg.get("id") == "s1" and "result" in msg:
        print("the client answered", msg["result"], file=sys.stderr, flush=True)
    elif msg.get("method") == "echo":
        send({"method": "note", "params": {"seen": msg["params"]}})
        send({"id": msg["id"], "result": msg["params"]})
    elif msg.get("method") == "quit":
        sys.exit(3)
"""


def _launcher(memory_mb: int = 4096, **env: str) -> LeanProcess:
    workdir = Path(tempfile.mkdtemp(prefix="sequent-test-process-"))
    return LeanProcess([sys.executable, "-c", LAUNCHER], workdir=workdir, env={**os.environ, **env},
                       warm=True, memory_mb=memory_mb).start()


def test_one_run_returns_the_output_and_the_exit_code_of_main_then_the_tree_is_gone() -> None:
    with _launcher() as proc:
        assert proc.wait_ready(30)
        raw = proc.run(["echo", "one", "two"], timeout_s=30)
        assert raw.stdout == "one\ntwo\n" and raw.returncode == 0 and not raw.timed_out
        assert raw.stderr == "a line of stderr\n"  # the markers are not Lean's output
        assert not proc.alive()  # main returned: killed at once, not left to linger
        with pytest.raises(LeanCrashError, match="once"):
            proc.run(["echo"], timeout_s=5)
        workdir = proc.workdir
    assert not workdir.exists()


def test_a_run_past_its_deadline_kills_the_whole_process_group() -> None:
    with _launcher() as proc:
        raw = proc.run(["hang"], timeout_s=1)
        assert raw.timed_out and raw.returncode is None
        child = int(raw.stdout.split()[0])
        wait_until(lambda: not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE,
                   timeout_s=10, what="the child killed with its group")


def test_a_run_past_the_memory_cap_is_killed() -> None:
    with _launcher(memory_mb=150) as proc:
        raw = proc.run(["eat"], timeout_s=60)
        assert raw.out_of_memory and raw.returncode is None and raw.peak_rss_mb > 150
        assert not proc.alive()


def test_a_process_that_dies_before_it_is_ready_is_a_crash_with_its_stderr() -> None:
    proc = _launcher(DIE_EARLY="1")
    try:
        assert not proc.wait_ready(30)
        with pytest.raises(LeanCrashError, match="before it was ready") as caught:
            proc.run(["echo"], timeout_s=30)
        assert "no runtime here" in caught.value.stderr
        assert proc.stderr_tail() == "no runtime here"
    finally:
        proc.close()


def test_the_lsp_kind_frames_answers_the_workers_requests_and_ends_on_exit_or_deadline() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sequent-test-lsp-"))
    lsp = LspProcess([sys.executable, "-c", LSP], workdir=workdir, env=dict(os.environ), memory_mb=4096).start()
    try:
        assert lsp.wait_ready(30)
        notes: list[object] = []
        rid = lsp.request("echo", {"x": "⊢ 1"})
        answer = lsp.wait_response(rid, 30, lambda m: notes.append(m.get("params")))
        assert answer == {"jsonrpc": "2.0", "id": rid, "result": {"x": "⊢ 1"}}
        assert notes == [{"seen": {"x": "⊢ 1"}}]
        assert lsp.deframer.skipped > 0  # the debug lines between messages
        # the worker's own request was answered with null; debug lines are not kept
        wait_until(lambda: "the client answered None" in lsp.stderr_tail(), timeout_s=10, what="the answer")
        assert "[DEBUG" not in lsp.stderr_tail()
        assert lsp.wait_response(lsp.request("nothing", {}), 0.5) is WaitEnd.timeout
        assert not lsp.alive()  # killed at the deadline
    finally:
        lsp.close()
    assert not workdir.exists()

    lsp = LspProcess([sys.executable, "-c", LSP], workdir=Path(tempfile.mkdtemp()), env=dict(os.environ),
                     memory_mb=4096).start()
    try:
        assert lsp.wait_ready(30)
        assert lsp.wait_response(lsp.request("quit", {}), 30) is WaitEnd.exited
        assert lsp.popen.wait(10) == 3
    finally:
        lsp.close()


def test_the_pool_leases_real_processes_once_each() -> None:
    pool: Pool[None, LeanProcess] = Pool(lambda _key: _launcher(), 2, ready_timeout_s=30, expected_leases=2)
    try:
        outputs = []
        for word in ("first", "second"):
            with pool.lease(None, 60) as lease:
                outputs.append(lease.worker.run(["echo", word], timeout_s=30).stdout)
                workdir = lease.worker.workdir
            assert not lease.worker.alive() and not workdir.exists()
        assert outputs == ["first\n", "second\n"]
        assert pool.stats().started == 2 and pool.stats().idle == 0 and pool.stats().starting == 0
    finally:
        pool.close()


def test_background_work_and_the_processes_it_starts_yield_the_cpu_to_calls() -> None:
    """The library status runs from a thread lowered by run_in_background: that thread, the
    threads it starts (a pool's start) and every process they start run at BACKGROUND_NICE,
    while the rest of the server (the threads that answer calls) keeps its priority."""
    seen: dict[str, int] = {}

    def background() -> None:
        assert run_in_background()
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        def pool_start() -> None:  # a pool starts its workers from a thread of its own
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
            try:
                seen["process"] = os.getpriority(os.PRIO_PROCESS, child.pid)
            finally:
                child.kill()
                child.wait()

        starter = threading.Thread(target=pool_start)
        starter.start()
        starter.join()

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = threading.Thread(target=background)
    worker.start()
    worker.join()
    assert seen == {"thread": max(BACKGROUND_NICE, base), "process": max(BACKGROUND_NICE, base)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # calls keep theirs


def _nices(pid: int) -> list[int]:
    """The nice value of every thread of ``pid`` (field 19 of /proc/<pid>/task/<tid>/stat)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        out.append(int(stat[stat.rindex(")") + 2:].split()[16]))
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_a_process_started_ahead_runs_at_background_priority_when_background_work_runs_it() -> None:
    """A one-shot process pre-started at normal priority (for whoever comes first) that the
    library status runs is lowered, its whole tree, while it runs; run by a call, it keeps its
    priority."""
    with _launcher() as called, _launcher() as background:
        assert called.wait_ready(30) and background.wait_ready(30)
        base = os.getpriority(os.PRIO_PROCESS, background.pid)

        def run_hang(proc: LeanProcess, as_background: bool) -> None:
            if as_background:
                run_in_background()
            proc.run(["hang"], timeout_s=20)

        threads = [threading.Thread(target=run_hang, args=(called, False), daemon=True),
                   threading.Thread(target=run_hang, args=(background, True), daemon=True)]
        for t in threads:
            t.start()
        child = int(wait_until(lambda: b"".join(background._stdout).decode().strip() or None, timeout_s=30,
                               what="the hanging child's pid"))
        wait_until(lambda: set(_nices(background.pid)) == {max(BACKGROUND_NICE, base)} or None, timeout_s=10,
                   what="the background run's threads lowered")
        assert set(_nices(child)) == {max(BACKGROUND_NICE, base)}  # its tree too
        assert set(_nices(called.pid)) == {base}  # a call's run keeps its priority
        called.kill()
        background.kill()
        for t in threads:
            t.join(timeout=30)
