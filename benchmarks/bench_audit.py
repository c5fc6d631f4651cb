"""Compiled-environment audit figures, side by side in one run (embedded backend).

    .venv/bin/python benchmarks/bench_audit.py [--repeat 20]

Prints: indexing the core library (once per install; target ≤ 60 s), auditing one compiled
checked file (target ≤ 200 ms), auditing the whole of ``Formal/`` (load every module's parts and
audit every constant; target ≤ 5 s), the statement meaning of every claim, and — for scale —
Lean's own compile of the same checked file.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tomllib
from pathlib import Path

from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.models import DEFAULT_AXIOMS, Policy
from pipeline.lean.olean.audit import audit_module, meaning
from pipeline.lean.olean.environment import build_core_index
from pipeline.lean.trust import EnvironmentAuditor
from pipeline.settings import Settings, cpu_count

REPO = Path(__file__).resolve().parents[1]
CHECKED = """import Formal.SGD
open Formal Formal.SGD
theorem bench_uses (t : Nat) (ht : 1 ≤ t) : 0 ≤ 1 / (t : Rat) := Formal.one_div_natCast_nonneg t
theorem bench_em (p : Prop) : p ∨ ¬p := Classical.em p
"""


def _ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    settings = Settings.load(REPO, pool_size=1)  # the project's own (incremental) build folder
    base = settings
    print(f"machine: {platform.platform()}, {cpu_count()} cores")

    started = time.monotonic()
    index = build_core_index(base.lean_dir / "lib")
    print(f"core index: {len(index.kinds)} constants of {index.modules} modules in "
          f"{time.monotonic() - started:.1f} s (target ≤ 60 s)")

    with Checker(settings) as checker:
        report = build_project(settings, checker)
        assert report.ok, [m.module for m in report.failures()]
        modules = checker.builds.closure(["Formal"])
        # Lean's compile of one checked file, then the audit alone of what it wrote
        session_cm = checker.backend.session(settings.lean_timeout_s)
        with session_cm as session:
            lean_started = time.monotonic()
            raw = session.compile("Bench.lean", CHECKED, "out/Bench.olean", 600)
            lean_s = time.monotonic() - lean_started
            assert raw.returncode == 0, raw.stdout[-2000:]
            olean = session.workdir / "out" / "Bench.olean"
            closure = checker.builds.closure(["Formal.SGD"])
            first = time.monotonic()
            EnvironmentAuditor(settings.lean_dir / "lib", settings.lean_dir / "core-index.json",
                               settings.build_dir).audit_file(olean, closure, Policy())
            cold = time.monotonic() - first
            warm: list[float] = []
            for _ in range(args.repeat):
                t0 = time.monotonic()
                audit = checker.auditor.audit_file(olean, closure, Policy())
                warm.append(time.monotonic() - t0)
            assert not audit.issues, audit.issues
        print(f"Lean compile of the checked file: {lean_s:.2f} s")
        print(f"audit of that file: first in a process {cold * 1000:.0f} ms (loads the core index), "
              f"then {_ms(warm)} (target ≤ 200 ms)")

        whole: list[float] = []
        for _ in range(max(3, args.repeat // 4)):
            t0 = time.monotonic()
            fresh = EnvironmentAuditor(settings.lean_dir / "lib", settings.lean_dir / "core-index.json",
                                       settings.build_dir, core=checker.auditor.core)  # index: once per process
            env = fresh.project(modules)
            for module in modules:
                audit_module(env, module, DEFAULT_AXIOMS)
            whole.append(time.monotonic() - t0)
        print(f"audit of all of Formal/ ({len(modules)} modules, {len(env.constants)} constants): "
              f"{_ms(whole)} (target ≤ 5 s)")
        claims = sorted((REPO / "claims").glob("*.toml"))
        t0 = time.monotonic()
        for path in claims:
            meaning(env, tomllib.loads(path.read_text())["lean"]["declaration"])
        print(f"meaning of {len(claims)} claims: {(time.monotonic() - t0) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
