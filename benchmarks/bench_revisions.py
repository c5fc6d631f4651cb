"""The warm-pool check of two revisions of the engine, interleaved, with the statistics of the
difference: the way to say whether an engine change made a figure worse.

    .venv/bin/python benchmarks/bench_revisions.py --base REV [--rounds 5] [--warm-runs 6]

``--base`` is checked out in a temporary git worktree; the head is this working tree. Each
round runs both, in alternating order (head first in odd rounds, base first in even ones, so
that a drift of the machine's speed falls on both alike), each in its own Python process with
``PYTHONPATH`` on its revision and the same embedded Lean. One run is ``bench_lean``'s
warm-pool figures: a server's pre-started pool, then ``--warm-runs`` checks with the whole pool
idle before each (``idle``) and ``--warm-runs`` checks with one ready worker before each (``back
to back``).

Prints, per figure, each run's median, the pooled medians, the difference head − base with a
95 % bootstrap interval (10,000 resamples of the pooled checks) and the Mann–Whitney U p-value.
Runs of one revision one after the other differ by up to ~10 % on the 2-core machine: a single
run of each is no comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = (("idle", "warm-pool check, idle pool"), ("busy", "warm-pool check, back to back"))


def measure(repo: Path, lean_home: Path, warm_runs: int) -> dict[str, list[float]]:
    """One run in this process, of the revision ``pipeline`` is imported from (``repo``):
    ``bench_lean``'s warm-pool checks, idle then back to back."""
    from bench_lean import (  # imports that revision's pipeline
        copy_library,
        ready_workers,
        warm_checks,
    )

    from pipeline.lean.checker import Checker
    from pipeline.settings import Settings

    work = copy_library(repo)
    try:
        settings = Settings.load(work, lean_home=lean_home, state_dir=work / ".sequent")
        with Checker(settings, prestart=True) as checker:
            size = int(checker.backend.pool_stats().get("size", 1))  # type: ignore[attr-defined]
            deadline = time.monotonic() + 240
            while ready_workers(checker) < size and time.monotonic() < deadline:
                time.sleep(0.5)
            return {"idle": warm_checks(checker, 1, warm_runs, size),
                    "busy": warm_checks(checker, 1 + warm_runs, warm_runs, 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_side(repo: Path, lean_home: Path, warm_runs: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", str(repo),
         "--lean-home", str(lean_home), "--warm-runs", str(warm_runs)],
        cwd=repo, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the run of {repo} failed:\n{proc.stderr[-4000:]}")
    times: dict[str, list[float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return times


def compare(base: list[float], head: list[float]) -> str:
    import numpy as np
    from scipy import stats

    rng = np.random.default_rng(0)
    b, h = np.array(base), np.array(head)
    diffs = [np.median(rng.choice(h, h.size)) - np.median(rng.choice(b, b.size)) for _ in range(10_000)]
    low, high = np.percentile(diffs, [2.5, 97.5])
    diff = statistics.median(head) - statistics.median(base)
    p = stats.mannwhitneyu(head, base).pvalue
    return (f"head − base {diff:+.2f} s ({100 * diff / statistics.median(base):+.1f} %), "
            f"95 % CI [{low:+.2f}, {high:+.2f}] s, Mann–Whitney p = {p:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", help="the revision to compare the working tree with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warm-runs", type=int, default=6)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--lean-home", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.lean_home, args.warm_runs)))
        return
    if not args.base:
        ap.error("--base REV is required")
    lean_home = Path(os.environ.get("SEQUENT_LEAN_HOME", REPO / ".sequent" / "lean")).resolve()
    worktree = Path(tempfile.mkdtemp(prefix="sequent-base-")) / "base"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), args.base],
                   cwd=REPO, check=True)
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, load {os.getloadavg()}; "
          f"base {args.base}, head: the working tree; {args.rounds} rounds", flush=True)
    runs: dict[str, list[dict[str, list[float]]]] = {"base": [], "head": []}
    try:
        for r in range(args.rounds):
            order = ("head", "base") if r % 2 == 0 else ("base", "head")
            for side in order:
                out = run_side(REPO if side == "head" else worktree, lean_home, args.warm_runs)
                runs[side].append(out)
                print(json.dumps({"round": r + 1, "side": side, **out}), flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, check=False)
    for mode, label in MODES:
        pooled = {side: [t for run in runs[side] for t in run[mode]] for side in runs}
        per_run = {side: ", ".join(f"{statistics.median(run[mode]):.2f}" for run in runs[side]) for side in runs}
        print(f"{label}: base runs' p50 {per_run['base']} s (pooled {statistics.median(pooled['base']):.2f} s); "
              f"head {per_run['head']} s (pooled {statistics.median(pooled['head']):.2f} s); "
              f"{compare(pooled['base'], pooled['head'])}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
