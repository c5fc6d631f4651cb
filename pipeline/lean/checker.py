"""The checker: policy scan, cache, backend session, verdict. Everything that checks Lean
goes through :class:`Checker` (the CLI, claims, build, gate, agents, service).

Flow of one check::

    source ──► size/UTF-8 limits ──► policy.scan ──► cache key ──► cache hit? ──► result
                                         │ violations: rejected (Lean never runs the file)
                                         ▼
                          backend.session(): private folder, warm process ──► RawRun
                                         ▼
                          interpret: messages, reasons, axioms ──► CheckResult ──► cache
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

from pipeline.errors import InputError, NotFoundError
from pipeline.lean.backends import Backend, open_backend
from pipeline.lean.cache import ResultCache, cache_key
from pipeline.lean.interpret import audited_axioms, parse_messages, reasons_for
from pipeline.lean.models import (
    CheckRequest,
    CheckResult,
    Message,
    Policy,
    Reason,
    Severity,
    Verdict,
    Violation,
)
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.resident import Goal, ResidentPool
from pipeline.lean.syntax import blank_comments_and_strings, declarations, imports
from pipeline.settings import Settings
from pipeline.store.db import Database

MANIFEST = "manifest.json"


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


class Checker:
    """Owns a backend (embedded pool or native) and the result cache."""

    def __init__(self, settings: Settings, *, warm: bool = True, backend: Backend | None = None,
                 db: Database | None = None) -> None:
        self.settings = settings
        settings.ensure_state()
        self.backend = backend or open_backend(settings, warm=warm)
        self._own_db = db is None
        self.db = db or Database(settings.db_url)
        self.cache = ResultCache(self.db)
        self._resident: ResidentPool | None = None
        self._resident_lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------
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

    def check(self, request: CheckRequest) -> CheckResult:
        source = _with_imports(request.source, request.imports)
        if len(source.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        if not source.strip():
            raise InputError("the Lean source is empty")
        if not request.file_name.endswith(".lean") or "/" in request.file_name or request.file_name.startswith("."):
            raise InputError(f"file name {request.file_name!r} must be a plain NAME.lean")
        key = self._key(source, request)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        started = time.monotonic()
        violations = scan(source, request.policy)
        if violations:
            reasons = [Reason.sorry if v.rule == "sorry" else Reason.axiom if v.rule == "axiom" else Reason.forbidden
                       for v in violations]
            result = self._result(Verdict.rejected, reasons, [], request, key, started, violations=violations)
        else:
            result = self._run(source, request, key, started)
        self.cache.put(result)
        return result

    def compile_module(self, module: str, source: str, olean_out: Path, *, policy: Policy | None = None) -> CheckResult:
        """Compile one project module to ``olean_out`` (build). Not cached: the file matters."""
        policy = policy or Policy()
        rel = Path(*module.split(".")).with_suffix(".lean")
        request = CheckRequest(source=source, file_name=rel.name, policy=policy)
        key = self._key(source, request)
        started = time.monotonic()
        violations = scan(source, policy)
        if violations:
            reasons = [Reason.sorry if v.rule == "sorry" else Reason.axiom if v.rule == "axiom" else Reason.forbidden
                       for v in violations]
            return self._result(Verdict.rejected, reasons, [], request, key, started, violations=violations)
        timeout = self.settings.lean_timeout_s
        with self.backend.session(timeout) as session:
            target = session.workdir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
            out_rel = Path("out") / rel.with_suffix(".olean")
            (session.workdir / out_rel).parent.mkdir(parents=True, exist_ok=True)
            raw = session.run(self.backend.compile_args(str(rel), str(out_rel)), timeout)
            messages = parse_messages(raw.stdout)
            reasons = reasons_for(raw, messages, policy, None)
            produced = session.workdir / out_rel
            if not reasons and produced.is_file():
                olean_out.parent.mkdir(parents=True, exist_ok=True)
                tmp = olean_out.with_suffix(".olean.tmp")
                shutil.copyfile(produced, tmp)
                os.replace(tmp, olean_out)
            elif not reasons:
                reasons = [Reason.crash]
        return self._result(Verdict.accepted if not reasons else Verdict.rejected, reasons, messages,
                            request, key, started, raw_stderr=raw.stderr if Reason.crash in reasons else "")

    # -- iteration path: resident workers (pipeline.lean.resident) -------------------------------
    def diagnose(self, request: CheckRequest) -> CheckResult:
        """An iteration check: the trust policy's scan, then Lean's diagnostics from a resident
        worker holding the source's import header (~0.1 s when one is warm). Same verdict rules
        as :meth:`check`, but no compiled-environment audit and no cache: an agent's draft, never
        a recorded verdict."""
        source = _with_imports(request.source, request.imports)
        if len(source.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        if not source.strip():
            raise InputError("the Lean source is empty")
        key = self._key(source, request)
        started = time.monotonic()
        violations = scan(source, request.policy)
        if violations:
            reasons = [Reason.sorry if v.rule == "sorry" else Reason.axiom if v.rule == "axiom" else Reason.forbidden
                       for v in violations]
            return self._result(Verdict.rejected, reasons, [], request, key, started, violations=violations
                                ).model_copy(update={"backend": f"{self.backend.name}+resident"})
        run = self.resident().check(source, request.timeout_s or self.settings.lean_timeout_s)
        messages = [m.model_copy(update={"file_name": request.file_name}) for m in run.messages]
        errors = any(m.severity is Severity.error for m in messages)
        raw = RawRun(stdout="", stderr=run.stderr, returncode=None if run.crashed else (1 if errors else 0),
                     elapsed_s=run.elapsed_s, timed_out=run.timed_out, out_of_memory=run.out_of_memory,
                     peak_rss_mb=run.rss_mb)
        reasons = reasons_for(raw, messages, request.policy)
        result = self._result(Verdict.accepted if not reasons else Verdict.rejected, reasons, messages,
                              request, key, started, raw_stderr=run.stderr if Reason.crash in reasons else "")
        return result.model_copy(update={"backend": f"{self.backend.name}+resident"})

    def goals(self, source: str, line: int, column: int, imports: Sequence[str] = (), *,
              policy: Policy | None = None) -> Goal:
        """The proof state at (1-based ``line``, 0-based ``column``) of ``source``, from a resident
        worker. The source passes the trust policy's scan first (Lean never runs a violation)."""
        full = _with_imports(source, imports)
        if len(full.encode()) > self.settings.max_file_bytes:
            raise InputError(f"the Lean source is over the limit of {self.settings.max_file_bytes} bytes")
        violations = scan(full, policy or Policy(allow_sorry=True))
        if violations:
            v = violations[0]
            raise InputError(f"line {v.line}:{v.column}: policy ({v.rule}): {v.message}")
        added = full.count("\n") - source.count("\n")  # import lines put before the caller's lines
        goal = self.resident().goals(full, line + added, column, self.settings.lean_timeout_s)
        return goal.model_copy(update={"line": line})

    def resident(self) -> ResidentPool:
        """The resident worker pool, started on first use."""
        with self._resident_lock:
            if self._resident is None:
                from pipeline.lean.backends import auto_pool_size

                workers = self.settings.resident_workers or auto_pool_size(self.settings)
                self._resident = ResidentPool(
                    self.backend.resident_command, max_workers=max(1, workers),
                    memory_mb=self.settings.lean_memory_mb,
                    recycle_checks=self.settings.resident_recycle_checks,
                    recycle_mb=self.settings.resident_recycle_mb,
                )
            return self._resident

    def close(self) -> None:
        with self._resident_lock:
            if self._resident is not None:
                self._resident.close()
                self._resident = None
        self.backend.close()
        if self._own_db:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _run(self, source: str, request: CheckRequest, key: str, started: float) -> CheckResult:
        timeout = request.timeout_s or self.settings.lean_timeout_s
        audit = self.backend.can_audit_axioms
        text = source
        if audit:
            names = [d.name for d in declarations(source) if d.kind in {"theorem", "lemma", "def", "instance", "abbrev"}]
            text = source.rstrip("\n") + "\n" + "".join(f"#print axioms {n}\n" for n in names)
        with self.backend.session(timeout) as session:
            (session.workdir / request.file_name).write_text(text, encoding="utf-8")
            raw = session.run(self.backend.check_args(request.file_name), timeout)
        messages = parse_messages(raw.stdout)
        axioms = audited_axioms(messages) if audit else None
        if audit:
            messages = [m for m in messages if "depends on axioms" not in m.text
                        and "does not depend on any axioms" not in m.text]
        reasons = reasons_for(raw, messages, request.policy, axioms)
        verdict = Verdict.accepted if not reasons else Verdict.rejected
        all_axioms = tuple(sorted({a for axs in (axioms or {}).values() for a in axs})) if audit else None
        return self._result(verdict, reasons, messages, request, key, started, axioms=all_axioms,
                            raw_stderr=raw.stderr if Reason.crash in reasons else "")

    def _result(self, verdict: Verdict, reasons: Sequence[Reason], messages: Sequence[Message],
                request: CheckRequest, key: str, started: float, *, violations: Sequence[Violation] = (),
                axioms: tuple[str, ...] | None = None, raw_stderr: str = "") -> CheckResult:
        msgs = list(messages)
        if raw_stderr:
            tail = "\n".join(l for l in raw_stderr.splitlines() if not l.startswith("[DEBUG"))[-2000:]
            msgs.append(Message.model_validate(
                {"severity": Severity.error, "data": f"Lean crashed: {tail}", "kind": "crash"}))
        return CheckResult(
            verdict=verdict, reasons=tuple(dict.fromkeys(reasons)), messages=tuple(msgs),
            violations=tuple(violations),
            axioms=axioms, backend=self.backend.name, lean_version=self.backend.version,
            elapsed_s=round(time.monotonic() - started, 3), cache_key=key, file_name=request.file_name,
        )

    def _key(self, source: str, request: CheckRequest) -> str:
        return cache_key(
            source=source, file_name=request.file_name,
            import_hashes=self.import_hashes(imports(source)),
            lean_version=self.backend.version, backend=self.backend.name,
            policy_json=request.policy.model_dump_json(),
        )

    def import_hashes(self, modules: Sequence[str]) -> list[tuple[str, str]]:
        """(module, hash) for the transitive closure of project modules in the build folder."""
        manifest = load_manifest(self.settings.build_dir)
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
                seen[mod] = hashlib.sha256(olean.read_bytes()).hexdigest()
            else:
                seen[mod] = "core" if mod.split(".")[0] in {"Init", "Std", "Lean", "Lake"} else "missing"
        return sorted(seen.items())


def load_manifest(build_dir: Path) -> dict[str, dict[str, object]]:
    path = build_dir / MANIFEST
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def check_file(path: Path, settings: Settings | None = None) -> CheckResult:
    """One-shot convenience: check a file with a fresh (cold) checker."""
    settings = settings or Settings.load()
    with Checker(settings, warm=False) as checker:
        return checker.check_file(path)


def check_source(text: str, imports: Sequence[str] = (), settings: Settings | None = None) -> CheckResult:
    settings = settings or Settings.load()
    with Checker(settings, warm=False) as checker:
        return checker.check_source(text, imports)


__all__ = ["Checker", "check_file", "check_source", "load_manifest", "read_text_checked"]
