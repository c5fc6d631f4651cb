"""Waiting in tests: on a condition, never on a fixed time.

A test that needs something to have happened (a server up, a job running, a check in flight)
waits for exactly that, with a deadline that only bounds a broken run: :func:`wait_until`
polls a condition that has no event to wait on; where the code under test offers an event
or a condition variable, the test waits on that instead. No test sleeps a fixed time in the
hope that something has happened by then, and no test asserts how long something took
(speed is measured in ``benchmarks/``, never asserted in a test).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout_s: float, what: str,
               every_s: float = 0.05, detail: Callable[[], object] | None = None) -> T:
    """Call ``condition`` until it returns a true value, and return that value; fail the test
    (``AssertionError`` naming ``what``, and ``detail()`` when given) once ``timeout_s`` has
    passed without it. ``every_s`` only spaces the polls: it decides nothing."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(f"{what}: not within {timeout_s} s{extra}")
        time.sleep(every_s)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants; what grows
    while a Lean process works on what it was sent (the sign that a check is in flight)."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in tree:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def working(pid: int, *, cpu_s: float = 1.0, timeout_s: float = 300) -> None:
    """Wait until the process tree of ``pid`` has used ``cpu_s`` more CPU seconds than now."""
    start = cpu_seconds(pid)
    wait_until(lambda: cpu_seconds(pid) - start >= cpu_s, timeout_s=timeout_s,
               what=f"process {pid} working ({cpu_s} s of CPU)")
