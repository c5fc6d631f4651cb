"""Snapshot cost on a model of 10⁷ parameters: the full snapshot against a CountSketch and a
coordinate subset (``Tracker(snapshot_projection=Projection(...))``).

    .venv/bin/python benchmarks/bench_snapshots.py [--params 10000000] [--dim 4096] [--reps 3]

Each mode runs in a fresh subprocess: it builds the model (three square linear layers), fills
the gradients, opens a Tracker and takes ``reps`` snapshots. Reported per mode: seconds per
snapshot (median), the peak resident memory above the process's peak before the first
snapshot (``ru_maxrss``: model, gradients and interpreter already counted), and the bytes one
snapshot takes on disk.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("full", "sketch", "subset")


def child(mode: str, params: int, dim: int, reps: int) -> dict[str, float]:
    import torch

    from pipeline.tracking import Projection, Tracker

    torch.set_num_threads(1)
    width = int(math.sqrt(params / 3))
    model = torch.nn.Sequential(*(torch.nn.Linear(width, width, bias=False) for _ in range(3)))
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    count = sum(p.numel() for p in model.parameters())
    projection = None if mode == "full" else Projection(kind=mode, dim=dim, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        track = Tracker(Path(tmp) / "run", model, snapshot_projection=projection)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            track.snapshot()
            times.append(time.perf_counter() - start)
            track._step += 1
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = sum(f.stat().st_size for f in (Path(tmp) / "run" / "snapshots").iterdir()) / reps
        track.close()
    return {"parameters": count, "seconds": statistics.median(times),
            "peak_mib": (after - before) / 1024, "disk_mib": size / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", type=int, default=10_000_000)
    ap.add_argument("--dim", type=int, default=4096)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--child", choices=MODES)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.params, args.dim, args.reps)))
        return
    print("| snapshot | parameters | seconds / snapshot | peak memory above the model (MiB) "
          "| on disk (MiB) |\n| --- | --- | --- | --- | --- |")
    for mode in MODES:
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--params",
                              str(args.params), "--dim", str(args.dim), "--reps",
                              str(args.reps)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        label = mode if mode == "full" else f"{mode}, dim {args.dim}"
        print(f"| {label} | {r['parameters']:,} | {r['seconds']:.3f} | {r['peak_mib']:.0f} | "
              f"{r['disk_mib']:.3f} |")


if __name__ == "__main__":
    main()
