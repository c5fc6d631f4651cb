"""Pure statistics used by the hypothesis checks (no I/O, no plotting).

Every decision rule has three outcomes: a hypothesis *holds* when the whole confidence
interval lies on its side of the threshold, *fails* when the whole interval lies on the
other side, and is *inconclusive* otherwise.

Numerical tolerance (one rule for every threshold comparison): a bound within
:func:`numeric_tolerance` of the threshold is taken to *be* the threshold. So an exact
boundary input (a decay exponent of exactly 1/2 fitted as 0.5000000000000001, a
Clopper–Pearson bound equal to the threshold) gets the mathematically right answer for the
boundary — ``θ ≥ c`` holds at c, ``θ > c`` fails at c — whichever way the last ulp of a
BLAS kernel or a libm rounded it, the same on every machine. Comparisons go through
:func:`decide`, :func:`within` and :func:`significant`; no check compares a computed value
with a threshold by a bare ``<``.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence.models import ConfidenceInterval, FloatArray, Outcome

LEVEL = 0.95
NUMERIC_RTOL = 1e-9
"""Relative numerical tolerance of threshold comparisons: far above floating-point noise
(~1e-16 per operation, ~1e-13 after a least-squares fit of 2,000 points), far below any
statistical resolution the checks have (their intervals are wider than 1e-4)."""
NUMERIC_ATOL = 1e-12
"""Absolute floor of the tolerance, for thresholds at 0 (pass ``scale`` for data-scaled ones)."""

Relation = Literal[">=", ">", "<=", "<"]


def numeric_tolerance(threshold: float, scale: float = 0.0) -> float:
    """How close to ``threshold`` a value counts as equal to it (see the module docstring)."""
    return NUMERIC_ATOL + NUMERIC_RTOL * max(abs(threshold), abs(scale))


def decide(ci: ConfidenceInterval, threshold: float, relation: Relation, *,
           scale: float = 0.0) -> Outcome:
    """Hypothesis ``θ <relation> threshold`` from an interval for θ, with the tolerance rule.

    A bound within the numerical tolerance of ``threshold`` is the threshold: the closed
    relations (``>=``, ``<=``) hold there, the strict ones (``>``, ``<``) fail there.
    ``scale`` widens the tolerance to the data's magnitude when the threshold is 0.
    """
    tol = numeric_tolerance(threshold, scale)
    if relation == ">=":
        return "holds" if ci.low >= threshold - tol else \
            "fails" if ci.high < threshold - tol else "inconclusive"
    if relation == ">":
        return "holds" if ci.low > threshold + tol else \
            "fails" if ci.high <= threshold + tol else "inconclusive"
    if relation == "<=":
        return "holds" if ci.high <= threshold + tol else \
            "fails" if ci.low > threshold + tol else "inconclusive"
    if relation == "<":
        return "holds" if ci.high < threshold - tol else \
            "fails" if ci.low >= threshold - tol else "inconclusive"
    raise ValueError(f"unknown relation {relation!r}")


def proportion_ci(k: int, n: int, *, level: float = LEVEL,
                  method: str = "clopper-pearson") -> ConfidenceInterval:
    """Clopper–Pearson (``exact``) or Wilson interval for a binomial proportion."""
    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    scipy_method = {"clopper-pearson": "exact", "wilson": "wilson"}[method]
    from scipy import stats
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level,
                                                       method=scipy_method)
    return ConfidenceInterval(low=float(ci.low), high=float(ci.high), level=level, method=method)


def proportion_sample_size(threshold: float, margin: float, *, level: float = LEVEL,
                           power: float = 0.8) -> int:
    """Outcomes needed so that a true rate ``margin`` away from ``threshold`` puts the
    two-sided ``level`` interval on its side with probability ``power`` (normal
    approximation of the one-sample test of a proportion)."""
    if not 0 < margin < 1:
        raise ValueError("the detectable margin must lie in (0, 1)")
    p0 = min(max(threshold, 1e-6), 1 - 1e-6)
    p1 = min(max(p0 - margin if p0 - margin > 0 else p0 + margin, 1e-6), 1 - 1e-6)
    from scipy import stats
    z_a = float(stats.norm.ppf(0.5 + level / 2))
    z_b = float(stats.norm.ppf(power))
    n = ((z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(p1 * (1 - p1))) / margin) ** 2
    return max(math.ceil(n), 10)


def at_least(ci: ConfidenceInterval, threshold: float) -> Outcome:
    """Hypothesis ``θ ≥ threshold`` (closed: a bound at the threshold holds)."""
    return decide(ci, threshold, ">=")


def at_most(ci: ConfidenceInterval, threshold: float) -> Outcome:
    """Hypothesis ``θ ≤ threshold`` (closed: a bound at the threshold holds)."""
    return decide(ci, threshold, "<=")


def within(ci: ConfidenceInterval, low: float, high: float) -> bool:
    """The whole interval lies in the closed band [low, high] (with the tolerance rule)."""
    return decide(ci, low, ">=") == "holds" and decide(ci, high, "<=") == "holds"


def significant(p_value: float, alpha: float) -> bool:
    """``p < alpha``, strict, with the tolerance rule (a p-value at alpha is not significant)."""
    return p_value < alpha - numeric_tolerance(alpha)


def is_constant(x: FloatArray) -> bool:
    """All values equal up to the numerical tolerance (relative to the largest magnitude)."""
    if x.shape[0] == 0:
        return True
    spread = float(x.max()) - float(x.min())
    return spread <= numeric_tolerance(0.0, float(np.abs(x).max()))


def t_interval(estimate: float, stderr: float, dof: int, *, level: float = LEVEL,
               method: str = "t") -> ConfidenceInterval:
    from scipy import stats
    half = float(stats.t.ppf(0.5 + level / 2, max(dof, 1))) * stderr
    return ConfidenceInterval(low=estimate - half, high=estimate + half, level=level,
                              method=method)


def z_interval(estimate: float, stderr: float, *, level: float = LEVEL,
               method: str = "normal") -> ConfidenceInterval:
    from scipy import stats
    half = float(stats.norm.ppf(0.5 + level / 2)) * stderr
    return ConfidenceInterval(low=estimate - half, high=estimate + half, level=level,
                              method=method)


class LinearFit(NamedTuple):
    slope: float
    intercept: float
    stderr: float
    """Standard error of the slope, from the residuals."""
    r_squared: float


def linear_fit(x: FloatArray, y: FloatArray) -> LinearFit:
    """Least squares y ≈ intercept + slope·x on centred data.

    The slope's standard error comes from the residuals, not from ``sqrt(1 − r²)`` as in
    :func:`scipy.stats.linregress`, whose cancellation leaves ~1e-8 of floating-point noise
    on an exact power law — wider than the numerical tolerance, so an exact boundary
    input would be inconclusive or decided by rounding. Here exact data give an exact fit.
    """
    n = x.shape[0]
    if n < 3:
        raise ValueError("a linear fit with a standard error needs at least 3 points")
    xm, ym = float(np.mean(x)), float(np.mean(y))
    dx, dy = x - xm, y - ym
    sxx = float(np.sum(dx * dx))
    if sxx == 0.0:
        raise ValueError("a linear fit needs at least two distinct x values")
    slope = float(np.sum(dx * dy)) / sxx
    resid = dy - slope * dx
    sse = float(np.sum(resid * resid))
    syy = float(np.sum(dy * dy))
    stderr = math.sqrt(sse / (n - 2) / sxx)
    r2 = 1.0 - sse / syy if syy > 0 else 1.0
    return LinearFit(slope=slope, intercept=ym - slope * xm, stderr=stderr, r_squared=r2)


def autocorrelations(x: FloatArray, max_lag: int) -> FloatArray:
    """Sample autocorrelations r_1..r_max_lag (biased estimator, as in Ljung–Box)."""
    d = x - x.mean()
    denom = float(d @ d)
    if denom == 0.0:
        return np.full(max_lag, np.nan)
    return np.array([float(d[:-k] @ d[k:]) / denom for k in range(1, max_lag + 1)])


def ljung_box(x: FloatArray, max_lag: int) -> tuple[float, float]:
    """Ljung–Box Q over lags 1..max_lag and its chi-square p-value."""
    n = x.shape[0]
    r = autocorrelations(x, max_lag)
    lags = np.arange(1, max_lag + 1)
    q = float(n * (n + 2) * np.sum(r**2 / (n - lags)))
    from scipy import stats
    return q, float(stats.chi2.sf(q, max_lag))


def dkw_epsilon(n: int, alpha: float) -> float:
    """Dvoretzky–Kiefer–Wolfowitz: sup|F̂ₙ − F| ≤ ε with probability ≥ 1 − alpha."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def ks_distance_ci(a: FloatArray, b: FloatArray, *, level: float = LEVEL
                   ) -> tuple[float, float, ConfidenceInterval]:
    """Two-sample KS distance, its p-value, and a DKW interval for the true sup-distance."""
    from scipy import stats
    res = stats.ks_2samp(a, b)
    d = float(res.statistic)
    alpha = (1 - level) / 2  # split between the two empirical CDFs
    eps = dkw_epsilon(a.shape[0], alpha) + dkw_epsilon(b.shape[0], alpha)
    ci = ConfidenceInterval(low=max(0.0, d - eps), high=min(1.0, d + eps), level=level,
                            method="DKW")
    return d, float(res.pvalue), ci


