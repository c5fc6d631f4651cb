"""Tracking-hook overhead on a ~100k-parameter MLP step, with and without the hook,
interleaved in one run.

    .venv/bin/python benchmarks/bench_tracking.py [--steps 1500] [--rounds 5]

Target: ≤ 5 % per step (hook without snapshots); also shown with a snapshot every 500 steps.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from pipeline.settings import cpu_count
from pipeline.tracking import Tracker


def make() -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 64))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    return model, opt, torch.randn(128, 64), torch.randn(128, 64)


def loop(steps: int, run_dir: Path | None, snapshot_every: int = 0) -> float:
    model, opt, x, y = make()
    track = Tracker(run_dir, model, opt, snapshot_every=snapshot_every) if run_dir else None
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        if track is not None:
            track.step(loss)
        opt.step()
    if track is not None:
        track.close()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="sequent-bench-tracking-"))
    params = sum(p.numel() for p in make()[0].parameters())
    base, hook, snap = [], [], []
    try:
        loop(200, None)
        for r in range(args.rounds):
            base.append(loop(args.steps, None))
            hook.append(loop(args.steps, work / f"hook{r}"))
            snap.append(loop(args.steps, work / f"snap{r}", snapshot_every=500))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"machine: {platform.machine()}, {cpu_count()} cores, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); MLP of {params:,} parameters, batch 128, "
          f"{args.steps} steps x {args.rounds} interleaved rounds")
    for label, pick in (("min", min), ("median", statistics.median)):
        b, h, s = (pick(v) * 1e6 for v in (base, hook, snap))
        print(f"  [{label}] step without hook        {b:8.1f} us")
        print(f"  [{label}] step with hook           {h:8.1f} us   overhead "
              f"{100 * (h - b) / b:+.1f} %")
        print(f"  [{label}] hook + snapshot/500      {s:8.1f} us   overhead "
              f"{100 * (s - b) / b:+.1f} %")


if __name__ == "__main__":
    main()
