"""Lean engine figures, measured side by side in one run (embedded backend).

    .venv/bin/python benchmarks/bench_lean.py [--warm-runs 6]

Prints: cold check, warm-pool check (p50/max), cache hit (p50), full Formal/ build (cold,
then no-op incremental), peak resident memory per Lean process, and one-shot compiles with V8's
default wasm tiers against ``ONE_SHOT_V8_FLAGS`` (Liftoff only), alternating, ``--tier-runs``
each: a small check and the heaviest module of ``Formal/`` (wall and CPU, medians).
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest
from pipeline.settings import Settings, cpu_count

REPO = Path(__file__).resolve().parents[1]
SMALL = "theorem bench_{i} (a b : Nat) (h : a < b) : a + {i} < b + {i} := by omega\n"


def copy_library(repo: Path) -> Path:
    """``Formal/``, ``Formal.lean`` and the lakefile of ``repo`` in a new temporary folder."""
    work = Path(tempfile.mkdtemp(prefix="sequent-bench-"))
    for name in ("Formal", "Formal.lean", "lakefile.lean"):
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, work / name)
        elif src.exists():
            shutil.copy2(src, work / name)
    return work


def ready_workers(checker: Checker) -> int:
    """The pool's ready workers (``free`` in revisions before the generic pool, which
    ``bench_revisions.py`` runs this against)."""
    stats = checker.backend.pool_stats()  # type: ignore[attr-defined]
    return int(stats.get("idle", stats.get("free", 0)))


def warm_checks(checker: Checker, first: int, runs: int, ready_needed: int) -> list[float]:
    """``runs`` accepted checks of distinct small theorems, each once ``ready_needed`` workers
    are ready (so each figure is a warm check): their wall times."""
    times: list[float] = []
    for i in range(first, first + runs):
        ready_by = time.time() + 240
        while ready_workers(checker) < ready_needed:
            if time.time() > ready_by:
                raise SystemExit(f"the pool did not get {ready_needed} ready workers in 240 s")
            time.sleep(0.2)
        t = time.perf_counter()
        res = checker.check(CheckRequest(source=SMALL.format(i=i)))
        times.append(time.perf_counter() - t)
        assert res.accepted, res.diagnostics()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm-runs", type=int, default=6)
    parser.add_argument("--tier-runs", type=int, default=3)
    args = parser.parse_args()
    work = copy_library(REPO)
    base = Settings.load(REPO)
    settings = Settings.load(work, lean_home=base.lean_dir, state_dir=work / ".sequent")
    rows: list[tuple[str, str]] = []
    # cold: a fresh process per check, start-up included
    with Checker(settings, warm=False) as cold:
        t = time.perf_counter()
        r = cold.check(CheckRequest(source=SMALL.format(i=0)))
        rows.append(("cold check (fresh process)", f"{time.perf_counter() - t:6.2f} s  ({r.verdict.value})"))

    # a server's pool (pre-started): a command's pool starts on demand and would never be ready
    with Checker(settings, prestart=True) as checker:
        pool_size = checker.backend.pool_stats().get("size", 1)  # type: ignore[attr-defined]
        # let the pool finish starting, as a long-running service would have
        deadline = time.time() + 240
        while ready_workers(checker) < pool_size and time.time() < deadline:
            time.sleep(0.5)
        # idle pool: no replacement is starting beside the check (a service between bursts)
        idle = warm_checks(checker, 1, args.warm_runs, pool_size)
        rows.append((f"warm-pool check, idle pool, p50 of {len(idle)}",
                     f"{statistics.median(idle):6.2f} s  (max {max(idle):.2f} s, pool {pool_size})"))
        # back to back: the replacement of the last leased worker starts beside the check
        busy = warm_checks(checker, 1 + args.warm_runs, args.warm_runs, 1)
        rows.append((f"warm-pool check, back to back, p50 of {len(busy)}",
                     f"{statistics.median(busy):6.2f} s  (max {max(busy):.2f} s, pool {pool_size})"))
        hits: list[float] = []
        for _ in range(50):
            t = time.perf_counter()
            checker.check(CheckRequest(source=SMALL.format(i=1)))
            hits.append(time.perf_counter() - t)
        rows.append(("cache hit, p50 of 50", f"{statistics.median(hits) * 1000:6.2f} ms (max {max(hits) * 1000:.2f} ms)"))

        t = time.perf_counter()
        report = build_project(settings, checker)
        build_s = time.perf_counter() - t
        rows.append((f"full Formal/ build ({len(report.modules)} modules, {cpu_count()} jobs)",
                     f"{build_s:6.2f} s  ({'ok' if report.ok else 'FAILED'})"))
        t = time.perf_counter()
        again = build_project(settings, checker)
        rows.append(("no-op incremental build", f"{time.perf_counter() - t:6.2f} s  ({len(again.rebuilt)} rebuilt)"))

    # peak memory of one Lean process: measured by the process class during a check
    from pipeline.lean.backends import EmbeddedBackend

    backend = EmbeddedBackend(settings, warm=False)
    with backend.session(300) as session:
        (session.workdir / "M.lean").write_text(SMALL.format(i=99))
        raw = session.run(["--json", "M.lean"], 300)
    rows.append(("peak RSS of one Lean process tree", f"{raw.peak_rss_mb:6.0f} MB"))
    rows += tiers(settings, args.tier_runs)

    print(f"# Lean engine benchmark — {time.strftime('%Y-%m-%d')} — {platform.node()}, "
          f"{cpu_count()} cores, {platform.machine()}")
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    shutil.rmtree(work, ignore_errors=True)


def tiers(settings: Settings, runs: int) -> list[tuple[str, str]]:
    """One-shot compiles (``lean -o``, a fresh process each, start-up included) with V8's default
    wasm tiers (Liftoff, then TurboFan for hot functions) and with ``ONE_SHOT_V8_FLAGS``,
    alternating so that both see the same machine: a small check, and ``Formal/SGD.lean`` (the
    slowest module to elaborate; its import was built above)."""
    from pipeline.lean.install import ONE_SHOT_V8_FLAGS, embedded_command, load_install
    from pipeline.lean.process import LeanProcess

    install = load_install(settings)
    cases = {"small check": ("Check.lean", SMALL.format(i=123)),
             "Formal/SGD.lean": ("Formal/SGD.lean", (settings.formal_path / "SGD.lean").read_text(encoding="utf-8"))}
    variants = {"V8 default tiers": False, f"{' '.join(ONE_SHOT_V8_FLAGS)} (default)": True}
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(runs):
        for case, (name, text) in cases.items():
            for label, flags in variants.items():
                workdir = Path(tempfile.mkdtemp(prefix="sequent-bench-tiers-"))
                (workdir / name).parent.mkdir(parents=True, exist_ok=True)
                (workdir / name).write_text(text, encoding="utf-8")
                cmd, env = embedded_command(install, workdir, settings.build_dir, threads=settings.lean_threads)
                if not flags:
                    cmd = [c for c in cmd if c not in ONE_SHOT_V8_FLAGS]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                with LeanProcess([*cmd, "--json", "-o", "out.olean", name], workdir=workdir, env=env,
                                 warm=False, memory_mb=settings.lean_memory_mb) as proc:
                    raw = proc.start().run(None, 900)
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if raw.returncode != 0 or '"severity":"error"' in raw.stdout:
                    raise SystemExit(f"{case} ({label}) failed: {raw.stdout[-500:]} {raw.stderr[-500:]}")
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                figures.setdefault((case, label), []).append((wall, cpu))
                shutil.rmtree(workdir, ignore_errors=True)
    return [(f"one-shot compile, {case}, {label}, p50 of {len(runs_)}",
             f"{statistics.median(w for w, _ in runs_):6.2f} s wall, {statistics.median(c for _, c in runs_):6.2f} s CPU")
            for (case, label), runs_ in figures.items()]


if __name__ == "__main__":
    main()
