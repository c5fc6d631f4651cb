"""The extraction of walkthrough commands (pure), and the session that runs them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.docs.console import Command, commands, session

DOC = '''
Intro text with `$ not a command`.

```console
$ echo hello
hello
$ false  # exits 1
$ printf '%s\\n' a \\
    b
a
b
$ cat > notes.toml <<'EOF'
$ this line is inside the here-document
EOF
$ sleep 30  # background
$ export GREETING=hi && cd sub 2>/dev/null || mkdir sub
```

```bash
$ echo not run, not a console block
```

```console
$ test -f notes.toml && echo "$GREETING"
```
'''


def test_commands_are_extracted_with_annotations_continuations_and_heredocs() -> None:
    cmds = commands(DOC)
    assert [c.text for c in cmds] == [
        "echo hello",
        "false",
        "printf '%s\\n' a \\\n    b",
        "cat > notes.toml <<'EOF'\n$ this line is inside the here-document\nEOF",
        "sleep 30",
        "export GREETING=hi && cd sub 2>/dev/null || mkdir sub",
        'test -f notes.toml && echo "$GREETING"',
    ]
    assert [c.expected_exit for c in cmds] == [0, 1, 0, 0, 0, 0, 0]
    assert [c.background for c in cmds] == [False, False, False, False, True, False, False]
    assert cmds[0].line == 5


def test_unclosed_blocks_and_heredocs_are_errors() -> None:
    with pytest.raises(ValueError, match="never closed"):
        commands("```console\n$ echo\n")
    with pytest.raises(ValueError, match="here-document EOF"):
        commands("```console\n$ cat <<EOF\nx\n```\n")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_session_is_one_terminal_and_stops_background_jobs(tmp_path: Path) -> None:
    with session(tmp_path, dict(os.environ)) as s:
        outcomes = [s.run(c) for c in commands(DOC)]
        job = s._jobs[0]
        assert _alive(job)
        wrong = s.run(Command(text="(exit 3)", line=1))
        assert not wrong.ok and "exited 3, expected 0" in wrong.describe()
        assert s.run(Command(text="pwd", line=1)).output.strip() == str(tmp_path)
    assert all(o.ok for o in outcomes), [o.describe() for o in outcomes if not o.ok]
    assert outcomes[0].output == "hello\n" and outcomes[2].output == "a\nb\n"
    assert outcomes[-1].output == "hi\n"  # the export carried over
    assert (tmp_path / "notes.toml").read_text() == "$ this line is inside the here-document\n"
    assert not _alive(job)  # stopped at the end of the walkthrough


def test_a_command_that_runs_too_long_times_out(tmp_path: Path) -> None:
    with session(tmp_path, dict(os.environ), timeout_s=1) as s:
        slow = s.run(Command(text="echo started; sleep 20", line=7))
    assert slow.exit_code == -1 and "timed out" in slow.output and "started" in slow.output
