"""Turning a raw Lean run into a verdict. Pure functions, tested without Lean."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from pipeline.lean.models import Message, Policy, Reason, Severity
from pipeline.lean.process import RawRun

_AXIOMS_RE = re.compile(r"'(?P<decl>[^']+)' depends on axioms: \[(?P<axioms>[^\]]*)\]")
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


def audited_axioms(messages: list[Message]) -> dict[str, list[str]]:
    """Declaration -> axioms, from ``#print axioms`` output (native backend)."""
    found: dict[str, list[str]] = {}
    for m in messages:
        for match in _AXIOMS_RE.finditer(m.text):
            found[match.group("decl")] = [a.strip() for a in match.group("axioms").split(",") if a.strip()]
    return found


def reasons_for(raw: RawRun, messages: list[Message], policy: Policy,
                axioms: dict[str, list[str]] | None = None) -> list[Reason]:
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
    if axioms is not None and any(a not in policy.allowed_axioms for axs in axioms.values() for a in axs):
        reasons.append(Reason.axiom)
    finished = not (raw.timed_out or raw.out_of_memory)
    if finished and raw.returncode not in (0, 1):
        reasons.append(Reason.crash)
    if finished and raw.returncode == 1 and not errors:
        reasons.append(Reason.crash)
    if finished and raw.returncode == 0 and errors:  # should not happen; trust the errors
        pass
    return list(dict.fromkeys(reasons))


__all__ = ["audited_axioms", "parse_messages", "reasons_for"]
