"""Hypotheses of the zero-failure certificate: independent failures and deployment data
drawn from the certification distribution."""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    Context,
    Kind,
    NotApplicable,
    Setting,
    downsample,
    hypothesis_check,
    need,
)
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, PlotData, PlotSeries, Run

MAX_LAG = 10
SIGNIFICANCE = Setting(0.01, 1e-12, 0.5, "level of the test that makes the check fail")
TWO_SAMPLE_SETTINGS = {"distribution_tolerance": Setting(0.1, 0.0, 1.0, "largest KS distance "
                                                         "accepted"),
                       "significance": SIGNIFICANCE}


@hypothesis_check(statistic="lag-1 autocorrelation of failures (+ Ljung–Box, lags 1–10)",
                  needs="0/1 failure sequence in time order (failure); on a run with fewer "
                        "than 5 failures, a per-episode margin sample (proxy); claim "
                        "settings autocorrelation_tolerance (0.1), significance (0.01)",
                  settings={"autocorrelation_tolerance": Setting(0.1, 0.0, 1.0),
                            "significance": SIGNIFICANCE},
                  optional_parameters=("m",), kind="proxy", version="2",
                  not_covered="h_independent is an equality of probabilities (P(all pass) = "
                              "∏(1 − qᵢ)); the check bounds serial correlation at lags 1–10")
def failure_independence(run: Run, ctx: Context) -> CheckOutcome:
    """Failures are independent across episodes (no autocorrelation, no bursts).

    A proxy: h_independent is the equality P(all pass) = ∏(1 − qᵢ), which no finite run
    confirms. What a "holds" certifies is stated with numbers: the lag-1 autocorrelation ρ
    of the failures lies in its interval and no serial dependence shows at lags 1–10; for a
    first-order Markov dependence with ρ ≤ ρ̄ all n trials pass with at most the probability
    of n − 1 independent trials at rate p(1 − ρ̄) (P(pass | pass) = 1 − p(1 − ρ)), so zero
    failures certify about 1/(m(1 − ρ̄)), not 1/m."""
    fail = need(run, "failure", "failures", binary=True, min_n=100)
    n, k = int(fail.shape[0]), int(fail.sum())
    tol = ctx.setting("autocorrelation_tolerance")
    alpha = ctx.setting("significance")
    series, what = fail, "failures"
    kind: Kind = "proxy"
    not_covered = None
    if min(k, n - k) < 5:
        margin = run.column("margin")
        if margin is None or margin.shape[0] != n or not np.isfinite(margin).all():
            raise NotApplicable(
                f"{k} failures in {n} episodes: 0/1 outcomes with fewer than 5 of one kind "
                "carry no information about dependence; log a per-episode margin (sample "
                "'margin', failure iff margin < 0) to test it on a zero-failure run")
        series, what, kind = margin, "margins", "proxy"
        not_covered = ("independence of the per-episode margins, whose sign is the failure; "
                       "dependence that only shows in the rare failures is not covered")
    r = stats.autocorrelations(series, MAX_LAG)
    if not np.isfinite(r).all():
        raise NotApplicable(f"the {what} are constant: no autocorrelation to estimate")
    q, p = stats.ljung_box(series, MAX_LAG)
    ci = stats.z_interval(float(r[0]), 1 / math.sqrt(n), method="normal (Bartlett)")
    if stats.significant(p, alpha):
        outcome, why = "fails", f"{what} are serially dependent (Ljung–Box p = {p:.2g})"
    elif stats.within(ci, -tol, tol):
        outcome, why = "holds", (f"no dependence in the {what}: |lag-1 autocorrelation| < "
                                 f"{tol:g} and Ljung–Box p = {p:.2g}")
    else:
        outcome, why = "inconclusive", "too few episodes to bound the autocorrelation"
    if not_covered is None:  # the 0/1 failures themselves: what the bound on ρ certifies
        not_covered = _certified_by_rho(ci, p, ctx.maybe_param("m"))
    return CheckOutcome(
        outcome=outcome, statistic=f"lag-1 autocorrelation of {what}", value=float(r[0]),
        threshold=tol, ci=ci, n=n, reason=f"{why}; {k} failures in {n} episodes",
        kind=kind, not_covered=not_covered,
        details={"ljung_box_q": q, "ljung_box_p": p, "failure_rate": k / n},
        plot=PlotData(title=f"Autocorrelation of {what}", xlabel="lag", ylabel="r_k",
                      hlines=((f"+{tol:g}", tol), (f"-{tol:g}", -tol)),
                      series=(PlotSeries(label="r_k", x=tuple(range(1, MAX_LAG + 1)),
                                         y=tuple(float(v) for v in r), style="scatter"),)),
    )


