"""The batched acceptance strategy: queued submissions of one statement compiled as ONE module
(layout, lexical closure and message attribution: :mod:`pipeline.lean.batch`), each decided on
the compiled environment (``EnvironmentAuditor.audit_members``). :class:`SharedModule` returns
only the verdicts it can vouch for; :class:`~pipeline.lean.checker.Checker` checks every other
request with the one-file strategy (:class:`~pipeline.lean.acceptance.Compiler`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from pipeline.lean.backends import Backend
from pipeline.lean.batch import (
    Attribution,
    BatchFile,
    Split,
    attribute,
    batchable,
    build_batch,
    generated_lines_intact,
    new_nonce,
    split_submission,
    to_single,
)
from pipeline.lean.builds import Builds
from pipeline.lean.interpret import parse_messages, reasons_for
from pipeline.lean.models import CheckRequest, CheckResult, EnvironmentAudit, Severity
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.replayer import Replayer, stage
from pipeline.lean.syntax import imports
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.lean.verdict import Results, audit_reasons
from pipeline.settings import Settings

BATCH_ROUNDS = 3
"""Compiles of one batch at most: each round drops the members Lean rejected."""
BATCH_MEMBER_S = 2.0
"""Seconds a batch's time limit grows per member, over one submission's limit."""


class Member(NamedTuple):
    """A request in a batch: its place in the caller's list, cache key and parts."""

    position: int
    request: CheckRequest
    key: str
    split: Split
    source: str


def member(position: int, request: CheckRequest, source: str, key: str) -> Member | None:
    """``request`` as a batch member, or ``None`` when it is checked on its own: its file has
    not the assembled layout of a submission (one expected declaration), its proof is not
    lexically closed, or the policy refuses it (refused on its own, without Lean)."""
    names = request.expected_declarations
    split = split_submission(source, names[0]) if names is not None and len(names) == 1 else None
    if split is None or not batchable(split.proof) or scan(source, request.policy):
        return None
    return Member(position, request, key, split, source)


def groups(members: Sequence[Member]) -> list[list[Member]]:
    """The members that can share one module: one header and statement, declaration, file
    name, policy, time limit and uncitable constants; only groups of two or more."""
    by: dict[tuple[object, ...], list[Member]] = {}
    for m in members:
        r = m.request
        by.setdefault((m.split.group, r.expected_declarations, r.file_name, r.policy.model_dump_json(),
                       r.timeout_s, r.uncitable), []).append(m)
    return [g for g in by.values() if len(g) > 1]


class _Round(NamedTuple):
    """One compile of a batch: the file, its module name, the run, where each message went."""

    batch: BatchFile
    module: str
    raw: RawRun
    where: Attribution