def spearman_trend(x: FloatArray, *, level: float = LEVEL) -> tuple[float, float, ConfidenceInterval]:
    """Spearman ρ between position and value, its p-value and a Fisher-z interval."""
    n = x.shape[0]
    from scipy import stats
    res = stats.spearmanr(np.arange(n), x)
    rho = float(res.statistic)
    se = 1.06 / math.sqrt(max(n - 3, 1))  # Fieller et al. (1957) for Spearman's ρ
    z = math.atanh(max(min(rho, 0.999999), -0.999999))
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    ci = ConfidenceInterval(low=math.tanh(z - half), high=math.tanh(z + half), level=level,
                            method="fisher-z")
    return rho, float(res.pvalue), ci


def block_means(x: FloatArray, n_blocks: int) -> tuple[FloatArray, FloatArray]:
    """Means of ``n_blocks`` contiguous blocks and the block centres (as fractions of the run)."""
    n = x.shape[0] - x.shape[0] % n_blocks
    blocks = x[x.shape[0] - n:].reshape(n_blocks, -1)
    centres = (np.arange(n_blocks) + 0.5) / n_blocks
    return blocks.mean(axis=1), centres


class BatchMeans(NamedTuple):
    mean: float
    se: float
    """Standard error of the mean from the spread of the batch means."""
    batches: int


