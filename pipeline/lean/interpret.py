"""Turning a raw Lean run into a verdict. Pure functions, tested without Lean."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from pipeline.lean.models import Message, Policy, Reason, Severity
from pipeline.lean.process import RawRun

SORRY_TEXTS = ("declaration uses `sorry`", "declaration uses 'sorry'")


def parse_messages(stdout: str) -> list[Message]:
    """Lean's ``--json`` messages; the wasm build's debug lines and other noise are skipped."""
    messages: list[Message] = []
    for line in stdout.splitlines():
        line = line.strip()
        if not (line.startswith("{") and '"severity"' in line):
            continue
        try:
            payload = json.loads(line)
            messages.append(Message.model_validate(_only_known(payload)))
        except (ValueError, ValidationError):
            continue
    return messages


def _only_known(payload: dict[str, object]) -> dict[str, object]:
    keep = {"severity", "data", "pos", "endPos", "kind", "fileName"}
    out = {k: v for k, v in payload.items() if k in keep}
    if out.get("kind") == "[anonymous]":
        out["kind"] = None
    return out


_NODE_WARNING_RE = re.compile(
    r"^\(node:\d+\) \[?\w*\]? ?\w*Warning\b|^\(node:\d+\) \w+Warning:|^\(Use `node --trace-\w+")


def lean_stderr(stderr: str) -> str:
    """What Lean itself wrote on stderr: the wasm build's ``[DEBUG`` lines and Node's own
    warnings (``(node:PID) SecurityWarning: The flag --allow-worker …``, ``ExperimentalWarning``
    and the ``(Use `node --trace-warnings …`)`` line after them) removed. Node's warnings say
    nothing about the file, so they are never shown as the reason a check failed."""
    return "\n".join(line for line in stderr.splitlines()
                     if line.strip() and not line.startswith("[DEBUG") and not _NODE_WARNING_RE.match(line))


def reasons_for(raw: RawRun, messages: list[Message], policy: Policy) -> list[Reason]:
    """What Lean's own run says (axioms are the compiled-environment audit's business)."""
    reasons: list[Reason] = []
    if raw.timed_out:
        reasons.append(Reason.timeout)
    if raw.out_of_memory:
        reasons.append(Reason.out_of_memory)
    errors = [m for m in messages if m.severity is Severity.error]
    if errors:
        reasons.append(Reason.error)
    if not policy.allow_sorry and any(
        m.kind == "hasSorry" or any(t in m.text for t in SORRY_TEXTS) for m in messages
    ):
        reasons.append(Reason.sorry)
    finished = not (raw.timed_out or raw.out_of_memory)
    if finished and raw.returncode not in (0, 1):
        reasons.append(Reason.crash)
    if finished and raw.returncode == 1 and not errors:
        reasons.append(Reason.crash)
    if finished and raw.returncode == 0 and errors:  # should not happen; trust the errors
        pass
    return list(dict.fromkeys(reasons))


__all__ = ["lean_stderr", "parse_messages", "reasons_for"]
