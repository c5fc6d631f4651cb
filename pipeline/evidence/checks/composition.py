"""Hypothesis of the prover–estimator composition: the estimator is within δ at every leaf."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, downsample, hypothesis_check, need
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, PlotData, PlotSeries, Run


@hypothesis_check(
    statistic="max over logged leaves of |estimate − exact|",
    needs="paired samples leaf_estimate and leaf_exact (one value per leaf); claim "
          "parameter δ",
    parameters=("δ",),
)
def leaf_error(run: Run, ctx: Context) -> CheckOutcome:
    """h_leaf_error as written: absDiff(estimate i, exact i) ≤ δ at every leaf the run logs."""
    delta = ctx.param("δ")
    est = need(run, "leaf_estimate", min_n=1)
    exact = need(run, "leaf_exact", min_n=1)
    if est.shape != exact.shape:
        raise NotApplicable(f"leaf_estimate has {est.shape[0]} values, leaf_exact "
                            f"{exact.shape[0]}: they must be paired by leaf")
    err = np.abs(est - exact)
    k = int(np.argmax(err))
    worst = float(err[k])
    ci = ConfidenceInterval(low=worst, high=worst, method="exact")
    outcome = stats.decide(ci, delta, "<=")
    over = int(np.sum(err > delta + stats.numeric_tolerance(delta)))
    why = (f"every one of the {err.shape[0]} logged leaves is within δ = {delta:g} (largest "
           f"error {worst:.4g})" if outcome == "holds" else
           f"{over} of {err.shape[0]} leaves are further than δ = {delta:g} from the exact "
           f"value (largest error {worst:.4g} at leaf {k})")
    x, y = downsample(np.arange(err.shape[0], dtype=float), err)
    return CheckOutcome(
        outcome=outcome, statistic="max |estimate − exact|", value=worst, threshold=delta,
        ci=ci, n=int(err.shape[0]), reason=why, details={"leaves_over": over},
        plot=PlotData(title="Leaf estimation error", xlabel="leaf", ylabel="|estimate − exact|",
                      hlines=(("δ", delta),),
                      series=(PlotSeries(label="leaves", x=x, y=y, style="scatter"),)),
    )


__all__ = ["leaf_error"]
