"""What every way of running Lean shares: the file a request checks (its limits, the imports
it asks for), and the :class:`CheckResult` a verdict becomes (one mapping of policy violations,
audit issues, limits and crashes to reasons and messages)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import InputError, NotFoundError
from pipeline.lean.backends import Backend
from pipeline.lean.builds import Builds
from pipeline.lean.interpret import lean_stderr
from pipeline.lean.models import (
    CheckRequest,
    CheckResult,
    EnvironmentAudit,
    Message,
    Reason,
    Severity,
    Verdict,
    Violation,
)
from pipeline.lean.syntax import blank_comments_and_strings, imports
from pipeline.settings import Settings

_AUDIT_REASONS = {"declares_axiom": Reason.axiom, "axiom": Reason.axiom, "added": Reason.forbidden,
                  "unknown_constant": Reason.crash, "unreadable": Reason.crash, "cites_target": Reason.forbidden,
                  "replay": Reason.forbidden, "replay_unfinished": Reason.crash}
_VIOLATION_REASONS = {"sorry": Reason.sorry, "axiom": Reason.axiom}
"""A policy violation's reason (any other rule: ``forbidden``)."""


def read_text_checked(path: Path, *, max_bytes: int, root: Path | None = None) -> str:
    """Read a user-given Lean file, with a clear InputError for every kind of bad input."""
    if not path.exists():
        raise NotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    resolved = path.resolve()
    if root is not None and not resolved.is_relative_to(root.resolve()):
        raise InputError(f"{path}: outside the project ({root})")
    size = resolved.stat().st_size
    if size > max_bytes:
        raise InputError(f"{path}: {size} bytes is over the limit of {max_bytes} bytes")
    data = resolved.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    return text


def with_imports(source: str, wanted: Sequence[str]) -> str:
    """``source`` with an ``import`` line for each of ``wanted`` it lacks (after ``module``)."""
    present = set(imports(source))
    missing = [m for m in wanted if m not in present]
    if not missing:
        return source
    lines = "".join(f"import {m}\n" for m in missing)
    blanked = blank_comments_and_strings(source).lstrip()
    if blanked.startswith("module"):
        head, _, rest = source.partition("\n")
        return f"{head}\n{lines}{rest}"
    return lines + source


def within_size(source: str, max_bytes: int) -> None:
    if len(source.encode()) > max_bytes:
        raise InputError(f"the Lean source is over the limit of {max_bytes} bytes")


def source_of(request: CheckRequest, max_bytes: int) -> str:
    """The file to check (missing imports added), or an InputError for bad input."""
    source = with_imports(request.source, request.imports)
    within_size(source, max_bytes)
    if not source.strip():
        raise InputError("the Lean source is empty")
    if not request.file_name.endswith(".lean") or "/" in request.file_name or request.file_name.startswith("."):
        raise InputError(f"file name {request.file_name!r} must be a plain NAME.lean")
    return source


def audit_reasons(audit: EnvironmentAudit) -> list[Reason]:
    return list(dict.fromkeys(_AUDIT_REASONS.get(i.rule, Reason.forbidden) for i in audit.issues))


def axioms_of(audit: EnvironmentAudit | None) -> tuple[str, ...] | None:
    return tuple(sorted({a for d in audit.declarations for a in d.axioms})) if audit is not None else None


def _error(kind: str, text: str) -> Message:
    return Message.model_validate({"severity": Severity.error, "kind": kind, "data": text})


class Results:
    """Makes the :class:`CheckResult` of a verdict, the same way on every path."""

    def __init__(self, settings: Settings, backend: Backend, builds: Builds) -> None:
        self.settings, self.backend, self.builds = settings, backend, builds

    def limit(self, request: CheckRequest) -> float:
        """The request's own time limit, else the settings' (``SEQUENT_LEAN_TIMEOUT_S``)."""
        return request.timeout_s or self.settings.lean_timeout_s

    def refused(self, violations: Sequence[Violation], request: CheckRequest, key: str,
                started: float) -> CheckResult:
        """The result of a source the trust policy refused (Lean never ran it)."""
        reasons = [_VIOLATION_REASONS.get(v.rule, Reason.forbidden) for v in violations]
        return self.make(Verdict.rejected, reasons, [], request, key, started, violations=violations)

    def untrusted(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult | None:
        """A rejection, before Lean runs, of a file importing a module without a signed build."""
        bad = self.builds.untrusted_imports(source)
        if not bad:
            return None
        texts = []
        for mod in bad:
            olean = self.builds.olean(mod)
            if olean.is_file():
                texts.append(f"import {mod}: {olean} was not built by this pipeline (no valid "
                             "build signature: a committed or copied build, or one of another Lean); "
                             "`sequent build` compiles it from source")
            else:
                texts.append(f"import {mod}: no such module in Lean's library and no build of it by this "
                             "pipeline (`sequent build` builds the project's modules)")
        return self.make(Verdict.rejected, [Reason.error], [_error("untrusted_import", t) for t in texts],
                         request, key, started)

    def decided(self, reasons: Sequence[Reason], messages: Sequence[Message], request: CheckRequest, key: str,
                started: float, *, audit: EnvironmentAudit | None = None, raw_stderr: str = "") -> CheckResult:
        """Accepted when nothing gave a reason, with the audit's axioms."""
        verdict = Verdict.accepted if not reasons else Verdict.rejected
        return self.make(verdict, reasons, messages, request, key, started, axioms=axioms_of(audit),
                         raw_stderr=raw_stderr, audit=audit)

    def _add_limits(self, msgs: list[Message], reasons: Sequence[Reason], request: CheckRequest,
                    raw_stderr: str) -> None:
        """Say which limit ended Lean, or what it wrote on stderr when nothing else says why."""
        if Reason.timeout in reasons:  # say so, with the limit (Lean itself printed nothing)
            msgs.append(_error("timeout", f"Lean did not finish within the time limit of {self.limit(request):g} s"))
        if Reason.out_of_memory in reasons:
            limit = request.memory_mb or self.settings.lean_memory_mb
            msgs.append(_error("out_of_memory", f"Lean went over the memory limit of {limit} MB"))
        tail = lean_stderr(raw_stderr)[-2000:]  # Node's own warnings are never the reason
        if Reason.crash in reasons:
            msgs.append(_error("crash", f"Lean crashed: {tail}" if tail else
                               "Lean crashed: the process ended without an answer and wrote nothing on stderr "
                               "(Node's own warnings aside)"))
        elif tail and Reason.error in reasons and not any(m.severity is Severity.error for m in msgs):
            msgs.append(_error("stderr", tail))

    def make(self, verdict: Verdict, reasons: Sequence[Reason], messages: Sequence[Message],
             request: CheckRequest, key: str, started: float, *, violations: Sequence[Violation] = (),
             axioms: tuple[str, ...] | None = None, raw_stderr: str = "",
             audit: EnvironmentAudit | None = None) -> CheckResult:
        msgs = list(messages)
        if audit is not None:
            msgs += [_error(f"audit.{i.rule}", f"environment audit: {i.message}") for i in audit.issues]
        self._add_limits(msgs, reasons, request, raw_stderr)
        return CheckResult(
            verdict=verdict, reasons=tuple(dict.fromkeys(reasons)), messages=tuple(msgs),
            violations=tuple(violations),
            axioms=axioms, environment=audit, backend=self.backend.name, lean_version=self.backend.version,
            elapsed_s=round(time.monotonic() - started, 3), cache_key=key, file_name=request.file_name,
        )


__all__ = ["Results", "audit_reasons", "read_text_checked", "source_of", "with_imports", "within_size"]
