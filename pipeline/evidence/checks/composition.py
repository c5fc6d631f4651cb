"""Hypothesis of the prover–estimator composition: the estimator is within δ at every leaf."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, hypothesis_check, need, series_plot
from pipeline.evidence.checks.proportion import forall_outcome, zero_count_bound
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, FloatArray, Run


@hypothesis_check(
    statistic="max over logged leaves of |estimate − exact|",
    needs="paired samples leaf_estimate and leaf_exact (one value per leaf); claim "
          "parameter δ",
    parameters=("δ",),
)
def leaf_error(run: Run, ctx: Context) -> CheckOutcome:
    """h_leaf_error as written: absDiff(estimate i, exact i) ≤ δ at every leaf the run logs."""
    delta = ctx.param("δ")
    err = _paired_errors(run, "leaf", "leaf")
    k = int(np.argmax(err))
    worst = float(err[k])
    ci = ConfidenceInterval(low=worst, high=worst, method="exact")
    outcome = stats.decide(ci, delta, "<=")
    over = int(np.sum(err > delta + stats.numeric_tolerance(delta)))
    why = (f"every one of the {err.shape[0]} logged leaves is within δ = {delta:g} (largest "
           f"error {worst:.4g})" if outcome == "holds" else
           f"{over} of {err.shape[0]} leaves are further than δ = {delta:g} from the exact "
           f"value (largest error {worst:.4g} at leaf {k})")
    out = CheckOutcome(
        outcome=outcome, statistic="max |estimate − exact|", value=worst, threshold=delta,
        ci=ci, n=int(err.shape[0]), reason=why, details={"leaves_over": over},
        plot=series_plot(np.arange(err.shape[0], dtype=float), err, label="leaves",
                         style="scatter", title="Leaf estimation error", xlabel="leaf",
                         ylabel="|estimate − exact|", hlines=(("δ", delta),)),
    )
    if outcome != "holds":
        return out
    bound = zero_count_bound(int(err.shape[0]))
    return out.model_copy(update={
        "kind": "proxy",
        "not_covered": f"h_leaf_error is about every leaf of the argument; the run shows the "
                       f"{err.shape[0]} leaves it logged, not leaves it did not log (95 % "
                       f"bound on the rate of leaves beyond δ: {bound:.3g})"})


@hypothesis_check(
    statistic="arguments whose root estimate is further than δ from the exact root value",
    needs="paired samples root_estimate and root_exact (one per argument); claim parameter δ",
    parameters=("δ",),
)
def root_error(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of prover_estimator_composition: absDiff(c.eval estimate, c.eval exact) ≤ δ
    for every logged argument; one beyond δ is a counterexample."""
    delta = ctx.param("δ")
    err = _paired_errors(run, "root", "argument")
    out = forall_outcome((err > delta + stats.numeric_tolerance(delta)).astype(float),
                         statistic="arguments with root error beyond δ", items="arguments",
                         what=f"have a root error beyond δ = {delta:g}",
                         not_seen="the conclusion holds for every argument; the run shows the "
                                  "arguments it logged")
    return out.model_copy(update={
        "value": float(err.max()), "threshold": delta,
        "details": {**out.details, "largest_root_error": float(err.max())},
        "plot": series_plot(np.arange(err.shape[0], dtype=float), err, label="arguments",
                            style="scatter", title="Root estimation error", xlabel="argument",
                            ylabel="|estimate − exact| at the root", hlines=(("δ", delta),))})


def _paired_errors(run: Run, prefix: str, unit: str) -> FloatArray:
    """|estimate − exact| per ``unit`` from the samples ``<prefix>_estimate`` and
    ``<prefix>_exact``, which must be paired."""
    est = need(run, f"{prefix}_estimate", min_n=1)
    exact = need(run, f"{prefix}_exact", min_n=1)
    if est.shape != exact.shape:
        raise NotApplicable(f"{prefix}_estimate has {est.shape[0]} values, {prefix}_exact "
                            f"{exact.shape[0]}: they must be paired by {unit}")
    err: FloatArray = np.abs(est - exact)
    return err


__all__ = ["leaf_error", "root_error"]
