"""The git pre-push hook: install it, and turn what git tells it into gate runs.

git runs ``pre-push <remote> <url>`` with one line per pushed ref on stdin::

    <local ref> <local sha> <remote ref> <remote sha>

For each ref being created or updated, the gate checks the pushed commit (head) against the
remote's commit when we have it, else against the merge base with the default branch.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

from pipeline.errors import GateError, InputError
from pipeline.models import Frozen
from pipeline.vcs import ZERO_SHA, GitRepository

HOOK_MARKER = "# installed by `sequent hooks install`"


class PushUpdate(Frozen):
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def deletes(self) -> bool:
        return self.local_sha == ZERO_SHA

    @property
    def creates(self) -> bool:
        return self.remote_sha == ZERO_SHA


class GateRange(Frozen):
    """One gate run the hook asks for."""

    ref: str
    head: str
    base: str | None
    """``None``: nothing to compare with (no default branch); checks the head alone."""


def parse_push_lines(text: str) -> list[PushUpdate]:
    """The pre-push stdin lines; :class:`InputError` on a line that is not four fields."""
    updates: list[PushUpdate] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4 or not all(_is_sha(f) for f in (fields[1], fields[3])):
            raise InputError(f"pre-push input line {number} is not '<ref> <sha> <ref> <sha>': {line!r}")
        updates.append(PushUpdate(local_ref=fields[0], local_sha=fields[1], remote_ref=fields[2],
                                  remote_sha=fields[3]))
    return updates


def plan_push(updates: list[PushUpdate], repo: GitRepository) -> list[GateRange]:
    """The (base, head) pairs to gate, one per pushed ref that is created or updated."""
    ranges: list[GateRange] = []
    default = None
    for update in updates:
        if update.deletes:
            continue
        if not update.creates and repo.has_commit(update.remote_sha):
            base: str | None = update.remote_sha
        else:
            default = default or repo.default_branch()
            base = repo.merge_base(update.local_sha, default) if default else None
        if base == update.local_sha:
            continue  # nothing new to push
        gate_range = GateRange(ref=update.local_ref, head=update.local_sha, base=base)
        if gate_range not in ranges:
            ranges.append(gate_range)
    return ranges


def hook_script(python: str | None = None, project: str = ".") -> str:
    """The hook: runs ``sequent hooks pre-push`` with the Python that has sequent installed.

    git runs hooks from the top of the working tree; ``project`` is the project folder
    relative to it.
    """
    python = python or sys.executable
    command = shlex.join(
        [python, "-c", "from pipeline.cli import main; main()", "hooks", "pre-push", "--project", project]
    )
    return (
        "#!/bin/sh\n"
        f"{HOOK_MARKER}: runs the Sequent gate on the commits being pushed.\n"
        "# Skip it once with `git push --no-verify`.\n"
        f'exec {command} "$@"\n'
    )


def install_pre_push(
    repo: GitRepository, *, force: bool = False, python: str | None = None, project: str = "."
) -> Path:
    """Write the pre-push hook; refuses to replace a hook it did not write unless ``force``."""
    folder = repo.hooks_dir()
    target = folder / "pre-push"
    if target.exists() and not force:
        try:
            ours = HOOK_MARKER in target.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise GateError(f"cannot read the existing hook {target}: {exc}") from exc
        if not ours:
            raise InputError(f"{target} already exists and was not written by sequent; "
                             "use --force to replace it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name("pre-push.sequent-tmp")
        tmp.write_text(hook_script(python, project), encoding="utf-8")
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.replace(tmp, target)
    except OSError as exc:
        raise GateError(f"cannot write the hook {target}: {exc}") from exc
    return target


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


__all__ = [
    "HOOK_MARKER",
    "GateRange",
    "PushUpdate",
    "hook_script",
    "install_pre_push",
    "parse_push_lines",
    "plan_push",
]
