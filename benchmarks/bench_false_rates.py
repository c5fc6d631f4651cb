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

A second table (``--own-seeds``, default 100) runs ``experiments.binding_controls.OWN_BINDING``:
negatives **under each claim's own parameter binding** (sgd_chung: G² = 4 a claim constant or
held out on calibration seeds, λ exact from the logged lr), where the hypothesis is false at
every admissible parameter value or at the bound value, at the threshold and on dependent
data, through the evaluation path of ``sequent hypotheses check``; its positives give the
false-"fails" rate. Target: false "holds" ≤ 5 %.

A third table (``--alarm-seeds``, default 200) runs ``experiments.valid_runs.VALID``: for
every conclusion check, valid runs drawn in the conclusion's own probability space at the
worst case its guarantee allows; a "fails" there is a false soundness alarm (target ≤ 5 %).
``--conformal-runs`` (default 100) also runs the project's own conformal experiment (quick,
seeds 0…) through conformal_coverage's hypotheses and conclusion and counts the alarms.
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
    parser.add_argument("--own-seeds", type=int, default=100,
                        help="seeds per control of the own-binding table (0: skip it)")
    parser.add_argument("--alarm-seeds", type=int, default=200,
                        help="valid runs per conclusion check (0: skip the alarm table)")
    parser.add_argument("--conformal-runs", type=int, default=100,
                        help="runs of the real conformal experiment for its alarm rate")
    parser.add_argument("--llc-seeds", type=int, default=10,
                        help="seeds per real-SGLD control of llc:regularity (≈ 20 s each on "
                             "one core; 0: skip them)")
    args = parser.parse_args()
    if args.seeds < 1 or args.own_seeds < 0 or args.llc_seeds < 0:
        raise SystemExit("--seeds must be at least 1, --own-seeds and --llc-seeds at least 0")
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
    if args.own_seeds:
        missed += own_binding(args.own_seeds)
    if args.alarm_seeds:
        missed += false_alarms(args.alarm_seeds, args.conformal_runs)
    if args.llc_seeds:
        missed += llc_sgld(args.llc_seeds)
    if missed:
        print("above the 5 % false-holds target: " + ", ".join(missed))
        sys.exit(1)


def false_alarms(seeds: int, conformal_runs: int) -> list[str]:
    """Every conclusion check on valid runs (its hypotheses hold by construction): the rate
    of "fails", i.e. of false soundness alarms; and the alarm rate of conformal_coverage on
    the project's own conformal experiment, through the claim's own targets."""
    import tempfile
    from pathlib import Path

    from experiments import REFERENCE
    from experiments.valid_runs import VALID
    from pipeline.claims.registry import load_registry
    from pipeline.evidence.evaluate import application, evaluate, targets_of
    from pipeline.evidence.runs import load_run
    from pipeline.settings import Settings

    start = time.perf_counter()
    missed = []
    print(f"\nconclusion checks on valid runs (a fails is a false soundness alarm)\n"
          f"{'check':<30} {'claim':<30} {'fails':>6} {'holds':>6} {'incon.':>6}  valid run")
    for check, row in VALID.items():
        counts = {"holds": 0, "fails": 0, "inconclusive": 0, "error": 0}
        for seed in range(seeds):
            run, bound = row.make(seed)
            counts[run_check(check, run, bound).outcome] += 1
        rate = {k: v / seeds for k, v in counts.items()}
        if rate["fails"] > 0.05 or counts["error"]:
            missed.append(f"{check} (false alarms {rate['fails']:.0%}, {counts['error']} errors)")
        print(f"{check.removeprefix('pipeline.evidence.checks.'):<30} {row.claim_id:<30} "
              f"{rate['fails']:>6.1%} {rate['holds']:>6.0%} {rate['inconclusive']:>6.0%}  "
              f"{row.what}")
    print(f"{seeds} valid runs per check, {time.perf_counter() - start:.1f} s")
    if conformal_runs:
        start = time.perf_counter()
        registry = load_registry(Settings.load(Path(__file__).resolve().parents[1]))
        targets = targets_of(registry, "conformal_coverage")
        alarms = applies = 0
        for seed in range(conformal_runs):
            with tempfile.TemporaryDirectory() as tmp:
                run = load_run(REFERENCE["conformal"](Path(tmp) / "r", seed, True))
            result = application(True, evaluate(run, targets), ["h_exchangeable"],
                                 conclusions=["coverage"])
            alarms += bool(result.alarms)
            applies += result.applies
        if alarms / conformal_runs > 0.05:
            missed.append(f"conformal experiment ({alarms} alarms in {conformal_runs})")
        print(f"conformal experiment (quick, seeds 0–{conformal_runs - 1}), conformal_coverage's "
              f"own targets: soundness alarm on {alarms}/{conformal_runs} = "
              f"{alarms / conformal_runs:.1%}, applies on {applies}/{conformal_runs}; "
              f"{time.perf_counter() - start:.1f} s")
    return missed


