"""Verdicts at exact boundaries: decided by the tolerance rule of :mod:`pipeline.evidence.stats`,
never by the last ulp of a fit — the same answer with the BLAS kernel on one thread or on all
of them, and for thresholds one ulp either side of the exact value."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from pipeline.evidence import stats
from pipeline.evidence.checks import Bound
from pipeline.evidence.checks.sgd import robbins_monro_exponent
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.models import ConfidenceInterval
from tests.evidence.helpers import P, make_run


@contextmanager
def blas(threads: int | None) -> Iterator[None]:
    """The BLAS kernel forced to one thread (its serial code path) or left at its default."""
    if threads is None:
        yield
    else:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield


BLAS_WAYS = pytest.mark.parametrize("threads", [1, None], ids=["blas-serial", "blas-default"])


def ulps(x: float) -> list[float]:
    """x and its two floating-point neighbours."""
    return [float(np.nextafter(x, -np.inf)), x, float(np.nextafter(x, np.inf))]


# ------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("c", [0.5, 1.0, 0.9, 0.0, 1e-6, 123.456])
def test_the_rule_at_the_boundary(c: float) -> None:
    for x in ulps(c):
        at = ConfidenceInterval(low=x, high=x, method="exact")
        assert stats.decide(at, c, ">=") == "holds"
        assert stats.decide(at, c, "<=") == "holds"
        assert stats.decide(at, c, ">") == "fails"
        assert stats.decide(at, c, "<") == "fails"
        assert stats.within(at, c, c)
    clear = 1e-6 * max(1.0, abs(c))
    above = ConfidenceInterval(low=c + clear, high=c + 2 * clear, method="exact")
    assert stats.decide(above, c, ">") == "holds" and stats.decide(above, c, "<=") == "fails"
    straddle = ConfidenceInterval(low=c - clear, high=c + clear, method="exact")
    assert {stats.decide(straddle, c, r) for r in (">=", ">", "<=", "<")} == {"inconclusive"}


def test_p_values_and_constants_at_the_boundary() -> None:
    for p in ulps(0.01):
        assert not stats.significant(p, 0.01)
    assert stats.significant(0.0099, 0.01)
    assert stats.is_constant(np.array([0.1, 0.1 + 1e-17, float(np.nextafter(0.1, 1))]))
    assert not stats.is_constant(np.array([0.1, 0.1000001]))


# --------------------------------------------------------------------- the decay exponent
@pytest.mark.parametrize(("p", "outcome"), [(0.5, "fails"), (1.0, "holds")])
def test_exponent_exactly_at_half_and_one(p: float, outcome: str) -> None:
    for x in ulps(p):
        ci = ConfidenceInterval(low=x, high=x, method="t")
        assert robbins_monro_exponent(ci, 0.0)[0] == outcome
        assert robbins_monro_exponent(ci, 0.02)[0] == outcome


@BLAS_WAYS
@pytest.mark.parametrize(("lr", "outcome"), [
    (lambda t: 1 / np.sqrt(t), "fails"),      # p = 1/2: Σηₜ² = Σ1/t = ∞
    (lambda t: t ** -0.5, "fails"),
    (lambda t: 3.0 / np.sqrt(t), "fails"),
    (lambda t: 1 / t, "holds"),              # p = 1: Σ1/t = ∞, Σ1/t² < ∞
    (lambda t: 0.37 / t, "holds"),
], ids=["1/sqrt(t)", "t^-0.5", "3/sqrt(t)", "1/t", "0.37/t"])
def test_logged_schedule_at_the_boundary_exponent(tmp_path: Path, threads: int | None,
                                                  lr, outcome: str) -> None:  # type: ignore[no-untyped-def]
    for n in (20_000, 4_321, 100):
        t = np.arange(1, n + 1, dtype=float)
        run = make_run(tmp_path, f"r{n}", metrics={"step": t, "lr": lr(t)})
        with blas(threads):
            out = run_check(P + "sgd:step_size_schedule", run)
        assert out.outcome == outcome, (n, out.reason)


# ------------------------------------------------------------------- Clopper–Pearson rates
@BLAS_WAYS
@pytest.mark.parametrize(("k", "n"), [(93, 100), (180, 200), (47, 50), (3, 60)])
def test_rate_exactly_at_a_clopper_pearson_threshold(tmp_path: Path, threads: int | None,
                                                     k: int, n: int) -> None:
    outcomes = np.array([1.0] * k + [0.0] * (n - k))
    with blas(threads):
        ci = stats.proportion_ci(k, n)
    for threshold in ulps(ci.low):   # win rate ≥ 1 − q with the lower bound on it: holds
        run = make_run(tmp_path, "lo", samples={"honest_win": outcomes})
        with blas(threads):
            out = run_check(P + "debate:honest_win_rate", run,
                            Bound(parameters={"q": 1 - threshold},
                                  settings={"detectable_margin": 0.3}))
        assert out.outcome == "holds"
    for threshold in ulps(ci.high):  # liar rate ≤ ε with the upper bound on it: holds
        run = make_run(tmp_path, "hi", samples={"liar_win": outcomes})
        with blas(threads):
            out = run_check(P + "debate:exploitability", run, Bound(parameters={"ε": threshold}, settings={"detectable_margin": 0.3}))
        assert out.outcome == "holds"


# -------------------------------------------------------------------------- KS tolerance
@BLAS_WAYS
def test_ks_distance_exactly_at_the_tolerance(tmp_path: Path, threads: int | None) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=4000), rng.normal(size=4000)
    _d, p, ci = stats.ks_distance_ci(a, b)
    assert p > 0.01 and 0 < ci.high < 0.1
    run = make_run(tmp_path, "ks", samples={"certification": a, "deployment": b})
    for tol in ulps(ci.high):
        with blas(threads):
            out = run_check(P + "certificate:same_distribution", run,
                            Bound(settings={"distribution_tolerance": tol}))
        assert out.outcome == "holds", out.reason
    below = run_check(P + "certificate:same_distribution", run,
                      Bound(settings={"distribution_tolerance": ci.high - 1e-6}))
    assert below.outcome == "inconclusive"


def test_autocorrelation_band_at_its_edge() -> None:
    for edge in ulps(0.1):
        ci = ConfidenceInterval(low=-0.05, high=edge, method="normal")
        assert stats.within(ci, -0.1, 0.1)
        assert not stats.within(ConfidenceInterval(low=-0.05, high=0.1 + 1e-6, method="n"), -0.1, 0.1)


def test_linear_fit_agrees_with_scipy_on_noisy_data_and_is_exact_on_exact_data() -> None:
    from scipy import stats as sps

    rng = np.random.default_rng(0)
    x = np.linspace(0, 5, 300)
    y = 2.0 - 0.7 * x + rng.normal(scale=0.3, size=x.shape[0])
    ours, ref = stats.linear_fit(x, y), sps.linregress(x, y)
    assert ours.slope == pytest.approx(ref.slope, rel=1e-12)
    assert ours.stderr == pytest.approx(ref.stderr, rel=1e-9)
    assert ours.r_squared == pytest.approx(ref.rvalue**2, rel=1e-12)
    exact = stats.linear_fit(np.log(np.arange(1.0, 500.0)), -0.5 * np.log(np.arange(1.0, 500.0)))
    assert exact.stderr < 1e-14 and abs(exact.slope + 0.5) < 1e-14


@BLAS_WAYS
@pytest.mark.parametrize(("lam", "outcome"), [(0.5, "holds"), (0.5 * (1 + 0.01), "holds"),
                                              (0.5 * (1 + 0.0101), "fails")])
def test_exact_step_size_at_the_tolerance(tmp_path: Path, threads: int | None, lam: float,
                                          outcome: str) -> None:
    """ηₜ = 1/(0.5 t) logged; |λtηₜ − 1| = |λ/0.5 − 1| is 0, exactly the tolerance, or above."""
    t = np.arange(1, 5001, dtype=float)
    run = make_run(tmp_path, metrics={"step": t, "lr": 1 / (0.5 * t)})
    with blas(threads):
        out = run_check(P + "sgd:step_size_exact", run,
                        Bound(parameters={"lam": lam}, settings={"step_tolerance": 0.01}))
    assert out.outcome == outcome, out.reason


@pytest.mark.parametrize(("threshold", "margin", "low", "high"), [
    (0.9, 0.1, 60, 100), (0.5, 0.1, 180, 210), (0.1, 0.05, 200, 300), (0.02, 0.1, 10, 60)])
def test_power_based_minimum_sample_size(tmp_path: Path, threshold: float, margin: float,
                                         low: int, high: int) -> None:
    n = stats.proportion_sample_size(threshold, margin)
    assert low <= n <= high
    few = make_run(tmp_path, samples={"honest_win": np.ones(n - 1)})
    out = run_check(P + "debate:honest_win_rate", few,
                    Bound(parameters={"q": 1 - threshold}, settings={"detectable_margin": margin}))
    assert out.outcome == "inconclusive" and f"at least {n}" in out.reason