def _certified_by_rho(ci: ConfidenceInterval, p: float, m: float | None) -> str:
    """What a bound on the failures' lag-1 autocorrelation certifies, with numbers (and, for
    the certificate's m, the unsafe rate zero failures then certify)."""
    not_covered = (f"h_independent is the equality P(all pass) = ∏(1 − qᵢ); the check "
                   f"certifies only a lag-1 autocorrelation of the failures in "
                   f"[{ci.low:.3g}, {ci.high:.3g}] (95 %) and no serial dependence at lags "
                   f"1–{MAX_LAG} (Ljung–Box p = {p:.2g}); dependence at longer lags or "
                   "not serial (shared causes across distant trials) is not covered")
    rho = max(ci.high, 0.0)
    if m is not None and m >= 1 and rho < 1:
        not_covered += (f"; under first-order Markov dependence with ρ ≤ {rho:.3g} all "
                        "n trials pass with at most the probability of n − 1 independent "
                        "trials at rate p(1 − ρ), so zero failures certify an unsafe rate "
                        f"below about 1/(m(1 − ρ)) = {1 / (m * (1 - rho)):.4g}, not 1/m = "
                        f"{1 / m:.4g}")
    return not_covered


def two_sample(run: Run, ctx: Context, a_names: tuple[str, ...], b_names: tuple[str, ...], *, what: str,
               statistic: str) -> CheckOutcome:
    """KS distance with a DKW interval: holds if ≤ tolerance, fails if the KS test rejects."""
    a = need(run, *a_names, min_n=20)
    b = need(run, *b_names, min_n=20)
    d, p, ci = stats.ks_distance_ci(a, b)
    tol = ctx.setting("distribution_tolerance")
    alpha = ctx.setting("significance")
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


def certifies_sup_distance(laws: str, bound: float) -> str:
    """What a :func:`two_sample` "holds" certifies, in the one wording of its proxy verdicts:
    the two laws within ``bound`` (the 95 % DKW upper bound D̄ of the KS distance)."""
    return (f"the check certifies only that {laws} are within D̄ = {bound:.3g} in sup-distance "
            f"(95 % DKW upper bound)")


@hypothesis_check(statistic="two-sample KS distance (DKW interval)",
                  needs="samples certification and deployment; claim settings "
                        "distribution_tolerance (0.1), significance (0.01); claim "
                        "parameter m (optional: the certified rate the distance is set "
                        "against)",
                  settings=TWO_SAMPLE_SETTINGS, kind="proxy", optional_parameters=("m",),
                  version="2",
                  not_covered="the theorem needs every trial's failure probability equal to p; "
                              "the check compares the model's score distributions")
def same_distribution(run: Run, ctx: Context) -> CheckOutcome:
    """Deployment inputs are drawn from the certification distribution.

    A proxy: h_same_distribution is the equality q = p for every trial. What a "holds"
    certifies is the sup-distance D̄ (95 % upper bound) between the two score laws: for a
    failure that is a threshold event of the score, |q − p| ≤ D̄, stated against the
    certificate's 1/m."""
    out = two_sample(run, ctx, ("certification",), ("deployment",),
                     what="certification vs deployment", statistic="KS distance")
    if out.ci is None:
        return out
    bound = out.ci.high
    text = (f"h_same_distribution is the equality q = p for every trial; "
            f"{certifies_sup_distance('the score laws', bound)}: for a failure that is a threshold "
            f"event of this score, each deployment failure probability is within {bound:.3g} of "
            f"the certification one")
    m = ctx.maybe_param("m")
    if m is not None and m >= 1:
        text += (f", i.e. {bound * m:.3g}× the certified rate 1/m = {1 / m:.4g} (zero failures "
                 f"then certify a deployment rate below 1/m + D̄ = {1 / m + bound:.4g})")
    return out.model_copy(update={"kind": "proxy", "not_covered": text})


def _rate_m_j(ctx: Context) -> tuple[int, int]:
    m, j = ctx.param("m"), ctx.param("j")
    if m < 1 or j < 0 or m != round(m) or j != round(j):
        raise NotApplicable(f"m = {m:g} and j = {j:g} must be whole numbers, m ≥ 1")
    return int(m), int(j)


