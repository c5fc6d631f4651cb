"""Extract the commands of a walkthrough's ```console blocks, and run them.

Conventions of the docs (so that every command shown is a command tested):

* a command is a line starting with ``$ `` inside a ```console block; other lines are
  the output a reader should expect (shown, not compared);
* a command continues on the next line when it ends with ``\\``, and a here-document
  (``<<'EOF'`` … ``EOF``) belongs to its command;
* a trailing ``# exits N`` says the command is meant to exit with ``N`` (default 0);
* a trailing ``# background`` starts a long-running command (a server); it is stopped when
  the walkthrough ends;
* an output line that reports a position (``proof:4:2: error: …``, ``Formal/X.lean:7:3: …``)
  is compared: the command's real output must contain it (up to the first `` …``), so the
  positions a walkthrough prints stay the ones the pipeline prints.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.waiting import wait_until

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\S*)")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_EXITS = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")
_BACKGROUND = re.compile(r"\s+#\s*background\s*$")
_POSITION = re.compile(r"^\S+:\d+:\d+: (?:error|warning|information|policy)\b")


@dataclass(frozen=True)
class Command:
    text: str
    """The shell text, without prompt and without the trailing annotation."""
    line: int
    """1-based line of the ``$`` in the document."""
    expected_exit: int = 0
    background: bool = False
    positions: tuple[str, ...] = ()
    """Output lines shown after the command that report a position (compared)."""


def commands(markdown: str) -> list[Command]:
    """Every command of every ```console block, in document order."""
    lines = markdown.splitlines()
    out: list[Command] = []
    i, in_console, fence = 0, False, ""
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if m and not in_console and m.group(3) == "console":
            in_console, fence = True, m.group(2)
            i += 1
            continue
        if m and in_console and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) \
                and not m.group(3):
            in_console = False
            i += 1
            continue
        if in_console and line.startswith("$ "):
            start = i
            first = line[2:]
            exits = _EXITS.search(first)
            background = _BACKGROUND.search(first)
            expected = int(exits.group(1)) if exits else 0
            if exits:
                first = first[: exits.start()]
            if background:
                first = first[: background.start()]
            parts = [first]
            while parts[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                parts.append(lines[i])
            doc = _HEREDOC.search("\n".join(parts))
            if doc:
                tag = doc.group(2)
                while i + 1 < len(lines):
                    i += 1
                    parts.append(lines[i])
                    if lines[i].strip() == tag:
                        break
                else:
                    raise ValueError(f"line {start + 1}: here-document {tag} is never closed")
            shown: list[str] = []
            j = i + 1
            while j < len(lines) and not lines[j].startswith("$ ") and not _FENCE.match(lines[j]):
                if _POSITION.match(lines[j]):
                    shown.append(lines[j].split(" …", 1)[0].rstrip())
                j += 1
            out.append(Command(text="\n".join(parts), line=start + 1, expected_exit=expected,
                               background=bool(background), positions=tuple(shown)))
        i += 1
    if in_console:
        raise ValueError("a ```console block is never closed")
    return out


@dataclass(frozen=True)
class Outcome:
    command: Command
    exit_code: int
    output: str
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == self.command.expected_exit and not self.missing

    @property
    def missing(self) -> tuple[str, ...]:
        """Position lines the document shows that the real output does not contain."""
        return tuple(p for p in self.command.positions if p not in self.output)

    def describe(self) -> str:
        tail = self.output[-3000:]
        missing = "".join(f"\nshown but not printed: {p}" for p in self.missing)
        return (f"line {self.command.line}: `{self.command.text}` exited {self.exit_code}, "
                f"expected {self.command.expected_exit}{missing}\n{tail}")


