"""Hypotheses of the zero-failure certificate: independent failures and deployment data
drawn from the certification distribution."""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import NotApplicable, downsample, hypothesis_check, need, setting
from pipeline.evidence.models import CheckOutcome, PlotData, PlotSeries, Run

MAX_LAG = 10


@hypothesis_check(statistic="lag-1 autocorrelation of failures (+ Ljung–Box, lags 1–10)",
                  needs="0/1 failure sequence in time order (failure); optional tolerance "
                        "autocorrelation_tolerance (0.1)")
def failure_independence(run: Run) -> CheckOutcome:
    """Failures are independent across episodes (no autocorrelation, no bursts)."""
    fail = need(run, "failure", "failures", binary=True, min_n=100)
    n, k = int(fail.shape[0]), int(fail.sum())
    if min(k, n - k) < 5:
        raise NotApplicable(f"{k} failures in {n} episodes: too few of one kind to test "
                            "independence (need ≥ 5 failures and ≥ 5 successes)")
    r = stats.autocorrelations(fail, MAX_LAG)
    q, p = stats.ljung_box(fail, MAX_LAG)
    ci = stats.z_interval(float(r[0]), 1 / math.sqrt(n), method="normal (Bartlett)")
    tol = setting(run, "autocorrelation_tolerance", 0.1, low=0.0, high=1.0) or 0.0
    alpha = setting(run, "significance", 0.01, low=1e-12, high=0.5) or 0.01
    if stats.significant(p, alpha):
        outcome, why = "fails", f"failures are serially dependent (Ljung–Box p = {p:.2g})"
    elif stats.within(ci, -tol, tol):
        outcome, why = "holds", (f"no dependence: |lag-1 autocorrelation| < {tol:g} and "
                                 f"Ljung–Box p = {p:.2g}")
    else:
        outcome, why = "inconclusive", "too few episodes to bound the autocorrelation"
    return CheckOutcome(
        outcome=outcome, statistic="lag-1 autocorrelation", value=float(r[0]), threshold=tol,
        ci=ci, n=n, reason=f"{why}; {k} failures in {n} episodes",
        details={"ljung_box_q": q, "ljung_box_p": p, "failure_rate": k / n},
        plot=PlotData(title="Autocorrelation of failures", xlabel="lag", ylabel="r_k",
                      hlines=((f"+{tol:g}", tol), (f"-{tol:g}", -tol)),
                      series=(PlotSeries(label="r_k", x=tuple(range(1, MAX_LAG + 1)),
                                         y=tuple(float(v) for v in r), style="scatter"),)),
    )


def two_sample(run: Run, a_names: tuple[str, ...], b_names: tuple[str, ...], *, what: str,
               statistic: str) -> CheckOutcome:
    """KS distance with a DKW interval: holds if ≤ tolerance, fails if the KS test rejects."""
    a = need(run, *a_names, min_n=20)
    b = need(run, *b_names, min_n=20)
    d, p, ci = stats.ks_distance_ci(a, b)
    tol = setting(run, "distribution_tolerance", 0.1, low=0.0, high=1.0) or 0.0
    alpha = setting(run, "significance", 0.01, low=1e-12, high=0.5) or 0.01
    if stats.significant(p, alpha):
        outcome, why = "fails", f"the two samples differ (KS p = {p:.2g})"
    elif stats.decide(ci, tol, "<=") == "holds":
        outcome, why = "holds", f"the distributions are within {tol:g} in sup-distance"
    else:
        outcome, why = "inconclusive", (f"no difference detected (KS p = {p:.2g}) but the "
                                        f"samples are too small to bound the distance by {tol:g}")
    grid = np.quantile(np.concatenate([a, b]), np.linspace(0, 1, 200))
    ecdf = lambda s: np.searchsorted(np.sort(s), grid, side="right") / s.shape[0]
    xa, ya = downsample(grid, ecdf(a))
    xb, yb = downsample(grid, ecdf(b))
    return CheckOutcome(
        outcome=outcome, statistic=statistic, value=d, threshold=tol, ci=ci,
        n=int(a.shape[0] + b.shape[0]),
        reason=f"{why}: KS D = {d:.4f}, 95% CI [{ci.low:.4f}, {ci.high:.4f}] ({what})",
        details={"ks_p": p, "n_a": int(a.shape[0]), "n_b": int(b.shape[0])},
        plot=PlotData(title="Empirical CDFs", xlabel="value", ylabel="F(x)",
                      series=(PlotSeries(label=a_names[0], x=xa, y=ya, style="step"),
                              PlotSeries(label=b_names[0], x=xb, y=yb, style="step"))),
    )


@hypothesis_check(statistic="two-sample KS distance (DKW interval)",
                  needs="samples certification and deployment; optional tolerance "
                        "distribution_tolerance (0.1)")
def same_distribution(run: Run) -> CheckOutcome:
    """Deployment inputs are drawn from the certification distribution."""
    return two_sample(run, ("certification",), ("deployment",),
                      what="certification vs deployment", statistic="KS distance")


__all__ = ["failure_independence", "same_distribution", "two_sample"]