def _certified(k: int, n: int, m: int, j: int) -> str:
    """What the run certifies: the theorem's statement and the exact binomial one."""
    from pipeline.evidence.checks.proportion import zero_count_bound

    if k:
        return f"{k} failures in {n} trials: no zero-failure certificate is issued"
    return (f"0 failures in {n} ≥ j·m = {j * m} trials certify an unsafe rate below 1/m = "
            f"{1 / m:.4g} with confidence 1 − 2^−{j} = {1 - 2.0**-j:.4g} (the theorem); the "
            f"exact one-sided Clopper–Pearson bound is {zero_count_bound(n):.4g} at 95 %")


@hypothesis_check(statistic="logged trials against j·m (h_trials: j·m ≤ n)",
                  needs="0/1 sample failure (one per trial); claim parameters m, j",
                  parameters=("m", "j"))
def trial_count(run: Run, ctx: Context) -> CheckOutcome:
    """At least j·m trials were run: the number of logged trial outcomes, an exact count."""
    m, j = _rate_m_j(ctx)
    fail = need(run, "failure", "failures", binary=True)
    n, k = int(fail.shape[0]), int(fail.sum())
    ci = ConfidenceInterval(low=float(n), high=float(n), method="exact (a count)")
    ok = n >= j * m
    return CheckOutcome(
        outcome="holds" if ok else "fails", statistic="logged trials", value=float(n),
        threshold=float(j * m), ci=ci, n=n, details={"failures": k},
        reason=(f"{n} trials logged, {'at least' if ok else 'fewer than'} j·m = {j}·{m} = "
                f"{j * m}; {_certified(k, n, m, j) if ok else 'nothing is certified'}"))


@hypothesis_check(statistic="share of all-pass blocks of m trials (conclusion: a block passes "
                            "with probability ≤ 1/2 when the unsafe rate is ≥ 1/m)",
                  needs="0/1 sample failure in time order; claim parameters m, j",
                  parameters=("m", "j"), kind="proxy",
                  not_covered="the theorem's 2^−j for j blocks is the product of the per-block "
                              "1/2 under independence, which h_independent tests")
def block_pass_rate(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of zero_failure_certificate in its own probability space: when the unsafe
    rate is at least 1/m, a block of m trials passes with probability at most 1/2 (so j
    blocks with at most 2^−j). Measured on the run's disjoint blocks of m trials, when the
    run's rate is shown ≥ 1/m; on a run whose rate is not (a zero-failure run: what it
    certifies is stated) the conclusion says nothing testable."""
    m, j = _rate_m_j(ctx)
    fail = need(run, "failure", "failures", binary=True)
    n, k = int(fail.shape[0]), int(fail.sum())
    rate_ci = stats.proportion_ci(k, n)
    certified = _certified(k, n, m, j)
    if stats.decide(rate_ci, 1 / m, ">=") != "holds":
        return CheckOutcome(
            outcome="inconclusive", statistic="all-pass blocks", n=n, threshold=0.5,
            details={"failures": k, "rate_low": rate_ci.low},
            reason=f"the run's unsafe rate is not shown ≥ 1/m = {1 / m:.4g} (95 % CI "
                   f"[{rate_ci.low:.3g}, {rate_ci.high:.3g}]): the conclusion is about such "
                   f"systems and cannot be measured here; {certified}")
    blocks = n // m
    if blocks < 1:
        raise NotApplicable(f"{n} trials hold no block of m = {m}")
    passed = int(np.sum(fail[:blocks * m].reshape(blocks, m).sum(axis=1) == 0))
    ci = stats.proportion_ci(passed, blocks)
    outcome = stats.at_most(ci, 0.5)
    return CheckOutcome(
        outcome=outcome, statistic="all-pass blocks", value=passed / blocks, threshold=0.5,
        ci=ci, n=blocks, details={"failures": k, "blocks": blocks, "passed_blocks": passed},
        reason=f"{passed} of {blocks} blocks of m = {m} trials passed (95 % CI [{ci.low:.3g}, "
               f"{ci.high:.3g}]) at an unsafe rate ≥ 1/m (CI [{rate_ci.low:.3g}, "
               f"{rate_ci.high:.3g}]); the theorem says at most 1/2 of such blocks pass")


__all__ = ["block_pass_rate", "certifies_sup_distance", "failure_independence", "same_distribution",
           "trial_count", "two_sample"]