class Session:
    """Runs a walkthrough's commands in one ``bash``, like a reader at one terminal:
    variables, ``cd`` and ``export`` carry over from one command to the next.

    Each command is ``source``d from a file with its output captured to a file; then the
    shell writes a line with the command's number and exit status to its own standard output,
    a pipe this session reads as the command's end (an event, not a poll). A
    ``# background`` command runs in a session of its own (``setsid``; it sees exported
    variables), stopped by :meth:`close`; a command that runs past the timeout is killed with
    the shell.
    """

    def __init__(self, cwd: Path, env: Mapping[str, str], *, timeout_s: float = 600) -> None:
        self.cwd, self.timeout_s = cwd, timeout_s
        self._dir = Path(tempfile.mkdtemp(prefix="walkthrough-"))
        self._n = 0
        self._jobs: list[int] = []
        self._pending = b""
        self._shell = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=dict(env), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True,
        )

    def _send(self, line: str) -> None:
        assert self._shell.stdin is not None
        self._shell.stdin.write(line + "\n")
        self._shell.stdin.flush()

    def _ended(self, marker: str, deadline: float) -> list[str] | str:
        """The fields after ``marker`` on the shell's line that ends a command; ``"exited"``
        when the shell's output ends first, ``"timed out"`` at the deadline."""
        assert self._shell.stdout is not None
        fd = self._shell.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                while b"\n" in self._pending:
                    line, self._pending = self._pending.split(b"\n", 1)
                    fields = line.decode(errors="replace").split()
                    if fields[:1] == [marker]:
                        return fields[1:]
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return "timed out"
                chunk = os.read(fd, 4096)
                if not chunk:
                    return "exited"
                self._pending += chunk

    def run(self, command: Command) -> Outcome:
        self._n += 1
        script = self._dir / f"{self._n}.sh"
        out = self._dir / f"{self._n}.out"
        marker = f"@@walkthrough-{self._n}"
        script.write_text(command.text + "\n")
        started = time.monotonic()
        if command.background:
            self._send(f"setsid bash '{script}' > '{out}' 2>&1 < /dev/null & echo {marker} 0 $!")
        else:
            self._send(f"source '{script}' > '{out}' 2>&1 < /dev/null; echo {marker} $?")
        ended = self._ended(marker, started + self.timeout_s)
        elapsed = time.monotonic() - started
        if ended == "exited":
            return Outcome(command, -2, "the shell exited\n" + _read(out), elapsed)
        if ended == "timed out":
            self._stop_shell()
            return Outcome(command, -1, "timed out\n" + _read(out), elapsed)
        if command.background:
            self._jobs.append(int(ended[1]))
        return Outcome(command, int(ended[0]), _read(out), elapsed)

    def _stop_shell(self) -> None:
        if self._shell.poll() is None:
            os.killpg(self._shell.pid, signal.SIGKILL)
            self._shell.wait(timeout=10)
        for pipe in (self._shell.stdin, self._shell.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()

    def close(self) -> None:
        """Stop the background jobs this session started (each job's process group), then
        the shell."""
        for pid in self._jobs:
            _stop_group(pid)
        self._jobs.clear()
        if self._shell.poll() is None and self._shell.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._shell.stdin.close()
            try:
                self._shell.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._stop_shell()
        shutil.rmtree(self._dir, ignore_errors=True)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def _group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _leader_or_gone(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return True


def _stop_group(pid: int) -> None:
    """SIGTERM a job's process group, wait for it to be gone (not our children: no event to
    wait on, so polled), SIGKILL what is left after 20 s. A job is ``setsid …``, whose ``$!``
    the shell prints before the child has made its own group: under load that can come after
    the walkthrough ends, so first wait (5 s at most) until the job leads its group."""
    with contextlib.suppress(AssertionError):
        wait_until(lambda: _leader_or_gone(pid), timeout_s=5, what=f"job {pid} leading its group",
                   every_s=0.01)
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(AssertionError):
        wait_until(lambda: _group_gone(pid), timeout_s=20, what=f"process group {pid} exiting",
                   every_s=0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@contextmanager
def session(cwd: Path, env: Mapping[str, str], *, timeout_s: float = 600) -> Iterator[Session]:
    s = Session(cwd, env, timeout_s=timeout_s)
    try:
        yield s
    finally:
        s.close()