def batch_means(x: FloatArray, n_batches: int | None = None) -> BatchMeans:
    """The mean of a serially dependent series and its batch-means standard error.

    The one estimator of the checks for per-step series within a run: the series is cut into
    ``n_batches`` contiguous batches (default ⌊√n⌋, at least 2; any length, the batches
    differ by at most one value) and the standard error is the spread of the batch means
    over √batches. Neighbouring steps are correlated; batch means long enough to span the
    correlation are nearly independent, so the interval is not the too-narrow i.i.d. one.
    A series shorter than two values per batch falls back to single values as batches.
    """
    n = int(x.shape[0])
    if n < 2:
        raise ValueError("batch means need at least 2 values")
    b = n_batches if n_batches is not None else max(2, math.isqrt(n))
    b = min(max(b, 2), n)
    if n < 2 * b:
        b = n
    means = np.array([float(chunk.mean()) for chunk in np.array_split(x, b)])
    return BatchMeans(mean=float(x.mean()), se=float(means.std(ddof=1)) / math.sqrt(b),
                      batches=b)


def series_mean_ci(x: FloatArray, *, level: float = LEVEL,
                   n_batches: int | None = None) -> ConfidenceInterval:
    """t-interval for the mean of a per-step series, from :func:`batch_means`."""
    bm = batch_means(x, n_batches)
    return t_interval(bm.mean, bm.se, bm.batches - 1, level=level,
                      method=f"batch means ({bm.batches} batches)")