class SharedModule:
    """Compile a group of members (one header, one statement) as one module."""

    label = "+batch"

    def __init__(self, settings: Settings, backend: Backend, auditor: EnvironmentAuditor, builds: Builds,
                 results: Results, replayer: Replayer) -> None:
        self.settings, self.backend, self.auditor = settings, backend, auditor
        self.builds, self.results, self.replayer = builds, results, replayer

    def run(self, members: list[Member]) -> dict[int, CheckResult]:
        """Rounds until the rest compiles; the results it can vouch for, by position (the
        others are checked on their own)."""
        started = time.monotonic()
        if self.builds.untrusted_imports(members[0].source):
            return {}  # each member is refused on its own
        decided: dict[int, CheckResult] = {}
        staged: Path | None = None
        todo = list(members)
        for _round in range(BATCH_ROUNDS):
            if len(todo) < 2:
                break
            step = self._round(todo, decided, started)
            if isinstance(step, list):
                todo = step  # Lean rejected some: compile the others again
                continue
            staged = step
            break
        if staged is None:
            return decided
        replayed = self.replayer.staged(staged)  # the batch file replayed once; if it fails, each alone
        return {i: _with_replay(r, replayed.replayed) if r.accepted else r
                for i, r in decided.items() if replayed.ok or not r.accepted}

    def _compile(self, todo: list[Member]) -> tuple[_Round, Path | None] | None:
        """One compile of ``todo``'s proofs as one module (``None``: a generated line broken or
        a policy finding in the batch file, checked one by one); with the produced ``.olean``
        staged outside the session when Lean accepted the whole file."""
        first = todo[0]
        name = (first.request.expected_declarations or ("",))[0]
        batch = build_batch(first.split.header, first.split.statement, name, [m.split.proof for m in todo],
                            new_nonce())
        if not generated_lines_intact(batch) or scan(batch.source, first.request.policy):
            return None
        module = f"Batch_{batch.nonce}"
        timeout = self.results.limit(first.request) + BATCH_MEMBER_S * len(todo)
        out_rel = Path("out") / f"{module}.olean"
        with self.backend.session(timeout) as session:
            raw = session.compile(f"{module}.lean", batch.source, str(out_rel), timeout)
            where = attribute(parse_messages(raw.stdout), batch)
            produced = session.workdir / out_rel
            kept = stage(produced) if raw.returncode == 0 and produced.is_file() else None
        return _Round(batch, module, raw, where), kept

    def _round(self, todo: list[Member], decided: dict[int, CheckResult], started: float
               ) -> list[Member] | Path | None:
        """One round: the members still to compile (some were rejected), the staged module to
        replay (some were accepted), or ``None`` (nothing more this batch can vouch for)."""
        compiled = self._compile(todo)
        if compiled is None:
            return None
        step, staged = compiled
        outcome = self._judge(todo, step, staged, decided, started)
        if staged is not None and outcome is not staged:
            self.replayer.discard(staged)
        return outcome

    def _judge(self, todo: list[Member], step: _Round, staged: Path | None, decided: dict[int, CheckResult],
               started: float) -> list[Member] | Path | None:
        raw, where = step.raw, step.where
        if raw.timed_out or raw.out_of_memory or raw.returncode not in (0, 1) or where.whole:
            return None
        failed = {k for k, msgs in where.own.items() if any(m.severity is Severity.error for m in msgs)}
        failed -= where.unsure
        if raw.returncode == 1 or where.unsure or failed:
            if not failed and not where.unsure:
                return None  # exit 1 without an error message: a crash, checked one by one
            for k in failed:
                decided[todo[k].position] = self._member_result(todo[k], step, k, None, 1, started)
            return [m for k, m in enumerate(todo) if k not in failed and k not in where.unsure]
        if staged is None or not self._audit(todo, step, staged, decided, started):
            return None
        if any(r.accepted for r in decided.values()) and self.settings.lean_replay:
            return staged
        return None

    def _audit(self, todo: list[Member], step: _Round, produced: Path, decided: dict[int, CheckResult],
               started: float) -> bool:
        """Each member decided on the compiled environment; ``False`` when the audit could not
        attribute the module's constants to the members."""
        first = todo[0].request
        name = (first.expected_declarations or ("",))[0]
        single = Path(first.file_name).stem
        module, batch = step.module, step.batch

        def rename(text: str, k: int) -> str:
            ns = batch.members[k].namespace
            return text.replace(f"_private.{module}.0.{ns}.", f"_private.{single}.0.").replace(f"{ns}.", "")

        audits = self.auditor.audit_members(
            produced, self.builds.closure(imports(todo[0].source)), first.policy, batch.reference,
            [f"{mem.namespace}.{name}" for mem in batch.members], rename, first.uncitable)
        if audits is None:
            return False
        for k, audit in enumerate(audits):
            if audit is not None:
                decided[todo[k].position] = self._member_result(todo[k], step, k, audit, 0, started)
        return True

    def _member_result(self, m: Member, step: _Round, k: int, audit: EnvironmentAudit | None, returncode: int,
                       started: float) -> CheckResult:
        """A batch member's result, decided as the one-file path decides a file's: Lean's
        messages (at their positions in the member's own file) first, then its audit."""
        request = m.request
        messages = [to_single(msg, step.batch.members[k], m.split.proof_line, request.file_name)
                    for msg in step.where.own[k]]
        raw = RawRun(stdout="", stderr="", returncode=returncode, elapsed_s=0.0)
        reasons = reasons_for(raw, messages, request.policy)
        if reasons:
            audit = None  # the one-file path audits only what Lean accepted
        elif audit is not None:
            reasons = audit_reasons(audit)
        result = self.results.decided(reasons, messages, request, m.key, started, audit=audit)
        return result.model_copy(update={"backend": f"{self.backend.name}{self.label}"})


def _with_replay(result: CheckResult, replayed: int) -> CheckResult:
    if result.environment is None:
        return result
    return result.model_copy(update={"environment": result.environment.model_copy(update={"replayed": replayed})})


__all__ = ["BATCH_MEMBER_S", "BATCH_ROUNDS", "Member", "SharedModule", "groups", "member"]
