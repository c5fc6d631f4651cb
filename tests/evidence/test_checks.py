"""Each check's decision on runs whose truth is known by construction (numpy data), and its
behaviour on bad input: missing data, NaN/inf, too few values, an unknown name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.evidence.checks import Bound, Context, hypothesis_check
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.models import CheckOutcome, Run, Snapshot
from tests.evidence.helpers import P, bernoulli, make_run


def quadratic_snapshots(eigs: list[float], n: int = 12, seed: int = 0) -> list[Snapshot]:
    rng = np.random.default_rng(seed)
    h = np.diag(eigs)
    return [Snapshot(step=i, params=(th := rng.normal(size=len(eigs))), grad=h @ th,
                     grad_kind="full") for i in range(n)]


def test_strong_convexity_on_exact_quadratics(tmp_path: Path) -> None:
    zero = {"w_star": np.zeros(3)}
    convex = make_run(tmp_path, "c", snapshots=quadratic_snapshots([0.5, 1.0, 2.0]), samples=zero)
    saddle = make_run(tmp_path, "s", snapshots=quadratic_snapshots([-1.0, -0.5, 1.0]),
                      samples=zero)
    check = P + "sgd:strong_convexity"
    out = run_check(check, convex, Bound(parameters={"lam": 0.5}))
    assert out.outcome == "holds" and out.value >= 0.5 and out.plot is not None
    assert out.kind == "direct" and out.parameters == {"lam": 0.5}
    assert run_check(check, saddle, Bound(parameters={"lam": 0.1})).outcome == "fails"
    high = run_check(check, convex, Bound(parameters={"lam": 5.0}))
    assert high.outcome == "fails" and "λ = 5" in high.reason
    proxy = run_check(check, convex)  # no λ from a claim: positive curvature only, a proxy
    assert proxy.outcome == "holds" and proxy.kind == "proxy" and "no λ" in (proxy.not_covered or "")


def test_strong_convexity_with_an_estimated_optimum(tmp_path: Path) -> None:
    """w* estimated by the last snapshot of a converging run, its radius ‖g_T‖/λ carried."""
    h = np.diag([0.5, 1.0, 2.0])
    theta = np.array([3.0, -2.0, 1.0])
    snaps = []
    for i in range(40):
        snaps.append(Snapshot(step=i * 10, params=theta.copy(), grad=h @ theta, grad_kind="full"))
        theta = theta - 0.3 * (h @ theta)
    run = make_run(tmp_path, snapshots=snaps)
    out = run_check(P + "sgd:strong_convexity", run, Bound(parameters={"lam": 0.45}))
    assert out.outcome == "holds", out.reason
    assert "estimated by the last snapshot" in out.reason and out.details["w_star_radius"] > 0
    assert run_check(P + "sgd:strong_convexity", run,
                     Bound(parameters={"lam": 3.0})).outcome == "fails"


def _seeds(matrix: np.ndarray) -> Run:
    from pipeline.evidence.groups import pool_runs
    from pipeline.evidence.models import Provenance

    return pool_runs([Run(id=f"s{k}", seed=k, provenance=Provenance(source="test"),
                          metrics={"grad_sq": row}) for k, row in enumerate(matrix)],
                     group_id="seeds")


def test_second_moment_at_every_step_across_seeds(tmp_path: Path) -> None:
    """E‖gₜ‖² ≤ G² at each t, estimated across seeds; G² comes from the claim only."""
    rng = np.random.default_rng(0)
    stable = _seeds(rng.chisquare(8, (32, 300)) / 4)  # E‖gₜ‖² = 2
    check = P + "sgd:bounded_second_moment"
    assert run_check(check, stable).outcome == "inconclusive"  # no G²: nothing to test
    assert run_check(check, stable, Bound(parameters={"G2": 4.0})).outcome == "holds"
    assert run_check(check, stable, Bound(parameters={"G2": 1.0})).outcome == "fails"
    from pipeline.evidence.groups import pool_runs

    group = [Run(id=f"n{k}", seed=k, metrics={"grad_norm": row})
             for k, row in enumerate(np.sqrt(rng.chisquare(8, (32, 300)) / 4))]
    out = run_check(check, pool_runs(group, group_id="n"), Bound(parameters={"G2": 4.0}))
    assert out.outcome == "holds", out.reason


@pytest.mark.parametrize("n", [2, 3, 40, 333])
def test_second_moment_at_any_run_length(tmp_path: Path, n: int) -> None:
    g2 = np.random.default_rng(n).chisquare(8, (12, n)) / 4
    low = run_check(P + "sgd:bounded_second_moment", _seeds(g2), Bound(parameters={"G2": 0.5}))
    high = run_check(P + "sgd:bounded_second_moment", _seeds(g2), Bound(parameters={"G2": 50.0}))
    assert low.outcome == ("fails" if n >= 40 else low.outcome) != "holds", low.reason
    assert high.outcome in ({"holds"} if n >= 40 else {"holds", "inconclusive"}), high.reason


def test_one_late_step_above_g2_fails_the_for_all() -> None:
    """"For all t": one step above G² fails the hypothesis, the average does not matter."""
    rng = np.random.default_rng(0)
    g2 = 1.0 + rng.normal(0, 0.01, (8, 4000))
    g2[:, -1] = 9.0
    out = run_check(P + "sgd:bounded_second_moment", _seeds(g2), Bound(parameters={"G2": 2.0}))
    assert out.outcome == "fails" and "t = 4000" in out.reason, out.reason


def test_one_run_fails_only_beyond_markov(tmp_path: Path) -> None:
    g2 = np.random.default_rng(0).chisquare(8, 500) / 4
    run = make_run(tmp_path, metrics={"grad_sq": g2})
    out = run_check(P + "sgd:bounded_second_moment", run, Bound(parameters={"G2": 4.0}))
    assert out.outcome == "inconclusive" and "run group" in out.reason
    g2[7] = 4.0 * 500 / 0.05 * 1.01
    run = make_run(tmp_path, "far", metrics={"grad_sq": g2})
    assert run_check(P + "sgd:bounded_second_moment", run,
                     Bound(parameters={"G2": 4.0})).outcome == "fails"


@pytest.mark.parametrize(("lr", "outcome"), [
    (lambda t: 0.5 / t, "holds"),
    (lambda t: 1.0 / (t + 100) ** 0.7, "holds"),
    (lambda t: 0.1 + 0 * t, "fails"),
    (lambda t: 1 / np.sqrt(t), "fails"),
    (lambda t: 1 / t**2, "fails"),
])
def test_step_size_from_the_logged_lr(tmp_path: Path, lr, outcome: str) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(1, 20001, dtype=float)
    run = make_run(tmp_path, metrics={"step": t, "lr": lr(t)})
    assert run_check(P + "sgd:step_size_schedule", run).outcome == outcome


def test_the_logged_lr_wins_over_a_declared_formula(tmp_path: Path) -> None:
    """The config declares ηₜ = 2/(μt) but the optimiser ran at 0.1: the log is what ran."""
    t = np.arange(1, 101, dtype=float)
    run = make_run(tmp_path, metrics={"lr": 0.1 + 0 * t}, config={"lr_schedule": "2/(mu*t)", "mu": 4})
    out = run_check(P + "sgd:step_size_schedule", run)
    assert out.outcome == "fails" and "logged lr there is 0.1" in out.reason
    agrees = make_run(tmp_path, "agrees", metrics={"lr": 0.5 / t},
                      config={"lr_schedule": "2/(mu*t)", "mu": 4})
    out = run_check(P + "sgd:step_size_schedule", agrees)
    assert out.outcome == "holds" and out.details["rate_constant"] == "0.5"


@pytest.mark.parametrize(("check", "column", "p", "outcome"), [
    ("debate:honest_win_rate", "honest_win", 0.7, "holds"),
    ("debate:honest_win_rate", "honest_win", 0.3, "fails"),
    ("debate:exploitability", "liar_win", 0.02, "holds"),
    ("debate:exploitability", "liar_win", 0.4, "fails"),
])
def test_rate_checks(tmp_path: Path, check: str, column: str, p: float, outcome: str) -> None:
    run = make_run(tmp_path, samples={column: bernoulli(p, 1500)})
    out = run_check(P + check, run)
    assert out.outcome == outcome and out.n == 1500 and out.ci is not None
    assert out.ci.method == "clopper-pearson" and out.seeds == (7,)


def test_rate_check_near_threshold_is_inconclusive(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"honest_win": [1.0] * 180 + [0.0] * 20})  # exactly 0.9
    out = run_check(P + "debate:honest_win_rate", run, Bound(parameters={"q": 0.1}))
    assert out.outcome == "inconclusive"


@pytest.mark.parametrize(("check", "column"), [("debate:judge_leaf_accuracy", "leaf_correct"),
                                               ("debate:honest_always_wins", "liar_win")])
def test_forall_checks_fail_on_one_counterexample(tmp_path: Path, check: str,
                                                  column: str) -> None:
    """∀ leaves / ∀ opponents: 1,499 good items and one counterexample fail (direct); all
    good holds only as a proxy that states its certified bound and the items seen."""
    good = 1.0 if column == "leaf_correct" else 0.0
    items = np.full(1500, good)
    assert run_check(P + check, make_run(tmp_path, "ok", samples={column: items})).outcome \
        == "holds"
    items[700] = 1.0 - good
    out = run_check(P + check, make_run(tmp_path, "one", samples={column: items}))
    assert out.outcome == "fails" and out.kind == "direct" and out.details["violations"] == 1
    assert out.details["first_violation"] == 700


def test_ensemble_checks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 20000
    t = np.arange(1, n + 1)
    sub = (rng.random(n) < 2.0 / np.sqrt(t)).astype(float)  # Q(T) ~ 4√T
    lin = (rng.random(n) < 0.3).astype(float)
    agree = 1 - sub
    good = make_run(tmp_path, "g", metrics={"queried": sub, "agree": agree,
                                            "correct": np.ones(n)})
    bad = make_run(tmp_path, "b", metrics={"queried": lin, "agree": 1 - lin,
                                           "correct": np.where(lin == 0, bernoulli(0.7, n), 1.0)})
    q = run_check(P + "ensemble:query_rate_sublinear", good)
    assert q.outcome == "holds" and 0.3 < q.value < 0.7
    assert run_check(P + "ensemble:query_rate_sublinear", bad).outcome == "fails"
    assert run_check(P + "ensemble:agreement_implies_correct", good).outcome == "holds"
    assert run_check(P + "ensemble:agreement_implies_correct", bad).outcome == "fails"


def test_certificate_and_conformal_checks(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    iid = bernoulli(0.1, 5000, seed=2)
    bursty = np.repeat(bernoulli(0.1, 250, seed=3), 20)
    a, b = rng.normal(size=5000), rng.normal(size=5000)
    ok = make_run(tmp_path, "ok", samples={"failure": iid, "certification": a, "deployment": b,
                                           "calibration_scores": np.abs(a), "test_scores": np.abs(b)})
    drift = np.abs(rng.normal(size=5000)) * np.linspace(1, 3, 5000)
    bad = make_run(tmp_path, "bad", samples={"failure": bursty, "certification": a,
                                             "deployment": b + 0.5, "calibration_scores": np.abs(a),
                                             "test_scores": drift})
    for check in ("certificate:failure_independence", "certificate:same_distribution",
                  "conformal:exchangeability"):
        assert run_check(P + check, ok).outcome == "holds", check
        assert run_check(P + check, bad).outcome == "fails", check


def test_shuffled_drift_is_caught_by_the_trend_alone(tmp_path: Path) -> None:
    """Test scores with the calibration distribution overall but a trend in time."""
    rng = np.random.default_rng(4)
    cal = np.abs(rng.normal(size=4000))
    test = np.sort(np.abs(rng.normal(size=4000)))  # same marginal, monotone in time
    run = make_run(tmp_path, samples={"calibration_scores": cal, "test_scores": test})
    out = run_check(P + "conformal:exchangeability", run)
    assert out.outcome == "fails" and out.details["trend_outcome"] == "fails"


# ------------------------------------------------------------------------------ bad input
def test_missing_data_is_inconclusive_with_the_reason(tmp_path: Path) -> None:
    run = make_run(tmp_path, metrics={"loss": [1.0] * 50})
    for check in ("sgd:strong_convexity", "debate:exploitability",
                  "ensemble:query_rate_sublinear", "conformal:exchangeability"):
        out = run_check(P + check, run)
        assert out.outcome == "inconclusive" and ("no " in out.reason or "snapshots" in out.reason)


def test_nan_and_inf_are_inconclusive(tmp_path: Path) -> None:
    g = np.ones(100)
    g[40] = np.inf
    lr = np.full(100, 0.1)
    lr[3] = np.nan
    run = make_run(tmp_path, metrics={"grad_sq": g, "lr": lr})
    out = run_check(P + "sgd:bounded_second_moment", run, Bound(parameters={"G2": 4.0}))
    assert out.outcome == "fails" and "infinite at t = 41" in out.reason  # E‖gₜ‖² = ∞
    g[40] = np.nan
    run = make_run(tmp_path, "nan", metrics={"grad_sq": g, "lr": lr})
    out = run_check(P + "sgd:bounded_second_moment", run, Bound(parameters={"G2": 4.0}))
    assert out.outcome == "inconclusive" and "NaN" in out.reason and "index 40" in out.reason
    assert run_check(P + "sgd:step_size_schedule", run).outcome == "inconclusive"


def test_too_few_values_and_non_binary(tmp_path: Path) -> None:
    run = make_run(tmp_path, metrics={"lr": [0.1] * 5}, samples={"liar_win": [0.0, 2.0] * 20,
                                                                   "leaf_correct": [1.0] * 5})
    assert "at least 20" in run_check(P + "sgd:step_size_schedule", run).reason
    assert "0/1" in run_check(P + "debate:exploitability", run).reason
    assert run_check(P + "debate:judge_leaf_accuracy", run).outcome == "inconclusive"


def test_a_run_that_sets_its_own_thresholds_is_ignored_with_a_warning(tmp_path: Path) -> None:
    liar = bernoulli(0.3, 400)
    honest = make_run(tmp_path, "a", samples={"liar_win": liar})
    cheat = make_run(tmp_path, "b", samples={"liar_win": liar},
                     config={"thresholds": {"exploitability": 0.9}, "leaf_accuracy": 0.1})
    bound = Bound(parameters={"ε": 0.1})
    fair, tried = (run_check(P + "debate:exploitability", r, bound) for r in (honest, cheat))
    assert fair.outcome == tried.outcome == "fails"
    assert tried.threshold == 0.1 and "warnings" not in fair.details
    assert "come from the claim" in str(tried.details["warnings"])


def test_bad_setting_from_a_claim_is_inconclusive(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"leaf_correct": bernoulli(0.9, 100)})
    out = run_check(P + "debate:judge_leaf_accuracy", run,
                    Bound(settings={"detectable_margin": 2.0}))
    assert out.outcome == "inconclusive" and "outside" in out.reason


def test_a_crashing_check_is_an_error_not_inconclusive(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"liar_win": bernoulli(0.1, 100)})
    out = run_check(P + "debate:exploitability", run, Bound(parameters={"ε": float("nan")}))
    assert out.outcome == "inconclusive"  # a bad value: the data cannot be judged against it
    out = run_check("tests.evidence.test_checks:crashing_check", run)
    assert out.outcome == "error" and "ZeroDivisionError" in out.reason


@hypothesis_check(statistic="none", needs="nothing")
def crashing_check(run: Run, ctx: Context) -> CheckOutcome:
    """A check with a bug."""
    return CheckOutcome(outcome="holds", statistic="x", reason=str(1 / 0))


@pytest.mark.parametrize("name", ["nope", "os:system", "pipeline.evidence.stats:ljung_box",
                                  "pipeline.evidence.checks.sgd:missing", "no.such.module:f",
                                  # a family's check has one name: its package's, not its module's
                                  "pipeline.evidence.checks.sgd.convexity:strong_convexity"])
def test_unknown_checks_are_inconclusive(tmp_path: Path, name: str) -> None:
    run = make_run(tmp_path, metrics={"loss": [1.0]})
    out = run_check(name, run)
    assert out.outcome == "inconclusive" and "check" in out.reason


def test_every_contract_check_exists() -> None:
    from pipeline.evidence.checks import all_checks, resolve_check

    names = {f"{P}sgd:strong_convexity", f"{P}sgd:bounded_second_moment", f"{P}sgd:plain_update",
             f"{P}sgd:step_size_schedule", f"{P}sgd:step_size_exact", f"{P}sgd:distance_rate",
             f"{P}conformal:coverage", f"{P}sgd:initial_radius", f"{P}composition:leaf_error",
             f"{P}debate:honest_always_wins", f"{P}debate:judge_leaf_accuracy",
             f"{P}debate:honest_win_rate", f"{P}debate:exploitability",
             f"{P}debate:alternating_moves", f"{P}debate:depth_bound",
             f"{P}ensemble:agreement_implies_correct", f"{P}ensemble:query_rate_sublinear",
             f"{P}certificate:failure_independence", f"{P}certificate:same_distribution",
             f"{P}conformal:exchangeability", f"{P}llc:regularity",
             f"{P}debate:dishonesty_rate", f"{P}ensemble:query_count",
             f"{P}certificate:trial_count", f"{P}certificate:block_pass_rate",
             f"{P}composition:root_error"}
    assert names == set(all_checks())
    for name in names:
        assert callable(resolve_check(name))
