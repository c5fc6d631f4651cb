"""The audited verdict of one file: ``lean -o`` in a private session, Lean's messages, the
compiled-environment audit of the ``.olean`` parts Lean wrote (:mod:`pipeline.lean.trust`),
then the kernel replay (:mod:`pipeline.lean.replayer`). The same steps compile a project
module for the build (:meth:`Compiler.compile_module`), whose parts are kept only once audited
and replayed.

:class:`Compiler` is the acceptance strategy of :class:`~pipeline.lean.checker.Checker` for a
file checked on its own; :mod:`pipeline.lean.batching` is the one for several submissions of one
statement, and falls back to this one for what it cannot attribute."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.lean.backends import Backend
from pipeline.lean.builds import Builds
from pipeline.lean.interpret import parse_messages, reasons_for
from pipeline.lean.models import (
    CheckRequest,
    CheckResult,
    EnvironmentAudit,
    Message,
    Policy,
    Reason,
    Verdict,
)
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.replayer import Replayer, stage
from pipeline.lean.syntax import imports
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.lean.verdict import Results, audit_reasons
from pipeline.settings import Settings


@dataclass(slots=True)
class _Compiled:
    """What one ``lean -o`` left: its run, messages, reasons, audit and the staged parts."""

    raw: RawRun
    messages: list[Message]
    reasons: list[Reason]
    audit: EnvironmentAudit | None = None
    staged: Path | None = None


class Compiler:
    """Compile, audit and replay one file (the acceptance strategy of a file on its own)."""

    label = ""
    cached = True

    def __init__(self, settings: Settings, backend: Backend, auditor: EnvironmentAuditor, builds: Builds,
                 results: Results, replayer: Replayer) -> None:
        self.settings, self.backend, self.auditor = settings, backend, auditor
        self.builds, self.results, self.replayer = builds, results, replayer

    def _compile(self, source: str, rel: Path, request: CheckRequest, timeout: float) -> _Compiled:
        """``lean -o`` of ``source`` as ``rel`` in a session; an accepted file is audited and,
        when the audit finds nothing, staged for its replay."""
        out_rel = Path("out") / rel.with_suffix(".olean")
        with self.backend.session(timeout) as session:
            raw = session.compile(str(rel), source, str(out_rel), timeout)
            messages = parse_messages(raw.stdout)
            done = _Compiled(raw, messages, reasons_for(raw, messages, request.policy))
            produced = session.workdir / out_rel
            if done.reasons:
                return done
            if not produced.is_file():
                done.reasons = [Reason.crash]
                return done
            done.audit = self.auditor.audit_file(produced, self.builds.closure(imports(source)), request.policy,
                                                 request.expected_declarations, request.uncitable)
            done.reasons = audit_reasons(done.audit)
            if not done.reasons:
                done.staged = stage(produced)
        return done

    def run(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult:
        """The audited verdict of a file that passed the policy: refused when it imports a
        module without a signed build, else compiled, audited and (accepted only once) replayed."""
        untrusted = self.results.untrusted(source, request, key, started)
        if untrusted is not None:
            return untrusted
        done = self._compile(source, Path(request.file_name), request, self.results.limit(request))
        if done.staged is not None and done.audit is not None:  # accepted only once replayed
            done.audit, done.reasons = self.replayer.audit(done.staged, done.audit)
        return self.results.decided(done.reasons, done.messages, request, key, started, audit=done.audit,
                                    raw_stderr=done.raw.stderr)

    def compile_module(self, module: str, source: str, olean_out: Path, *, policy: Policy | None = None
                       ) -> CheckResult:
        """Compile one project module to ``olean_out`` (the build). Not cached: the file matters."""
        started = time.monotonic()
        rel = Path(*module.split(".")).with_suffix(".lean")
        request = CheckRequest(source=source, file_name=rel.name, policy=policy or Policy())
        key = self.builds.key(source, request)
        violations = scan(source, request.policy)
        if violations:
            return self.results.refused(violations, request, key, started)
        untrusted = self.results.untrusted(source, request, key, started)
        if untrusted is not None:
            return untrusted
        done = self._compile(source, rel, request, self.settings.lean_timeout_s)
        if done.staged is not None and done.audit is not None:  # a module is kept only once replayed
            done.audit, done.reasons = self.replayer.audit(done.staged, done.audit, keep=olean_out)
        return self.results.make(Verdict.accepted if not done.reasons else Verdict.rejected, done.reasons,
                                 done.messages, request, key, started, raw_stderr=done.raw.stderr, audit=done.audit)


__all__ = ["Compiler"]