def llc_sgld(seeds: int) -> list[str]:
    """llc:regularity on real SGLD runs under bic_regular's own δ (read from the claim): the
    negative λ = 0.9·d/2 (``singular_90``) and the positive inside the tolerance
    (``near_regular``, d/2 − λ = 1/4 < δ), ``llc_regression`` at quick settings per seed."""
    import tempfile
    from pathlib import Path

    from experiments.llc_validation import llc_regression
    from pipeline.claims.registry import load_registry
    from pipeline.evidence.checks import Bound
    from pipeline.evidence.runs import load_run
    from pipeline.settings import Settings

    root = Path(__file__).resolve().parents[1]
    delta = load_registry(Settings.load(root)).get("bic_regular").parameters["δ"]
    assert isinstance(delta, float | int)
    bound = Bound(parameters={"δ": float(delta)})
    start = time.perf_counter()
    print(f"\nllc:regularity, real SGLD (n = 10⁴, 16 chains × 3000 draws), claim's δ = {delta}")
    missed = []
    for variant, what, expected in (("singular_90", "λ = 0.9·d/2 (d = 10)", "not holds"),
                                     ("near_regular", "λ = d/2 − 1/4 (d = 9)", "holds")):
        counts = {"holds": 0, "fails": 0, "inconclusive": 0, "error": 0}
        for seed in range(seeds):
            with tempfile.TemporaryDirectory() as tmp:
                run = load_run(llc_regression(Path(tmp) / "r", seed=seed, quick=True,
                                              variant=variant))
            counts[run_check(CHECK_LLC, run, bound).outcome] += 1
        rate = {k: v / seeds for k, v in counts.items()}
        if expected == "not holds" and rate["holds"] > 0.05:
            missed.append(f"llc:regularity ({what})")
        print(f"{'llc:regularity':<28} {'δ = ' + str(delta) + ' (claim)':<20} "
              f"{rate['holds']:>6.0%} {rate['fails']:>6.0%} {rate['inconclusive']:>6.0%}  "
              f"{'' if expected == 'not holds' else '[must hold] '}{what}")
    print(f"{seeds} seeds per control, {time.perf_counter() - start:.1f} s")
    return missed


CHECK_LLC = "pipeline.evidence.checks.llc:regularity"


def own_binding(seeds: int) -> list[str]:
    """The own-binding table; returns the negatives above the 5 % false-"holds" target."""
    from experiments.binding_controls import OWN_BINDING
    from pipeline.evidence.evaluate import evaluate

    start = time.perf_counter()
    missed = []
    print(f"\nunder the claim's own binding\n{'check':<28} {'binding':<20} {'holds':>6} "
          f"{'fails':>6} {'incon.':>6}  control")
    for row in OWN_BINDING:
        counts = {"holds": 0, "fails": 0, "inconclusive": 0, "error": 0}
        for seed in range(seeds):
            run, target = row.make(seed)
            (verdict,) = evaluate(run, [target])
            counts[verdict.outcome] += 1
        rate = {k: v / seeds for k, v in counts.items()}
        if row.expected == "not holds" and rate["holds"] > 0.05:
            missed.append(f"{row.check} ({row.what})")
        if counts["error"]:
            missed.append(f"{row.check} ({row.what}): {counts['error']} errors")
        print(f"{row.check.removeprefix('pipeline.evidence.checks.'):<28} {row.binding:<20} "
              f"{rate['holds']:>6.0%} {rate['fails']:>6.0%} {rate['inconclusive']:>6.0%}  "
              f"{'' if row.expected == 'not holds' else '[must hold] '}{row.what}")
    print(f"{seeds} seeds per control, {time.perf_counter() - start:.1f} s")
    return missed


if __name__ == "__main__":
    main()
