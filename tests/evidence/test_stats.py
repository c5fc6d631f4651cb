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
