"""The A/B statistics: exact values, error rates by simulation (fixed seed), the planner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

from pipeline.ab import stats
from pipeline.commands.app import run


def test_mcnemar_is_the_exact_sign_test_on_discordant_pairs() -> None:
    a = [True] * 10 + [False] * 2 + [True] * 5 + [False] * 3
    b = [False] * 10 + [True] * 2 + [True] * 5 + [False] * 3
    test = stats.mcnemar(a, b)
    assert (test.a_only, test.b_only, test.n_pairs) == (10, 2, 20)
    assert test.p_value == pytest.approx(sps.binomtest(2, 12, 0.5).pvalue)
    assert test.difference == pytest.approx(-8 / 20)
    lo, hi = test.difference_ci
    assert lo < test.difference < hi < 0  # significant, and the interval says so
    assert test.p_value < 0.05


def test_identical_variants_are_never_significant() -> None:
    same = [True, False, True, True, False]
    test = stats.mcnemar(same, same)
    assert test.p_value == 1.0 and test.e_value == 1.0 and test.difference_ci == (0.0, 0.0)


def test_e_value_is_a_fair_bet_under_the_null() -> None:
    """E[E_m] = 1 when each discordant pair favours B with probability 1/2: the property
    Ville's inequality needs (checked exactly, for several m)."""
    for m in (1, 5, 20, 60):
        pmf = sps.binom.pmf(np.arange(m + 1), m, 0.5)
        mean = sum(p * stats.e_value(b, m - b) for b, p in enumerate(pmf))
        assert mean == pytest.approx(1.0, rel=1e-9)


def test_sequential_stop_only_on_strong_evidence() -> None:
    assert stats.sequential_stop([True] * 4) is None  # e = 2^4/5 = 3.2 < 20
    stop = stats.sequential_stop([True] * 30)
    assert stop is not None and stop <= 10
    assert stats.sequential_stop([True, False] * 50) is None


def test_holm_adjusts_step_down() -> None:
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]


def test_bootstrap_resamples_tasks_and_skips_missing_values() -> None:
    found = stats.bootstrap_difference([1.0, 2.0, float("nan"), 1.0], [2.0, 3.0, 5.0, 2.0],
                                       ["t1", "t2", "t3", "t4"])
    assert found is not None
    estimate, (lo, hi) = found
    assert estimate == 1.0 and lo == hi == 1.0  # every complete pair differs by exactly 1
    assert stats.bootstrap_difference([float("nan")], [1.0], ["t"]) is None


def test_planner_power_is_exact_and_reaches_the_target() -> None:
    plan = stats.plan(0.4, 0.6)
    assert plan.power >= 0.8 and plan.power_sequential >= 0.8
    assert stats.power(plan.pairs - 10, 0.4, 0.6) < 0.8
    assert plan.pairs_sequential > plan.pairs  # peeking safely costs samples
    # the exact power agrees with a simulation of the same test
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(200):
        a, b = rng.random(plan.pairs) < 0.4, rng.random(plan.pairs) < 0.6
        hits += stats.mcnemar(list(a), list(b)).p_value <= 0.05
    assert abs(hits / 200 - plan.power) < 0.09
    with pytest.raises(ValueError):
        stats.plan(0.5, 0.5)
    tiny = stats.plan(0.5, 0.52, limit=500)
    assert tiny.pairs == 500 and not tiny.reached and tiny.power < 0.8


def test_validate_meets_both_figures_from_a_fixed_seed() -> None:
    found = stats.validate(seed=20261207, simulations=200)
    assert found.simulations >= 200
    assert found.false_significant_rate <= 0.05
    assert found.power >= 0.80
    assert found.false_significant_rate_sequential <= 0.05
    assert found.power_sequential >= 0.80


def test_validate_is_not_a_constant() -> None:
    """Negative control: a test that ignored the data would pass the figures above; the
    measured rates move with the effect (a 5-point difference has low power)."""
    low = stats.power(stats.plan(0.4, 0.6).pairs, 0.4, 0.45)
    assert low < 0.3


def test_cli_validate_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run(["ab", "validate", "--json", "--simulations", "200"])
    assert done.value.code == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("false_significant_rate", "power", "false_significant_rate_sequential",
                "power_sequential"):
        assert key in data
    with pytest.raises(SystemExit) as done:
        run(["ab", "validate", "--simulations", "10"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "at least 200" in err and "Traceback" not in err
