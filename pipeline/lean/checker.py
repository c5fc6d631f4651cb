"""The checker: policy scan, cache, backend session, verdict. Everything that checks Lean
goes through :class:`Checker` (the CLI, claims, build, gate, agents, service).

Flow of one check::

    source ──► size/UTF-8 limits ──► policy.scan ──► cache key ──► cache hit? ──► result
                                         │ violations: rejected (Lean never runs the file)
                                         ▼
                          backend.session(): private folder, `lean -o` ──► RawRun + .olean parts
                                         ▼
                          interpret: messages, reasons ──► environment audit (pipeline.lean.trust:
                          axioms, added constants, declarations' types) ──► CheckResult ──► cache

Every verdict that can be ``accepted`` passed the compiled-environment audit: the token policy
is the fast first filter with the best messages, the ``.olean`` the kernel produced is the last
word.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple, Self

from pipeline.errors import InputError, NotFoundError, SequentError
from pipeline.lean.backends import Backend, open_backend
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
from pipeline.lean.cache import ResultCache, cache_key
from pipeline.lean.interpret import lean_stderr, parse_messages, reasons_for
from pipeline.lean.models import (
    AuditIssue,
    CheckRequest,
    CheckResult,
    EnvironmentAudit,
    Message,
    Policy,
    Reason,
    Severity,
    Verdict,
    Violation,
)
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.provenance import Provenance, parts_digest, refuse_tracked_state
from pipeline.lean.replay import (
    REPLAY_FILE,
    ReplayPlan,
    ReplayResult,
    read_messages,
    read_result,
    replay_header,
    replay_prefix,
    replay_source,
)
from pipeline.lean.replay import plan as replay_plan
from pipeline.lean.resident import Goal, ResidentPool, ResidentStats, ResidentWorker, split_header
from pipeline.lean.syntax import blank_comments_and_strings, imports
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.settings import Settings
from pipeline.store.db import Database

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
AUDIT_VERSION = "env-audit-2"
"""Part of every cache key: results from before (or from another version of) the audit are
never reused."""
_AUDIT_REASONS = {"declares_axiom": Reason.axiom, "axiom": Reason.axiom, "added": Reason.forbidden,
                  "unknown_constant": Reason.crash, "unreadable": Reason.crash, "cites_target": Reason.forbidden,
                  "replay": Reason.forbidden, "replay_unfinished": Reason.crash}
BATCH_ROUNDS = 3
"""Compiles of one batch at most: each round drops the members Lean rejected."""
BATCH_MEMBER_S = 2.0
"""Seconds a batch's time limit grows per member, over one submission's limit."""
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


def _with_imports(source: str, wanted: Sequence[str]) -> str:
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


def iteration_header(request: CheckRequest) -> str:
    """The import header of the file an iteration check of ``request`` runs (the resident
    worker's key, :mod:`pipeline.lean.resident`)."""
    return split_header(_with_imports(request.source, request.imports))[0]


def warm_choice(requests: Sequence[CheckRequest], headers: int) -> list[tuple[str, list[CheckRequest]]]:
    """The ``headers`` import headers most ``requests`` share (ties in the requests' order),
    each with its requests: what :meth:`Checker.warm` starts workers for."""
    by_header: dict[str, list[CheckRequest]] = {}
    for request in requests:
        by_header.setdefault(iteration_header(request), []).append(request)
    return sorted(by_header.items(), key=lambda kv: -len(kv[1]))[:headers]


OUTPUT_SUFFIXES = (".olean", ".olean.server", ".olean.private", ".ir", ".ilean")
"""What ``lean -o X.olean`` writes for a module: the exported part, the language server's part,
the private part (proof bodies; its objects point into the earlier parts), the IR and the
position index. All of them are kept: the compiled-environment audit reads the private part."""


def keep_parts(produced: Path, olean_out: Path) -> None:
    """Copy every part Lean wrote beside ``produced`` to beside ``olean_out`` (atomically each;
    a part that this Lean did not write is removed from the destination)."""
    olean_out.parent.mkdir(parents=True, exist_ok=True)
    stem_src = str(produced)[: -len(".olean")]
    stem_dst = str(olean_out)[: -len(".olean")]
    for suffix in OUTPUT_SUFFIXES:
        src, dst = Path(stem_src + suffix), Path(stem_dst + suffix)
        if src.is_file():
            tmp = Path(str(dst) + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        else:
            dst.unlink(missing_ok=True)


def _copy_parts(plan: ReplayPlan, workdir: Path) -> list[str]:
    """The module's ``.olean`` parts copied into ``workdir/replayed`` (what a replay reads)."""
    folder = workdir / "replayed"
    folder.mkdir(parents=True, exist_ok=True)
    for part in plan.parts:
        shutil.copyfile(part, folder / part.name)
    return [str(folder / part.name) for part in plan.parts]


class Checker:
    """Owns a backend (embedded pool or native) and the result cache."""

    def __init__(self, settings: Settings, *, warm: bool = True, prestart: bool = False,
                 expected_leases: int | None = None, backend: Backend | None = None,
                 db: Database | None = None) -> None:
        """``expected_leases``: how many Lean sessions the caller will use, if it knows (each
        compile is one, and the replay of an accepted file another); ``0`` is a one-shot checker
        that starts a process only for a session that asks for one, never one nobody leases
        (``WarmPool.expect``; :meth:`expect_leases` declares later)."""
        self.settings = settings
        refuse_tracked_state(settings)  # the tree under check may not supply the state
        self.provenance = Provenance.load(settings)
        settings.ensure_state()
        self.backend = backend or open_backend(settings, warm=warm, prestart=prestart,
                                               expected_leases=expected_leases)
        self._own_db = db is None
        self.db = db or Database(settings.db_url)
        self.cache = ResultCache(self.db, shared=settings.artifact_cache, provenance=self.provenance)
        self.auditor = EnvironmentAuditor(self.backend.library_dir, self.backend.core_index_path,
                                          settings.build_dir)
        self._resident: ResidentPool | None = None
        self._resident_lock = threading.Lock()
        self._replayers: ResidentPool | None = None
        """Replay workers started ahead (:meth:`warm`): each a fresh Lean process that has
        imported a replay's header and elaborated the replay program, used for ONE replay."""

    # -- public API ---------------------------------------------------------------------------
    def expect_leases(self, leases: int | None) -> None:
        """Declare how many more Lean sessions will come (``None``: unknown)."""
        self.backend.expect_leases(leases)

    def check_source(self, source: str, imports: Sequence[str] = (), *, policy: Policy | None = None,
                     file_name: str = "Check.lean") -> CheckResult:
        return self.check(CheckRequest(source=source, imports=tuple(imports), file_name=file_name,
                                       policy=policy or Policy()))

    def check_file(self, path: Path, *, policy: Policy | None = None) -> CheckResult:
        path = Path(path)
        text = read_text_checked(path, max_bytes=self.settings.max_file_bytes, root=self.settings.project_root)
        return self.check(CheckRequest(source=text, file_name=path.name, policy=policy or Policy()))

    def check_many(self, requests: Sequence[CheckRequest]) -> list[CheckResult]:
        workers = max(1, min(len(requests), getattr(self.backend, "pool_size", None) or os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(self.check, requests))

    def _source(self, request: CheckRequest) -> str:
        """The file to check (missing imports added), or an InputError for bad input."""
        source = _with_imports(request.source, request.imports)
        if len(source.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        if not source.strip():
            raise InputError("the Lean source is empty")
        if not request.file_name.endswith(".lean") or "/" in request.file_name or request.file_name.startswith("."):
            raise InputError(f"file name {request.file_name!r} must be a plain NAME.lean")
        return source

    def _limit(self, request: CheckRequest) -> float:
        """The request's own time limit, else the settings' (``SEQUENT_LEAN_TIMEOUT_S``)."""
        return request.timeout_s or self.settings.lean_timeout_s

    def check(self, request: CheckRequest) -> CheckResult:
        source = self._source(request)
        key = self._key(source, request)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        violations = scan(source, request.policy)
        if violations:
            result = self._refused(violations, request, key, time.monotonic())
            self.cache.put(result)
            return result
        # another process checking the same input: wait (at most this check's limit), then read
        with self.cache.claim(key, self._limit(request)):
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            result = self._run(source, request, key, time.monotonic())
            self.cache.put(result)
        return result

    # -- acceptance path, batched (pipeline.lean.batch) ------------------------------------------
    def check_batch(self, requests: Sequence[CheckRequest]) -> list[CheckResult | SequentError]:
        """Check several submissions, each with the verdict :meth:`check` gives it, compiling
        those that share a header and a statement as ONE module (one import paid for all).

        A member is batched only when its file has the assembled layout of a submission (one
        expected declaration) and its proof is lexically closed (``batch.batchable``); each
        decision is taken on the compiled environment per member (``audit_members``). What the
        batch cannot attribute (a timeout, a crash, an error on a generated line, a constant of
        no member, a member's theorem of another type than the statement, a proof that reaches
        another member) is checked on its own by :meth:`check`. A member that Lean rejects is
        rejected with its own messages; the others are compiled again without it. Each item is
        the result, or the error :meth:`check` raised for that request."""
        out: list[CheckResult | SequentError | None] = [None] * len(requests)
        groups: dict[tuple[object, ...], list[_Member]] = {}
        for i, request in enumerate(requests):
            try:
                source = self._source(request)
            except SequentError as exc:
                out[i] = exc
                continue
            key = self._key(source, request)
            cached = self.cache.get(key)
            if cached is not None:
                out[i] = cached
                continue
            names = request.expected_declarations
            split = split_submission(source, names[0]) if names is not None and len(names) == 1 else None
            if split is None or not batchable(split.proof) or scan(source, request.policy):
                continue  # checked on its own below (a policy refusal there, without Lean)
            group = (split.group, names, request.file_name, request.policy.model_dump_json(), request.timeout_s,
                     request.uncitable)
            groups.setdefault(group, []).append(_Member(i, request, key, split, source))
        for members in groups.values():
            if len(members) > 1:
                for i, result in self._batch(members).items():
                    self.cache.put(result)
                    out[i] = result
        results: list[CheckResult | SequentError] = []
        for i, request in enumerate(requests):
            item = out[i]
            if item is None:
                try:
                    item = self.check(request)
                except SequentError as exc:
                    item = exc
            results.append(item)
        return results

    def _batch(self, members: list[_Member]) -> dict[int, CheckResult]:
        """Compile ``members`` (one header, one statement) as one module, rounds until the rest
        compiles; returns the results it can vouch for (the others go to :meth:`check`)."""
        started = time.monotonic()
        first = members[0].request
        policy, name, split = first.policy, (first.expected_declarations or ("",))[0], members[0].split
        if self.untrusted_imports(members[0].source):
            return {}  # each member is refused on its own by check()
        closure = self.project_closure(imports(members[0].source))
        single = Path(first.file_name).stem
        decided: dict[int, CheckResult] = {}
        staged: Path | None = None
        todo = list(members)
        for _round in range(BATCH_ROUNDS):
            if len(todo) < 2:
                break
            batch = build_batch(split.header, split.statement, name, [m.split.proof for m in todo], new_nonce())
            if not generated_lines_intact(batch) or scan(batch.source, policy):
                break
            module = f"Batch_{batch.nonce}"
            timeout = self._limit(first) + BATCH_MEMBER_S * len(todo)
            out_rel = Path("out") / f"{module}.olean"
            with self.backend.session(timeout) as session:
                (session.workdir / f"{module}.lean").write_text(batch.source, encoding="utf-8")
                (session.workdir / out_rel).parent.mkdir(parents=True, exist_ok=True)
                raw = session.run(self.backend.compile_args(f"{module}.lean", str(out_rel)), timeout)
                messages = parse_messages(raw.stdout)
                where = attribute(messages, batch)
                if raw.timed_out or raw.out_of_memory or raw.returncode not in (0, 1) or where.whole:
                    break
                failed = {k for k, msgs in where.own.items()
                          if any(m.severity is Severity.error for m in msgs)} - where.unsure
                if raw.returncode == 1 or where.unsure or failed:
                    if not failed and not where.unsure:
                        break  # exit 1 without an error message: a crash, checked one by one
                    for k in failed:
                        decided[todo[k].position] = self._member_result(todo[k], batch, k, where, None, 1, started)
                    todo = [m for k, m in enumerate(todo) if k not in failed and k not in where.unsure]
                    continue
                produced = session.workdir / out_rel
                if not produced.is_file():
                    break

                def rename(text: str, k: int, module: str = module, batch: BatchFile = batch) -> str:
                    ns = batch.members[k].namespace
                    return text.replace(f"_private.{module}.0.{ns}.", f"_private.{single}.0.").replace(f"{ns}.", "")

                audits = self.auditor.audit_members(
                    produced, closure, policy, batch.reference,
                    [f"{mem.namespace}.{name}" for mem in batch.members], rename, first.uncitable)
                if audits is None:
                    break
                for k, audit in enumerate(audits):
                    if audit is not None:
                        decided[todo[k].position] = self._member_result(todo[k], batch, k, where, audit, 0, started)
                if any(r.accepted for r in decided.values()) and self.settings.lean_replay:
                    staged = self._stage(produced)
            break
        if staged is not None:  # the batch file replayed once; if it fails, each is checked alone
            replayed = self._replay_staged(staged)
            decided = {i: (r.model_copy(update={"environment": r.environment.model_copy(
                               update={"replayed": replayed.replayed})}) if r.environment is not None else r)
                       if r.accepted else r
                       for i, r in decided.items() if replayed.ok or not r.accepted}
        return decided

    def _member_result(self, member: _Member, batch: BatchFile, k: int, where: Attribution,
                       audit: EnvironmentAudit | None, returncode: int, started: float) -> CheckResult:
        """A batch member's result, decided as :meth:`_run` decides a file's: Lean's messages
        (at their positions in the member's own file) first, then its audit."""
        request = member.request
        messages = [to_single(m, batch.members[k], member.split.proof_line, request.file_name)
                    for m in where.own[k]]
        raw = RawRun(stdout="", stderr="", returncode=returncode, elapsed_s=0.0)
        reasons = reasons_for(raw, messages, request.policy)
        if reasons:
            audit = None  # the one-file path audits only what Lean accepted
        elif audit is not None:
            reasons = self._audit_reasons(audit)
        axioms = tuple(sorted({a for d in audit.declarations for a in d.axioms})) if audit is not None else None
        result = self._result(Verdict.accepted if not reasons else Verdict.rejected, reasons, messages, request,
                              member.key, started, axioms=axioms, audit=audit)
        return result.model_copy(update={"backend": f"{self.backend.name}+batch"})

    def compile_module(self, module: str, source: str, olean_out: Path, *, policy: Policy | None = None) -> CheckResult:
        """Compile one project module to ``olean_out`` (build). Not cached: the file matters."""
        policy = policy or Policy()
        rel = Path(*module.split(".")).with_suffix(".lean")
        request = CheckRequest(source=source, file_name=rel.name, policy=policy)
        key = self._key(source, request)
        started = time.monotonic()
        violations = scan(source, policy)
        if violations:
            return self._refused(violations, request, key, started)
        untrusted = self._untrusted_result(source, request, key, started)
        if untrusted is not None:
            return untrusted
        timeout = self.settings.lean_timeout_s
        staged: Path | None = None
        with self.backend.session(timeout) as session:
            target = session.workdir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
            out_rel = Path("out") / rel.with_suffix(".olean")
            (session.workdir / out_rel).parent.mkdir(parents=True, exist_ok=True)
            raw = session.run(self.backend.compile_args(str(rel), str(out_rel)), timeout)
            messages = parse_messages(raw.stdout)
            reasons = reasons_for(raw, messages, policy)
            produced = session.workdir / out_rel
            audit: EnvironmentAudit | None = None
            if not reasons and produced.is_file():
                audit = self.auditor.audit_file(produced, self.project_closure(imports(source)), policy)
                reasons = self._audit_reasons(audit)
                if not reasons:
                    staged = self._stage(produced)
            elif not reasons:
                reasons = [Reason.crash]
        if staged is not None and audit is not None:  # a module is kept only once replayed
            audit, reasons = self._replay_audit(staged, audit, keep=olean_out)
        return self._result(Verdict.accepted if not reasons else Verdict.rejected, reasons, messages,
                            request, key, started, raw_stderr=raw.stderr, audit=audit)

    # -- iteration path: resident workers (pipeline.lean.resident) -------------------------------
    def diagnose(self, request: CheckRequest) -> CheckResult:
        """An iteration check: the trust policy's scan, then Lean's diagnostics from a resident
        worker holding the source's import header (~0.1 s when one is warm). Same verdict rules
        as :meth:`check`, but no compiled-environment audit and no cache: an agent's draft, never
        a recorded verdict. Except: an attempt with ``uncitable`` constants (a proof of a claim)
        that Lean accepted is compiled and audited as :meth:`check` does, since whether its
        proof term reaches the claim's own declaration is a fact of the compiled environment
        only (a rejection there is the iteration verdict; the audited result is cached, so
        submitting the same proof afterwards costs no second compile)."""
        source = _with_imports(request.source, request.imports)
        if len(source.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        if not source.strip():
            raise InputError("the Lean source is empty")
        key = self._key(source, request)
        started = time.monotonic()
        violations = scan(source, request.policy)
        if violations:
            return self._refused(violations, request, key, started).model_copy(
                update={"backend": f"{self.backend.name}+resident"})
        run = self.resident().check(source, self._limit(request))
        messages = [m.model_copy(update={"file_name": request.file_name}) for m in run.messages]
        errors = any(m.severity is Severity.error for m in messages)
        raw = RawRun(stdout="", stderr=run.stderr, returncode=None if run.crashed else (1 if errors else 0),
                     elapsed_s=run.elapsed_s, timed_out=run.timed_out, out_of_memory=run.out_of_memory,
                     peak_rss_mb=run.rss_mb)
        reasons = reasons_for(raw, messages, request.policy)
        if not reasons and request.uncitable:
            return self.check(request)
        result = self._result(Verdict.accepted if not reasons else Verdict.rejected, reasons, messages,
                              request, key, started, raw_stderr=run.stderr)
        return result.model_copy(update={"backend": f"{self.backend.name}+resident"})

    def goals(self, source: str, line: int, column: int, imports: Sequence[str] = (), *,
              policy: Policy | None = None) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of ``source``, from a resident
        worker. The source passes the trust policy's scan first (Lean never runs a violation)."""
        full = _with_imports(source, imports)
        self._scan_for_state(full, policy)
        added = full.count("\n") - source.count("\n")  # import lines put before the caller's lines
        goal = self.resident().goals(full, line + added, column, self.settings.lean_timeout_s)
        return goal.model_copy(update={"line": line})

    def hovers(self, source: str, points: Sequence[tuple[int, int]], *, policy: Policy | None = None
               ) -> list[str | None]:
        """Lean's hover text (markdown) at each (1-based line, 0-based column) of ``source``, from
        a resident worker; the source passes the trust policy's scan first."""
        self._scan_for_state(source, policy)
        return self.resident().hovers(source, points, self.settings.lean_timeout_s)

    def _scan_for_state(self, source: str, policy: Policy | None) -> None:
        """Size limit and policy scan (``sorry`` allowed by default) before a resident worker
        elaborates ``source`` for a position request; a violation is an InputError."""
        if len(source.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        violations = scan(source, policy or Policy(allow_sorry=True))
        if violations:
            v = violations[0]
            raise InputError(f"line {v.line}:{v.column}: policy ({v.rule}): {v.message}")

    def warm(self, requests: Sequence[CheckRequest], headers: int) -> int:
        """Make the first iteration checks like ``requests`` fast: start a resident worker for
        each of the ``headers`` import headers most requests share (while the pool has free
        slots), a replay worker for each of their imports (:meth:`warm_replay`; replay on), and
        decode the audit's core index and the project modules those requests import (the
        compiled-environment audit of an accepted attempt reads them). Returns how many
        workers were started."""
        chosen = warm_choice(requests, headers)
        pool = self.resident()
        with ThreadPoolExecutor(max_workers=2) as ex:  # the replay workers start meanwhile
            replays = ex.submit(lambda: sum(
                self.warm_replay(imports(self._source(group[0])), workers=len(chosen))
                for _head, group in chosen) if self.settings.lean_replay else 0)
            started = sum(pool.prestart(head) for head, _ in chosen)
            modules = list(dict.fromkeys(m for _, group in chosen for m in group[0].imports))
            self.auditor.project(self.project_closure(modules))  # decodes the core index too
            return started + replays.result()

    def warm_replay(self, modules: Sequence[str], *, workers: int = 1) -> bool:
        """Start a replay worker for modules importing ``modules`` (the next replay of such a
        module then skips Lean's start and the imports; each worker replays once, and a new
        one starts after it). ``workers``: the replay workers' pool size, set on first use.
        Returns whether a worker was started."""
        with self._resident_lock:
            if self._replayers is None:
                self._replayers = self._new_pool(workers, recycle_checks=2)
            replayers = self._replayers
        return replayers.prestart(replay_header(modules), replay_prefix(modules))

    def resident_stats(self) -> ResidentStats | None:
        """The resident pool's counters (``None`` before its first use); starts nothing."""
        with self._resident_lock:
            return self._resident.stats() if self._resident is not None else None

    def resident(self) -> ResidentPool:
        """The resident worker pool, started on first use."""
        with self._resident_lock:
            if self._resident is None:
                from pipeline.lean.backends import auto_pool_size

                workers = self.settings.resident_workers or auto_pool_size(self.settings)
                self._resident = self._new_pool(workers, recycle_checks=self.settings.resident_recycle_checks)
            return self._resident

    def _new_pool(self, workers: int, *, recycle_checks: int) -> ResidentPool:
        return ResidentPool(self.backend.resident_command, max_workers=max(1, workers),
                            memory_mb=self.settings.lean_memory_mb, recycle_checks=recycle_checks,
                            recycle_mb=self.settings.resident_recycle_mb)

    def close(self) -> None:
        with self._resident_lock:
            if self._resident is not None:
                self._resident.close()
                self._resident = None
            if self._replayers is not None:
                self._replayers.close()
                self._replayers = None
        self.backend.close()
        if self._own_db:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _run(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult:
        """Compile the file (``lean -o``) in a private folder and audit what Lean wrote."""
        untrusted = self._untrusted_result(source, request, key, started)
        if untrusted is not None:
            return untrusted
        timeout = self._limit(request)
        out_rel = Path("out") / Path(request.file_name).with_suffix(".olean")
        audit: EnvironmentAudit | None = None
        staged: Path | None = None
        with self.backend.session(timeout) as session:
            (session.workdir / request.file_name).write_text(source, encoding="utf-8")
            (session.workdir / out_rel).parent.mkdir(parents=True, exist_ok=True)
            raw = session.run(self.backend.compile_args(request.file_name, str(out_rel)), timeout)
            messages = parse_messages(raw.stdout)
            reasons = reasons_for(raw, messages, request.policy)
            produced = session.workdir / out_rel
            if not reasons:
                if produced.is_file():
                    audit = self.auditor.audit_file(produced, self.project_closure(imports(source)),
                                                    request.policy, request.expected_declarations,
                                                    request.uncitable)
                    reasons = self._audit_reasons(audit)
                    if not reasons:
                        staged = self._stage(produced)
                else:
                    reasons = [Reason.crash]
        if staged is not None and audit is not None:  # accepted only once replayed
            audit, reasons = self._replay_audit(staged, audit)
        verdict = Verdict.accepted if not reasons else Verdict.rejected
        axioms = (tuple(sorted({a for d in audit.declarations for a in d.axioms}))
                  if audit is not None else None)
        return self._result(verdict, reasons, messages, request, key, started, axioms=axioms,
                            raw_stderr=raw.stderr, audit=audit)

    # -- replay (pipeline.lean.replay) ----------------------------------------------------------
    def replay(self, olean: Path) -> ReplayResult:
        """Replay a compiled module (``olean`` and its parts) in a fresh Lean process: its
        constants sent again to the kernel (``lean4checker``'s check). The process is a replay
        worker started ahead for the module's imports when one is idle (:meth:`warm`), else a
        one-shot run; either way a process that no check ran in before, used for this replay
        only."""
        plan = replay_plan(olean)
        timeout = self.settings.lean_timeout_s
        pool = self._replayers
        if pool is not None:
            with pool.lease_idle(replay_header(plan.imports)) as worker:
                if worker is not None:
                    result = self._replay_in(worker, plan, timeout)
            if worker is not None:
                self._restart_replayer(plan.imports)
                return result
        with self.backend.session(timeout) as session:
            paths = _copy_parts(plan, session.workdir)
            (session.workdir / REPLAY_FILE).write_text(replay_source(plan, paths), encoding="utf-8")
            (session.workdir / "out").mkdir(parents=True, exist_ok=True)
            raw = session.run(self.backend.compile_args(REPLAY_FILE, "out/SequentReplay.olean"), timeout)
        if raw.timed_out or raw.out_of_memory:
            return ReplayResult(False, 0, "the replay did not finish (time or memory limit)", finished=False)
        return read_result(raw.stdout, plan)

    @staticmethod
    def _replay_in(worker: ResidentWorker, plan: ReplayPlan, timeout: float) -> ReplayResult:
        """One replay in a replay worker (its header imported, the program elaborated)."""
        run = worker.sync(replay_source(plan, _copy_parts(plan, worker.workdir)), timeout)
        if run.timed_out or run.out_of_memory or run.crashed:
            return ReplayResult(False, 0, "the replay did not finish (time or memory limit, or a crash)",
                                finished=False)
        return read_messages([(m.severity.value, m.text) for m in run.messages], plan)

    def _restart_replayer(self, imports: Sequence[str]) -> None:
        """A replay worker for ``imports`` started in the background (the one just used is closed)."""
        pool = self._replayers
        if pool is None:
            return

        def start() -> None:
            try:
                pool.prestart(replay_header(imports), replay_prefix(imports))
            except (SequentError, OSError) as exc:  # the next replay runs one-shot
                log.warning("starting a replay worker failed: %s", exc)

        threading.Thread(target=start, name="sequent-replayer", daemon=True).start()

    def _stage(self, produced: Path) -> Path:
        """A copy of a compiled file's parts outside its Lean session, for the replay."""
        target = Path(tempfile.mkdtemp(prefix="sequent-replay-")) / produced.name
        keep_parts(produced, target)
        return target

    def _replay_staged(self, staged: Path) -> ReplayResult:
        try:
            return self.replay(staged)
        finally:
            shutil.rmtree(staged.parent, ignore_errors=True)

    def _replay_audit(self, staged: Path, audit: EnvironmentAudit, *, keep: Path | None = None
                      ) -> tuple[EnvironmentAudit, list[Reason]]:
        """The audit with the replay's verdict (off with ``SEQUENT_LEAN_REPLAY=false``); a
        replayed module's parts are then kept at ``keep``."""
        if not self.settings.lean_replay:
            if keep is not None:
                keep_parts(staged, keep)
            shutil.rmtree(staged.parent, ignore_errors=True)
            return audit, self._audit_reasons(audit)
        try:
            result = self.replay(staged)
            if result.ok:
                audit = audit.model_copy(update={"replayed": result.replayed})
                if keep is not None:
                    keep_parts(staged, keep)
            else:
                issue = AuditIssue(rule="replay" if result.finished else "replay_unfinished", declaration="",
                                   message=f"replayed in a fresh kernel: {result.message}")
                audit = audit.model_copy(update={"issues": (*audit.issues, issue)})
        finally:
            shutil.rmtree(staged.parent, ignore_errors=True)
        return audit, self._audit_reasons(audit)

    def _refused(self, violations: Sequence[Violation], request: CheckRequest, key: str,
                 started: float) -> CheckResult:
        """The result of a source the trust policy refused (Lean never ran it): one mapping of
        violations to reasons for every path."""
        reasons = [_VIOLATION_REASONS.get(v.rule, Reason.forbidden) for v in violations]
        return self._result(Verdict.rejected, reasons, [], request, key, started, violations=violations)

    @staticmethod
    def _audit_reasons(audit: EnvironmentAudit) -> list[Reason]:
        return list(dict.fromkeys(_AUDIT_REASONS.get(i.rule, Reason.forbidden) for i in audit.issues))

    def project_closure(self, modules: Sequence[str]) -> list[str]:
        """The built project modules that ``modules`` import, transitively (core ones skipped);
        only builds this pipeline made and signed (:meth:`trusted_manifest`)."""
        manifest = self.trusted_manifest()
        seen: list[str] = []
        stack = list(modules)
        while stack:
            mod = stack.pop()
            if mod in seen or mod.split(".")[0] in {"Init", "Std", "Lean", "Lake"}:
                continue
            if mod not in manifest:
                continue
            seen.append(mod)
            deps = manifest.get(mod, {}).get("imports", [])
            if isinstance(deps, list):
                stack.extend(str(d) for d in deps)
        return seen

    # -- provenance of the build folder (pipeline.lean.provenance) --------------------------------
    @property
    def lean_id(self) -> str:
        """The Lean and audit a build was made with (part of every signed manifest entry)."""
        return f"{self.backend.name}|{self.backend.version}|{self.audit_id}"

    @property
    def audit_id(self) -> str:
        """The audit a verdict or build passed: with or without the kernel replay, so that what
        was built or accepted with ``SEQUENT_LEAN_REPLAY`` off never counts for a run with it on
        (a manifest entry and a cache key of the other mode do not match)."""
        return f"{AUDIT_VERSION}|{'replay' if self.settings.lean_replay else 'no-replay'}"

    def _olean(self, module: str) -> Path:
        return self.settings.build_dir / Path(*module.split(".")).with_suffix(".olean")

    @staticmethod
    def _entry_fields(module: str, entry: dict[str, object]) -> tuple[object, ...]:
        return ("build", module, entry.get("fingerprint"), entry.get("imports"), entry.get("path"),
                entry.get("parts"), entry.get("lean"))

    def sign_build(self, module: str, *, fingerprint: str, imports: Sequence[str], path: str
                   ) -> dict[str, object]:
        """The manifest entry of a module this pipeline just compiled (or copied from the
        artifact store and audited) into the build folder, with its MAC."""
        parts = parts_digest(self._olean(module), OUTPUT_SUFFIXES)
        entry: dict[str, object] = {"fingerprint": fingerprint, "olean_sha256": parts.get(".olean", ""),
                                    "imports": list(imports), "path": path, "parts": parts,
                                    "lean": self.lean_id}
        entry["mac"] = self.provenance.mac(*self._entry_fields(module, entry))
        return entry

    def trusted_manifest(self) -> dict[str, dict[str, object]]:
        """The build folder's manifest entries that this pipeline signed, for this Lean and
        audit, whose files still hash to what was signed. Anything else in the build folder (a
        committed build, an ``.olean`` compiled elsewhere, a recomputed fingerprint) is not a
        build: the build compiles the module again and a check refuses to import it."""
        out: dict[str, dict[str, object]] = {}
        for module, entry in load_manifest(self.settings.build_dir).items():
            if not isinstance(entry, dict) or entry.get("lean") != self.lean_id:
                continue
            if not self.provenance.valid(entry.get("mac"), *self._entry_fields(module, entry)):
                continue
            parts = entry.get("parts")
            if isinstance(parts, dict) and parts and parts_digest(self._olean(module), OUTPUT_SUFFIXES) == parts:
                out[module] = entry
        return out

    def untrusted_imports(self, source: str) -> list[str]:
        """The modules ``source`` imports (transitively) that Lean would load from neither its
        own library nor a build this pipeline made and signed."""
        trusted = self.trusted_manifest()
        library = self.backend.library_dir
        bad: list[str] = []
        seen: set[str] = set()
        stack = list(imports(source))
        while stack:
            mod = stack.pop()
            if mod in seen:
                continue
            seen.add(mod)
            if (library / Path(*mod.split(".")).with_suffix(".olean")).is_file():
                continue
            entry = trusted.get(mod)
            if entry is None:
                bad.append(mod)
                continue
            deps = entry.get("imports", [])
            if isinstance(deps, list):
                stack.extend(str(d) for d in deps)
        return sorted(bad)

    def _untrusted_result(self, source: str, request: CheckRequest, key: str, started: float
                          ) -> CheckResult | None:
        """A rejection, before Lean runs, of a file importing a module without a signed build."""
        bad = self.untrusted_imports(source)
        if not bad:
            return None
        texts = []
        for mod in bad:
            if self._olean(mod).is_file():
                texts.append(f"import {mod}: {self._olean(mod)} was not built by this pipeline (no valid "
                             "build signature: a committed or copied build, or one of another Lean); "
                             "`sequent build` compiles it from source")
            else:
                texts.append(f"import {mod}: no such module in Lean's library and no build of it by this "
                             "pipeline (`sequent build` builds the project's modules)")
        messages = [Message.model_validate({"severity": Severity.error, "kind": "untrusted_import", "data": t})
                    for t in texts]
        return self._result(Verdict.rejected, [Reason.error], messages, request, key, started)

    def _result(self, verdict: Verdict, reasons: Sequence[Reason], messages: Sequence[Message],
                request: CheckRequest, key: str, started: float, *, violations: Sequence[Violation] = (),
                axioms: tuple[str, ...] | None = None, raw_stderr: str = "",
                audit: EnvironmentAudit | None = None) -> CheckResult:
        msgs = list(messages)
        if audit is not None:
            msgs += [Message.model_validate({"severity": Severity.error, "data": f"environment audit: {i.message}",
                                             "kind": f"audit.{i.rule}"}) for i in audit.issues]
        if Reason.timeout in reasons:  # say so, with the limit (Lean itself printed nothing)
            msgs.append(Message.model_validate({
                "severity": Severity.error, "kind": "timeout",
                "data": f"Lean did not finish within the time limit of {self._limit(request):g} s"}))
        if Reason.out_of_memory in reasons:
            limit = request.memory_mb or self.settings.lean_memory_mb
            msgs.append(Message.model_validate({
                "severity": Severity.error, "kind": "out_of_memory",
                "data": f"Lean went over the memory limit of {limit} MB"}))
        tail = lean_stderr(raw_stderr)[-2000:]  # Node's own warnings are never the reason
        if Reason.crash in reasons:
            msgs.append(Message.model_validate(
                {"severity": Severity.error, "kind": "crash",
                 "data": f"Lean crashed: {tail}" if tail else
                 "Lean crashed: the process ended without an answer and wrote nothing on stderr "
                 "(Node's own warnings aside)"}))
        elif tail and Reason.error in reasons and not any(m.severity is Severity.error for m in msgs):
            msgs.append(Message.model_validate({"severity": Severity.error, "kind": "stderr", "data": tail}))
        return CheckResult(
            verdict=verdict, reasons=tuple(dict.fromkeys(reasons)), messages=tuple(msgs),
            violations=tuple(violations),
            axioms=axioms, environment=audit, backend=self.backend.name, lean_version=self.backend.version,
            elapsed_s=round(time.monotonic() - started, 3), cache_key=key, file_name=request.file_name,
        )

    def _key(self, source: str, request: CheckRequest) -> str:
        return cache_key(
            source=source, file_name=request.file_name,
            import_hashes=self.import_hashes(imports(source)),
            lean_version=f"{self.backend.version}|{self.audit_id}", backend=self.backend.name,
            policy_json=request.policy.model_dump_json()
            + (f"|expect={','.join(request.expected_declarations)}" if request.expected_declarations is not None else "")
            + (f"|uncitable={','.join(request.uncitable)}" if request.uncitable else ""),
        )

    def module_key(self, module: str, source: str) -> str:
        """The key of a project module's build: its source under the default policy, with
        the current builds of the modules it imports."""
        return self._key(source, CheckRequest(source=source, file_name=f"{module}.lean"))

    def import_hashes(self, modules: Sequence[str]) -> list[tuple[str, str]]:
        """(module, hash) for the transitive closure of project modules in the build folder
        (a module without a signed build: ``untrusted:<sha256>`` or ``missing``)."""
        manifest = self.trusted_manifest()
        seen: dict[str, str] = {}
        stack = list(modules)
        while stack:
            mod = stack.pop()
            if mod in seen:
                continue
            entry = manifest.get(mod)
            olean = self.settings.build_dir / Path(*mod.split(".")).with_suffix(".olean")
            if entry is not None:
                seen[mod] = str(entry.get("olean_sha256", ""))
                deps = entry.get("imports", [])
                if isinstance(deps, list):
                    stack.extend(str(d) for d in deps)
            elif olean.is_file():
                seen[mod] = "untrusted:" + hashlib.sha256(olean.read_bytes()).hexdigest()
            else:
                seen[mod] = "core" if mod.split(".")[0] in {"Init", "Std", "Lean", "Lake"} else "missing"
        return sorted(seen.items())


class _Member(NamedTuple):
    """A request in a batch: its place in the caller's list, cache key and parts."""

    position: int
    request: CheckRequest
    key: str
    split: Split
    source: str


def load_manifest(build_dir: Path) -> dict[str, dict[str, object]]:
    path = build_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


__all__ = ["Checker", "iteration_header", "load_manifest", "read_text_checked", "warm_choice"]