def effective_size(x: FloatArray, n_batches: int | None = None) -> float:
    """How many independent values the serially dependent series ``x`` is worth: n times
    the ratio of the i.i.d. variance of the mean to its batch-means variance (at most n)."""
    n = int(x.shape[0])
    if n < 4 or is_constant(x):
        return float(n)
    bm = batch_means(x, n_batches)
    iid = float(x.var(ddof=1)) / n
    if bm.se <= 0.0:
        return float(n)
    return float(min(n, max(1.0, n * iid / bm.se**2)))


def series_proportion_ci(outcomes: FloatArray, *, level: float = LEVEL
                         ) -> tuple[ConfidenceInterval, int, int]:
    """Clopper–Pearson interval for the rate of a per-step 0/1 series, on its effective
    sample size (:func:`effective_size`): (interval, effective successes, effective n)."""
    n = int(outcomes.shape[0])
    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    n_eff = max(1, math.floor(effective_size(outcomes)))
    k_eff = round(float(outcomes.mean()) * n_eff)
    ci = proportion_ci(k_eff, n_eff, level=level)
    method = "clopper-pearson" if n_eff == n else f"clopper-pearson (effective n {n_eff} of {n})"
    return ci.model_copy(update={"method": method}), k_eff, n_eff


def means_across_seeds(draws: FloatArray, alpha: float
                       ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per step (column) of ``draws`` (seeds × steps): the mean over the seeds, the half-width
    of its two-sided t-interval Bonferroni-corrected over the steps (simultaneous level
    1 − ``alpha``), and the seeds' standard deviation. Returns (mean, half-width, sd)."""
    from scipy import stats

    seeds, steps = draws.shape
    mean = draws.mean(axis=0)
    sd = draws.std(axis=0, ddof=1)
    se = sd / math.sqrt(seeds)
    q = float(stats.t.ppf(1 - alpha / (2 * steps), seeds - 1))
    return mean, q * se, sd


def seeds_needed(sd: FloatArray | float, gap: FloatArray | float, *, alpha: float = 1 - LEVEL,
                 power: float = 0.8, comparisons: int = 1) -> int:
    """Seeds (independent runs) for a claim about an expectation: enough that a true mean
    ``gap`` inside the threshold is shown with probability ``power`` by two-sided intervals
    at level 1 − ``alpha``, Bonferroni over ``comparisons`` (e.g. logged steps), when one
    seed's value has standard deviation ``sd``: n = max ((z_α + z_β)·sd/gap)², at least 2.
    The one rule every check of an expectation over training noise uses."""
    from scipy import stats
    z_a = float(stats.norm.ppf(1 - alpha / (2 * max(comparisons, 1))))
    z_b = float(stats.norm.ppf(power))
    sd_a = np.atleast_1d(np.asarray(sd, dtype=float))
    gap_a = np.maximum(np.atleast_1d(np.asarray(gap, dtype=float)), 1e-300)
    if not (sd_a > 0).any():
        return 2
    want = float(np.max(((z_a + z_b) * sd_a / gap_a) ** 2))
    return max(2, math.ceil(min(want, 1e9)))


def geometric_indices(n: int, count: int, start: int = 0) -> np.ndarray:
    """About ``count`` distinct indices in [start, n) spaced evenly in log(index + 1)."""
    if n - start <= count:
        return np.arange(start, n)
    idx = np.unique(np.geomspace(start + 1, n, count).astype(np.int64) - 1)
    return idx[(idx >= start) & (idx < n)]


__all__ = [
    "LEVEL",
    "NUMERIC_ATOL",
    "NUMERIC_RTOL",
    "BatchMeans",
    "LinearFit",
    "Relation",
    "at_least",
    "at_most",
    "autocorrelations",
    "batch_means",
    "block_means",
    "decide",
    "dkw_epsilon",
    "effective_size",
    "geometric_indices",
    "is_constant",
    "ks_distance_ci",
    "linear_fit",
    "ljung_box",
    "means_across_seeds",
    "numeric_tolerance",
    "proportion_ci",
    "proportion_sample_size",
    "seeds_needed",
    "series_mean_ci",
    "series_proportion_ci",
    "significant",
    "spearman_trend",
    "t_interval",
    "within",
    "z_interval",
]
