"""Evidence figures, side by side in one run: loading and checking a run of 10⁶ logged steps.

    .venv/bin/python benchmarks/bench_evidence.py [--steps 1000000]

Prints: writing the run, loading it (metrics.npz fast path, and metrics.jsonl only), running
every hypothesis and conclusion check without plots, and with their PNG plots. Target: all checks
together ≤ 2 s on 10⁶ steps.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.evidence.checks import all_checks
from pipeline.evidence.evaluate import Target, evaluate
from pipeline.evidence.models import Provenance, Run, Snapshot
from pipeline.evidence.runs import load_run, write_run
from pipeline.settings import cpu_count


def synthetic_run(steps: int) -> Run:
    rng = np.random.default_rng(0)
    t = np.arange(1, steps + 1, dtype=np.float64)
    g2 = rng.exponential(2.0, steps)
    queried = (rng.random(steps) < 2 / np.sqrt(t)).astype(np.float64)
    h = np.diag(np.linspace(0.5, 2.0, 1000))
    snaps = [Snapshot(step=i * steps // 50, params=(p := rng.normal(size=1000)), grad=h @ p,
                      grad_kind="full") for i in range(50)]
    return Run(
        id="bench", kind="bench", config={}, seed=0,
        metrics={"step": t, "loss": 1 / t, "lr": 0.5 / t, "grad_norm": np.sqrt(g2),
                 "grad_sq": g2, "queried": queried, "agree": 1 - queried,
                 "correct": np.where(queried == 0, (rng.random(steps) < 0.99), 1.0),
                 "failure": (rng.random(steps) < 0.05).astype(np.float64)},
        samples={"leaf_correct": (rng.random(10**5) < 0.98).astype(np.float64),
                 "honest_win": (rng.random(10**5) < 0.9).astype(np.float64),
                 "liar_win": (rng.random(10**5) < 0.02).astype(np.float64),
                 "certification": rng.normal(size=10**5), "deployment": rng.normal(size=10**5),
                 "calibration_scores": np.abs(rng.normal(size=10**5)),
                 "test_scores": np.abs(rng.normal(size=10**5)), "w_star": np.zeros(1000)},
        snapshots=tuple(snaps), provenance=Provenance(source="benchmark"))


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sequent-bench-evidence-"))
    try:
        run = synthetic_run(args.steps)
        start = time.perf_counter()
        write_run(run, work / "run")
        t_write = time.perf_counter() - start
        shutil.copytree(work / "run", work / "jsonl_only")
        (work / "jsonl_only" / "metrics.npz").unlink()
        t_npz, loaded = timed(lambda: load_run(work / "run"))
        t_jsonl, _ = timed(lambda: load_run(work / "jsonl_only"), repeat=1)
        claim_values = {"lam": 0.5, "G2": 3.0, "q": 0.5, "ε": 0.1, "α": 0.1, "δ": 0.05}
        targets = [Target(claim_id="bench", binder=name.rpartition(":")[2], check=name,
                          parameters={k: claim_values[k]
                                      for k in (*spec.parameters, *spec.optional_parameters)})
                   for name, spec in all_checks().items()]
        t_checks, verdicts = timed(lambda: evaluate(loaded, targets))
        t_plots, _ = timed(lambda: evaluate(loaded, targets, plot_dir=work / "plots"), repeat=1)
        outcomes = {v.binder: v.outcome for v in verdicts}
        print(f"machine: {platform.machine()}, {cpu_count()} cores, Python "
              f"{platform.python_version()}; run of {args.steps:,} steps, "
              f"{len(targets)} checks")
        rows = [("write run dir (jsonl + npz)", t_write),
                ("load run (metrics.npz fast path)", t_npz),
                ("load run (metrics.jsonl only)", t_jsonl),
                ("all checks, no plots", t_checks),
                ("all checks + PNG plots", t_plots),
                ("load (npz) + all checks", t_npz + t_checks)]
        for label, seconds in rows:
            print(f"  {label:<36} {seconds:8.3f} s")
        print("  outcomes: " + ", ".join(f"{k}={v}" for k, v in outcomes.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
