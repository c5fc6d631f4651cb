"""Lean engine figures, measured side by side in one run (embedded backend).

    .venv/bin/python benchmarks/bench_lean.py [--warm-runs 6]

Prints: cold check, warm-pool check (p50/max), cache hit (p50), full Formal/ build (cold,
then no-op incremental), and peak resident memory per Lean process.
"""

from __future__ import annotations

import argparse
import platform
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm-runs", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sequent-bench-"))
    for name in ("Formal", "Formal.lean", "lakefile.lean"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, work / name)
        elif src.exists():
            shutil.copy2(src, work / name)
    base = Settings.load(REPO)
    settings = Settings.load(work, lean_home=base.lean_dir, state_dir=work / ".sequent")
    rows: list[tuple[str, str]] = []
    # cold: a fresh process per check, start-up included
    with Checker(settings, warm=False) as cold:
        t = time.perf_counter()
        r = cold.check(CheckRequest(source=SMALL.format(i=0)))
        rows.append(("cold check (fresh process)", f"{time.perf_counter() - t:6.2f} s  ({r.verdict.value})"))

    with Checker(settings) as checker:
        pool_size = checker.backend.pool_stats().get("size", 1)  # type: ignore[attr-defined]
        # let the pool finish starting, as a long-running service would have
        deadline = time.time() + 240
        while checker.backend.pool_stats()["free"] < pool_size and time.time() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.5)
        def warm_checks(first: int, ready_needed: int) -> list[float]:
            times: list[float] = []
            for i in range(first, first + args.warm_runs):
                # wait for `ready_needed` ready workers, so each figure is a warm check
                while checker.backend.pool_stats()["free"] < ready_needed:  # type: ignore[attr-defined]
                    time.sleep(0.2)
                t = time.perf_counter()
                res = checker.check(CheckRequest(source=SMALL.format(i=i)))
                times.append(time.perf_counter() - t)
                assert res.accepted, res.diagnostics()
            return times

        # idle pool: no replacement is starting beside the check (a service between bursts)
        idle = warm_checks(1, pool_size)
        rows.append((f"warm-pool check, idle pool, p50 of {len(idle)}",
                     f"{statistics.median(idle):6.2f} s  (max {max(idle):.2f} s, pool {pool_size})"))
        # back to back: the replacement of the last leased worker starts beside the check
        busy = warm_checks(1 + args.warm_runs, 1)
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

    print(f"# Lean engine benchmark — {time.strftime('%Y-%m-%d')} — {platform.node()}, "
          f"{cpu_count()} cores, {platform.machine()}")
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
