"""False-"holds" and false-"fails" rates of every check at its near-threshold controls.

    .venv/bin/python benchmarks/bench_false_rates.py [--seeds 100]

For each check in ``experiments.near_threshold.NEAR``: the positive control (just inside the
claim's threshold) and the negative control (just outside: the right shape with the wrong
constant) over ``--seeds`` seeds. A false "holds" is a negative control that holds; a false
"fails" a positive one that fails. Target: false "holds" ≤ 5 % at the claim's threshold.
The default is 100 seeds: a negative control placed exactly at the boundary (queries growing
exactly linearly) has a design false-"holds" rate of 2.5 %, which 20 seeds cannot tell from
10 % (2 of 20).
Prints one row per check and exits 1 when a check misses the target.
"""

from __future__ import annotations

import argparse
import sys
import time

from experiments.near_threshold import NEAR
from pipeline.evidence.evaluate import run_check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    if args.seeds < 1:
        raise SystemExit("--seeds must be at least 1")
    start = time.perf_counter()
    missed = []
    print(f"{'check':<36} {'false holds':>11} {'false fails':>11} {'pos holds':>9} "
          f"{'neg fails':>9}  setting")
    for name, pair in NEAR.items():
        counts = {"false_holds": 0, "false_fails": 0, "pos_holds": 0, "neg_fails": 0}
        for seed in range(args.seeds):
            run, bound = pair.positive(seed)
            pos = run_check(name, run, bound).outcome
            run, bound = pair.negative(seed)
            neg = run_check(name, run, bound).outcome
            counts["false_fails"] += pos == "fails"
            counts["pos_holds"] += pos == "holds"
            counts["false_holds"] += neg == "holds"
            counts["neg_fails"] += neg == "fails"
        fh = counts["false_holds"] / args.seeds
        ff = counts["false_fails"] / args.seeds
        ph = counts["pos_holds"] / args.seeds
        nf = counts["neg_fails"] / args.seeds
        if fh > 0.05:
            missed.append(name)
        print(f"{name.removeprefix('pipeline.evidence.checks.'):<36} {fh:>11.0%} {ff:>11.0%} "
              f"{ph:>9.0%} {nf:>9.0%}  {pair.what}")
    print(f"{args.seeds} seeds per control, {time.perf_counter() - start:.1f} s")
    if missed:
        print("above the 5 % false-holds target: " + ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
