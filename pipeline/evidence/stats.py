"""Pure statistics used by the hypothesis checks (no I/O, no plotting).

Every decision rule has three outcomes: a hypothesis *holds* when the whole confidence
interval lies on its side of the threshold, *fails* when the whole interval lies on the
other side, and is *inconclusive* otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

from pipeline.evidence.models import ConfidenceInterval, FloatArray, Outcome

LEVEL = 0.95


def proportion_ci(k: int, n: int, *, level: float = LEVEL,
                  method: str = "clopper-pearson") -> ConfidenceInterval:
    """Clopper–Pearson (``exact``) or Wilson interval for a binomial proportion."""
    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    scipy_method = {"clopper-pearson": "exact", "wilson": "wilson"}[method]
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level,
                                                       method=scipy_method)
    return ConfidenceInterval(low=float(ci.low), high=float(ci.high), level=level, method=method)


def at_least(ci: ConfidenceInterval, threshold: float) -> Outcome:
    """Hypothesis ``θ ≥ threshold``."""
    if ci.low >= threshold:
        return "holds"
    if ci.high < threshold:
        return "fails"
    return "inconclusive"


def at_most(ci: ConfidenceInterval, threshold: float) -> Outcome:
    """Hypothesis ``θ ≤ threshold``."""
    if ci.high <= threshold:
        return "holds"
    if ci.low > threshold:
        return "fails"
    return "inconclusive"


def within(ci: ConfidenceInterval, low: float, high: float) -> bool:
    return low <= ci.low and ci.high <= high


def bootstrap_ci(
    data: FloatArray, statistic: Callable[[FloatArray], FloatArray], *, level: float = LEVEL,
    n_resamples: int = 999, seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap; ``statistic`` maps a (resamples, n) array to (resamples,)."""
    rng = np.random.default_rng(seed)
    n = data.shape[0]
    idx = rng.integers(0, n, size=(n_resamples, n))
    values = statistic(data[idx])
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return ConfidenceInterval(low=float(low), high=float(high), level=level, method="bootstrap")


def t_interval(estimate: float, stderr: float, dof: int, *, level: float = LEVEL,
               method: str = "t") -> ConfidenceInterval:
    half = float(stats.t.ppf(0.5 + level / 2, max(dof, 1))) * stderr
    return ConfidenceInterval(low=estimate - half, high=estimate + half, level=level,
                              method=method)


def z_interval(estimate: float, stderr: float, *, level: float = LEVEL,
               method: str = "normal") -> ConfidenceInterval:
    half = float(stats.norm.ppf(0.5 + level / 2)) * stderr
    return ConfidenceInterval(low=estimate - half, high=estimate + half, level=level,
                              method=method)


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
    return q, float(stats.chi2.sf(q, max_lag))


def dkw_epsilon(n: int, alpha: float) -> float:
    """Dvoretzky–Kiefer–Wolfowitz: sup|F̂ₙ − F| ≤ ε with probability ≥ 1 − alpha."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def ks_distance_ci(a: FloatArray, b: FloatArray, *, level: float = LEVEL
                   ) -> tuple[float, float, ConfidenceInterval]:
    """Two-sample KS distance, its p-value, and a DKW interval for the true sup-distance."""
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


def geometric_indices(n: int, count: int, start: int = 0) -> np.ndarray:
    """About ``count`` distinct indices in [start, n) spaced evenly in log(index + 1)."""
    if n - start <= count:
        return np.arange(start, n)
    idx = np.unique(np.geomspace(start + 1, n, count).astype(np.int64) - 1)
    return idx[(idx >= start) & (idx < n)]


def first_nonfinite(x: FloatArray) -> int | None:
    bad = np.flatnonzero(~np.isfinite(x))
    return int(bad[0]) if bad.size else None


__all__ = [
    "LEVEL",
    "at_least",
    "at_most",
    "autocorrelations",
    "block_means",
    "bootstrap_ci",
    "dkw_epsilon",
    "first_nonfinite",
    "geometric_indices",
    "ks_distance_ci",
    "ljung_box",
    "proportion_ci",
    "spearman_trend",
    "t_interval",
    "within",
    "z_interval",
]
