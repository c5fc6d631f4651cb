"""Hypothesis of split conformal prediction: calibration and test scores are exchangeable."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import downsample, hypothesis_check, need, setting
from pipeline.evidence.checks.certificate import two_sample
from pipeline.evidence.models import CheckOutcome, PlotData, PlotSeries, Run


@hypothesis_check(statistic="KS distance calibration vs test, and Spearman trend of test scores",
                  needs="samples calibration_scores and test_scores (test in time order)")
def exchangeability(run: Run) -> CheckOutcome:
    """Calibration and test nonconformity scores are exchangeable (no shift, no drift)."""
    ks = two_sample(run, ("calibration_scores",), ("test_scores",),
                    what="calibration vs test scores", statistic="KS distance")
    test = need(run, "test_scores", min_n=20)
    rho, p, ci = stats.spearman_trend(test)
    tol = setting(run, "trend_tolerance", 0.1, low=0.0, high=1.0) or 0.0
    alpha = setting(run, "significance", 0.01, low=1e-12, high=0.5) or 0.01
    trend = "fails" if stats.significant(p, alpha) else "holds" if stats.within(ci, -tol, tol) else "inconclusive"
    if "fails" in (ks.outcome, trend):
        outcome = "fails"
    elif ks.outcome == trend == "holds":
        outcome = "holds"
    else:
        outcome = "inconclusive"
    trend_txt = (f"test-score trend: Spearman ρ = {rho:.3f} (CI [{ci.low:.3f}, {ci.high:.3f}], "
                 f"p = {p:.2g})")
    xs, ys = downsample(np.arange(test.shape[0], dtype=float), test)
    assert ks.plot is not None
    plot = PlotData(title="Test scores in time order", xlabel="test index",
                    ylabel="nonconformity score",
                    series=(PlotSeries(label="test score", x=xs, y=ys, style="scatter"),))
    return ks.model_copy(update={
        "outcome": outcome,
        "reason": f"{ks.reason}; {trend_txt}",
        "details": {**ks.details, "spearman_rho": rho, "spearman_p": p,
                    "trend_outcome": trend, "ks_outcome": ks.outcome},
        "plot": plot if trend == "fails" and ks.outcome != "fails" else ks.plot,
    })


__all__ = ["exchangeability"]
