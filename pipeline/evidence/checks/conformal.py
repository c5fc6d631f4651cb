"""Hypothesis of split conformal prediction: calibration and test scores are exchangeable."""

from __future__ import annotations

import math

import numpy as np

from pipeline.errors import EvidenceError
from pipeline.evidence import stats
from pipeline.evidence.checks import Context, Setting, downsample, hypothesis_check, need
from pipeline.evidence.checks.certificate import TWO_SAMPLE_SETTINGS, two_sample
from pipeline.evidence.checks.proportion import MARGIN, rate_outcome
from pipeline.evidence.models import CheckOutcome, PlotData, PlotSeries, Run


@hypothesis_check(statistic="KS distance calibration vs test, and Spearman trend of test scores",
                  needs="samples calibration_scores and test_scores (test in time order)",
                  settings={**TWO_SAMPLE_SETTINGS, "trend_tolerance": Setting(0.1, 0.0, 1.0)},
                  kind="proxy",
                  not_covered="exchangeability of the whole sequence; the check sees a "
                              "distribution shift and a monotone trend, not every permutation "
                              "asymmetry")
def exchangeability(run: Run, ctx: Context) -> CheckOutcome:
    """Calibration and test nonconformity scores are exchangeable (no shift, no drift)."""
    ks = two_sample(run, ctx, ("calibration_scores",), ("test_scores",),
                    what="calibration vs test scores", statistic="KS distance")
    test = need(run, "test_scores", min_n=20)
    rho, p, ci = stats.spearman_trend(test)
    tol = ctx.setting("trend_tolerance")
    alpha = ctx.setting("significance")
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
    if ks.plot is None:
        raise EvidenceError("the exchangeability test returned no plot")
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


@hypothesis_check(statistic="empirical coverage of the split-conformal interval against 1 − α",
                  needs="samples calibration_scores and test_scores; claim parameter α",
                  parameters=("α",), settings={"detectable_margin": MARGIN})
def coverage(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of split conformal prediction: test points are covered with probability
    ≥ 1 − α, the interval's quantile being the ⌈(1 − α)(n + 1)⌉-th calibration score."""
    alpha = ctx.param("α")
    cal = np.sort(need(run, "calibration_scores", min_n=20))
    test = need(run, "test_scores", min_n=20)
    n = cal.shape[0]
    k = math.ceil((1 - alpha) * (n + 1))
    if not 1 <= k <= n:
        return CheckOutcome(outcome="inconclusive", statistic="coverage", n=int(test.shape[0]),
                            reason=f"with α = {alpha:g} and {n} calibration scores the quantile "
                                   f"index {k} is outside 1..{n} (the interval is unbounded)")
    q_hat = float(cal[k - 1])
    covered = (test <= q_hat).astype(float)
    return rate_outcome(covered, statistic="coverage", threshold=1 - alpha,
                        direction="at_least", margin=ctx.setting("detectable_margin"),
                        meaning=f"test scores within the conformal quantile {q_hat:.4g}")


__all__ = ["coverage", "exchangeability"]
