"""Tracking-hook overhead on a ~100k-parameter MLP step: one training loop, measured in short
blocks that alternate between no hook, the hook, and the hook with a snapshot every 500 steps.

    .venv/bin/python benchmarks/bench_tracking.py [--groups 120] [--block 64] [--threads 1]

Adjacent blocks of the same loop share the model, the optimiser, the allocator's state and the
machine's momentary load, so their ratio isolates the hook; the order within each group of three
blocks rotates, so a drift in speed does not favour one condition. The figure is the overhead of
the summed step times, with a 95 % bootstrap interval over groups (scipy.stats.bootstrap).
Flushes to ``metrics.jsonl`` happen inside the hooked blocks and are counted; opening and closing
a run are one-off costs, printed separately.

Target: ≤ 5 % per step (hook without snapshots).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from pipeline.settings import cpu_count
from pipeline.tracking import Tracker

CONDITIONS = ("none", "hook", "hook+snapshot/500")


def make() -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    return model, opt, torch.randn(128, 64), torch.randn(128, 64)


def block(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
          steps: int, track: Tracker | None) -> float:
    """Seconds per step over ``steps`` training steps."""
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        if track is not None:
            track.step(loss)
        opt.step()
    return (time.perf_counter() - start) / steps


def overhead(base: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """Overhead of summed step times in %, with a 95 % paired bootstrap interval over groups."""
    def ratio(b: np.ndarray, o: np.ndarray, axis: int = -1) -> np.ndarray:
        return 100 * (o.sum(axis=axis) / b.sum(axis=axis) - 1)

    ci = stats.bootstrap((base, other), ratio, paired=True, vectorized=True,
                         confidence_level=0.95, n_resamples=5000,
                         rng=np.random.default_rng(0)).confidence_interval
    return float(ratio(base, other)), float(ci.low), float(ci.high)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=120)
    parser.add_argument("--block", type=int, default=64, help="steps per block")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="sequent-bench-tracking-"))
    model, opt, x, y = make()
    params = sum(p.numel() for p in model.parameters())
    times: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    try:
        t0 = time.perf_counter()
        trackers = {"none": None, "hook": Tracker(work / "hook", model, opt),
                    "hook+snapshot/500": Tracker(work / "snap", model, opt, snapshot_every=500)}
        opened = (time.perf_counter() - t0) / 2
        block(model, opt, x, y, 200, None)  # warm-up
        for g in range(args.groups):
            order = CONDITIONS[g % 3:] + CONDITIONS[:g % 3]
            for cond in order if g % 2 == 0 else order[::-1]:
                times[cond].append(block(model, opt, x, y, args.block, trackers[cond]))
        t0 = time.perf_counter()
        for track in trackers.values():
            if track is not None:
                track.close()
        closed = (time.perf_counter() - t0) / 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {platform.machine()}, {cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); MLP of {params:,} parameters, batch 128, SGD")
    print(f"{args.groups} groups x 3 alternating blocks of {args.block} steps "
          f"({args.groups * args.block} hooked steps per condition)")
    base = np.asarray(times["none"])
    print(f"  step without hook       median {statistics.median(base) * 1e6:7.1f} us")
    for cond in CONDITIONS[1:]:
        other = np.asarray(times[cond])
        pct, low, high = overhead(base, other)
        print(f"  step with {cond:<17} median {statistics.median(other) * 1e6:7.1f} us   "
              f"overhead {pct:+.1f} % (95 % CI {low:+.1f} to {high:+.1f} %)")
    print(f"  one-off: open a run {opened * 1e3:.1f} ms, close it {closed * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
