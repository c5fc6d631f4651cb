from __future__ import annotations

import numpy as np
import pytest

from pipeline.evidence import stats
from pipeline.evidence.models import ConfidenceInterval


def test_clopper_pearson_matches_the_textbook_value() -> None:
    ci = stats.proportion_ci(0, 10)
    assert ci.low == 0.0 and ci.high == pytest.approx(0.3085, abs=1e-4)  # 1 - 0.025**(1/10)
    wilson = stats.proportion_ci(5, 10, method="wilson")
    assert wilson.low == pytest.approx(0.2366, abs=1e-3) and wilson.high == pytest.approx(0.7634, abs=1e-3)


@pytest.mark.parametrize(("low", "high", "least", "most"), [
    (0.6, 0.7, "holds", "fails"), (0.3, 0.4, "fails", "holds"), (0.4, 0.6, "inconclusive", "inconclusive")])
def test_three_way_decisions(low: float, high: float, least: str, most: str) -> None:
    ci = ConfidenceInterval(low=low, high=high, method="test")
    assert stats.at_least(ci, 0.5) == least
    assert stats.at_most(ci, 0.5) == most


def test_ljung_box_separates_iid_from_autocorrelated() -> None:
    rng = np.random.default_rng(1)
    iid = rng.normal(size=2000)
    ar = np.zeros(2000)
    for i in range(1, 2000):
        ar[i] = 0.6 * ar[i - 1] + rng.normal()
    assert stats.ljung_box(iid, 10)[1] > 0.01
    assert stats.ljung_box(ar, 10)[1] < 1e-10
    assert stats.autocorrelations(ar, 1)[0] == pytest.approx(0.6, abs=0.06)


def test_ks_interval_contains_the_true_distance() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=3000), rng.normal(0.5, 1, size=3000)
    _, p, ci = stats.ks_distance_ci(a, b)
    true = 0.1974  # sup |Φ(x) − Φ(x − 0.5)| = 2Φ(0.25) − 1
    assert p < 1e-10 and ci.low <= true <= ci.high and ci.method == "DKW"


def test_spearman_trend_and_geometric_indices() -> None:
    rng = np.random.default_rng(3)
    rho, p, ci = stats.spearman_trend(np.arange(500) + rng.normal(0, 50, 500))
    assert rho > 0.8 and p < 1e-10 and ci.low > 0.7
    idx = stats.geometric_indices(10**6, 100)
    assert idx[0] == 0 and idx[-1] == 10**6 - 1 and np.all(np.diff(idx) > 0)


# ------------------------------------------------------------- serially dependent series
def ar1(n: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    eps = rng.normal(size=n) * np.sqrt(1 - phi**2)
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = phi * x[i - 1] + eps[i]
    return x


def test_batch_means_cover_the_mean_of_a_correlated_series_where_iid_intervals_do_not() -> None:
    rng = np.random.default_rng(0)
    reps, n, phi = 300, 4000, 0.9
    batch = iid = 0
    for _ in range(reps):
        x = ar1(n, phi, rng)
        ci = stats.series_mean_ci(x)
        batch += ci.low <= 0.0 <= ci.high
        naive = stats.t_interval(float(x.mean()), float(x.std(ddof=1)) / np.sqrt(n), n - 1)
        iid += naive.low <= 0.0 <= naive.high
        assert ci.method.startswith("batch means")
    assert batch / reps >= 0.88  # near the nominal 95 %
    assert iid / reps <= 0.55  # the i.i.d. interval is far too narrow at φ = 0.9


def test_effective_size_of_iid_and_ar1_series() -> None:
    rng = np.random.default_rng(1)
    assert stats.effective_size(rng.normal(size=10_000)) > 6_000
    # AR(1): n(1 − φ)/(1 + φ) ≈ 10,000 · 0.1/1.9 ≈ 530
    assert 250 < stats.effective_size(ar1(10_000, 0.9, rng)) < 1_100
    assert stats.effective_size(np.ones(50)) == 50.0


@pytest.mark.parametrize("n", [2, 3, 17, 101, 1000, 4099])
def test_batch_means_take_any_length(n: int) -> None:
    bm = stats.batch_means(np.arange(n, dtype=float))
    assert bm.batches >= 2 and np.isfinite(bm.se) and bm.mean == pytest.approx((n - 1) / 2)


def test_a_correlated_rate_counts_its_effective_size() -> None:
    rng = np.random.default_rng(2)
    runs = np.repeat((rng.random(400) < 0.95).astype(float), 25)  # 10,000 steps, runs of 25
    ci, _k, n_eff = stats.series_proportion_ci(runs)
    assert n_eff < 2_000 and "effective" in ci.method
    iid = stats.proportion_ci(int(runs.sum()), runs.shape[0])
    assert ci.high - ci.low > 2 * (iid.high - iid.low)


def test_seeds_needed_is_the_power_rule() -> None:
    # ((1.96 + 0.8416)·1/0.5)² = 31.4 → 32
    assert stats.seeds_needed(1.0, 0.5) == 32
    assert stats.seeds_needed(np.array([1.0, 2.0]), np.array([0.5, 0.5])) == 126
    assert stats.seeds_needed(1.0, 0.5, comparisons=20) > 32
    assert stats.seeds_needed(0.0, 0.5) == 2
