"""Hypothesis of split conformal prediction: calibration and test scores are exchangeable."""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    Context,
    Setting,
    downsample,
    hypothesis_check,
    need,
    series_plot,
)
from pipeline.evidence.checks.certificate import (
    TWO_SAMPLE_SETTINGS,
    certifies_sup_distance,
    two_sample,
)
from pipeline.evidence.checks.proportion import MARGIN
from pipeline.evidence.models import (
    CheckOutcome,
    ConfidenceInterval,
    PlotData,
    PlotSeries,
    Run,
)


@hypothesis_check(statistic="KS distance calibration vs test, and Spearman trend of test scores",
                  needs="samples calibration_scores and test_scores (test in time order)",
                  settings={**TWO_SAMPLE_SETTINGS, "trend_tolerance": Setting(0.1, 0.0, 1.0)},
                  kind="proxy", optional_parameters=("α",), version="2",
                  not_covered="exchangeability of the whole sequence; the check sees a "
                              "distribution shift and a monotone trend, not every permutation "
                              "asymmetry")
def exchangeability(run: Run, ctx: Context) -> CheckOutcome:
    """Calibration and test nonconformity scores are exchangeable (no shift, no drift).

    A proxy: h_exchangeable (coverage = covered positions/(n + 1)) rests on exchangeability,
    which no finite sample confirms. What a "holds" certifies is stated with numbers: the
    test-score law is within D̄ (95 % DKW upper bound of the KS distance) of the calibration
    law with no monotone trend, so for i.i.d. calibration and test draws the coverage is at
    least 1 − α − D̄ (P(S ≤ q̂) under the test law is within D̄ of it under the calibration
    law, whose expectation over calibration draws is ≥ 1 − α)."""
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
    plot = series_plot(np.arange(test.shape[0], dtype=float), test, label="test score",
                       style="scatter", title="Test scores in time order", xlabel="test index",
                       ylabel="nonconformity score")
    certified = None
    if ks.ci is not None:
        bound = ks.ci.high
        laws = certifies_sup_distance("the test-score and calibration-score laws", bound)
        certified = (f"exchangeability of the whole sequence; {laws} with a test-score trend ρ in "
                     f"[{ci.low:.3g}, {ci.high:.3g}]")
        alpha_level = ctx.maybe_param("α")
        if alpha_level is not None:
            certified += (f"; for i.i.d. calibration and test draws that gives coverage ≥ "
                          f"1 − α − D̄ = {1 - alpha_level - bound:.4g}, not 1 − α = "
                          f"{1 - alpha_level:.4g}")
        certified += "; permutation asymmetries other than a shift or a monotone trend are not seen"
    return ks.model_copy(update={
        **({"kind": "proxy", "not_covered": certified} if certified else {}),
        "outcome": outcome,
        "reason": f"{ks.reason}; {trend_txt}",
        "details": {**ks.details, "spearman_rho": rho, "spearman_p": p,
                    "trend_outcome": trend, "ks_outcome": ks.outcome},
        "plot": plot if trend == "fails" and ks.outcome != "fails" else ks.plot,
    })


@hypothesis_check(statistic="covered test points against the exact law of split-conformal "
                            "coverage (beta-binomial over calibration draws)",
                  needs="samples calibration_scores and test_scores; claim parameter α",
                  parameters=("α",), settings={"detectable_margin": MARGIN}, version="2")
def coverage(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of split conformal prediction, tested in its own probability space.

    The guarantee P(cover) ≥ 1 − α is marginal over calibration sets. Given n calibration
    scores and the ⌈(1 − α)(n + 1)⌉ = k-th as threshold, the coverage of one calibration
    draw is itself random, Beta(k, n + 1 − k) for exchangeable continuous scores (ties only
    raise it), so the number X of m test points covered follows the beta-binomial law
    BB(m, k, n + 1 − k) on a valid run. The check fails when P(X ≤ x) < 2.5 % under that law
    (a false alarm on at most 2.5 % of valid runs, whatever n and m), and holds otherwise,
    with enough points that a coverage ``detectable_margin`` below 1 − α would be seen."""
    from scipy import stats as sps

    alpha = ctx.param("α")
    cal = np.sort(need(run, "calibration_scores", min_n=20))
    test = need(run, "test_scores", min_n=20)
    n, m = int(cal.shape[0]), int(test.shape[0])
    k = math.ceil((1 - alpha) * (n + 1) - stats.numeric_tolerance(1.0))
    if not 1 <= k <= n:
        return CheckOutcome(outcome="inconclusive", statistic="coverage", n=m,
                            reason=f"with α = {alpha:g} and {n} calibration scores the quantile "
                                   f"index {k} is outside 1..{n} (the interval is unbounded)")
    margin = ctx.setting("detectable_margin")
    needed = stats.proportion_sample_size(1 - alpha, margin)
    if min(n, m) < needed:
        return CheckOutcome(outcome="inconclusive", statistic="coverage", n=m,
                            details={"needed": needed},
                            reason=f"{n} calibration and {m} test scores; telling a coverage "
                                   f"{margin:g} below 1 − α = {1 - alpha:g} from a valid run "
                                   f"needs at least {needed} of each")
    q_hat = float(cal[k - 1])
    covered = int(np.sum(test <= q_hat))
    law = sps.betabinom(m, k, n + 1 - k)
    p_low = float(law.cdf(covered))
    tail = (1 - stats.LEVEL) / 2
    low_q, high_q = float(law.ppf(tail)), float(law.ppf(1 - tail))
    rate = covered / m
    ci = ConfidenceInterval(low=low_q / m, high=high_q / m, level=stats.LEVEL,
                            method=f"beta-binomial acceptance range BB({m}, {k}, {n + 1 - k})")
    shown = (f"{covered}/{m} = {rate:.4f} test points covered by the {k}-th of {n} "
             f"calibration scores ({q_hat:.4g}); a valid run covers at least {low_q:.0f} with "
             f"probability {1 - tail:.1%} (exact law over calibration draws, "
             f"P(X ≤ {covered}) = {p_low:.3g})")
    failed = stats.significant(p_low, tail)
    return CheckOutcome(
        outcome="fails" if failed else "holds", statistic="coverage", value=rate,
        threshold=1 - alpha, ci=ci, n=m,
        reason=(f"{shown}: fewer than the guarantee allows" if failed else
                f"{shown}: consistent with coverage ≥ 1 − α = {1 - alpha:g} over calibration "
                "draws"),
        details={"covered": covered, "calibration": n, "k": k, "p_value": p_low,
                 "expected_coverage": k / (n + 1), "law": f"betabinom({m}, {k}, {n + 1 - k})"},
        plot=PlotData(title="Coverage against its exact law", xlabel="test points covered",
                      ylabel="probability under a valid run",
                      hlines=(), series=(_law_series(law, low_q, high_q, covered),)),
    )


def _law_series(law: object, low_q: float, high_q: float, covered: int) -> PlotSeries:
    span = max(high_q - low_q, 1.0)
    xs = np.arange(max(0, math.floor(min(low_q, covered) - span)),
                   math.ceil(max(high_q, covered) + span) + 1)
    ys = law.pmf(xs)  # type: ignore[attr-defined]
    x, y = downsample(xs.astype(float), np.asarray(ys, dtype=float))
    return PlotSeries(label=f"beta-binomial law (observed: {covered})", x=x, y=y, style="step")


__all__ = ["coverage", "exchangeability"]
