"""The local learning coefficient: the estimator against known λ (a regular and a singular
model), its diagnostics, and the regularity check on recorded runs (real PyTorch SGLD)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.llc_validation import case, estimate, gaussian_nll, localised_expectation
from pipeline.evidence import llc
from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.models import Snapshot
from pipeline.evidence.sgld import sample_at_snapshot, sample_traces
from tests.evidence.helpers import make_run

pytestmark = pytest.mark.torch

CHECK = "pipeline.evidence.checks.llc:regularity"
FAST = llc.SGLDSettings(step_size=2e-4, gamma=0.1, chains=8, draws=500, burn_in=100)
SINGULAR = llc.SGLDSettings(step_size=1e-3, gamma=1.0, chains=8, draws=400, burn_in=80)
DELTA = Bound(parameters={"δ": 0.3})
"""bic_regular's binding: the claim constant δ = 0.3."""


def _recorded(tmp: Path, name: str, traces: np.ndarray, settings: llc.SGLDSettings, *, n: int,
              d: int):
    return make_run(tmp, name, samples=llc.run_samples(traces),
                    config={"llc": llc.run_config(settings, n=n, d=d)})


def test_regular_model_gives_half_the_parameter_count(tmp_path: Path) -> None:
    c = case("regular", 10_000, seed=0, d=4)
    summary, traces = estimate(c, FAST)
    assert abs(summary.llc - 2.0) < 0.3, summary
    assert summary.ci.low < 2.0 < summary.ci.high or abs(summary.llc - 2.0) < 0.15
    assert summary.r_hat < 1.1 and summary.chains == 8 and summary.draws == 400
    outcome = run_check(CHECK, _recorded(tmp_path, "regular", traces, FAST, n=10_000, d=4),
                        DELTA)
    assert outcome.outcome == "holds", outcome.reason
    assert outcome.threshold == pytest.approx(1.7) and outcome.plot is not None
    assert len(outcome.plot.series) == 8 and outcome.details["r_hat"] == summary.r_hat


def test_singular_product_model_is_below_half_d(tmp_path: Path) -> None:
    """y = a·b·x at a·b = 0: λ = 1/2 < d/2 = 1. At n = 10⁴ and γ = 1 the estimator's exact
    target (quadrature of the localised tempered posterior) is 0.38: the log-correction of a
    multiplicity-2 singularity, which vanishes as n grows."""
    c = case("product", 10_000, seed=0)
    summary, traces = estimate(c, SINGULAR)
    target = localised_expectation("product", 10_000, SINGULAR.gamma)
    assert 0.36 < target < 0.40
    assert summary.ci.low < target < summary.ci.high and abs(summary.llc - target) < 0.15, summary
    assert summary.ci.high < 0.8 and summary.r_hat < 1.1
    outcome = run_check(CHECK, _recorded(tmp_path, "product", traces, SINGULAR, n=10_000,
                                         d=2), DELTA)
    assert outcome.outcome == "fails", outcome.reason
    assert outcome.details["bias_allowance"] == pytest.approx(0.5 - target)
    assert "singular" in outcome.reason and outcome.value == pytest.approx(summary.llc)


def test_diverging_chain_is_inconclusive_with_the_reason(tmp_path: Path) -> None:
    c = case("regular", 2_000, seed=1, d=4)
    wild = llc.SGLDSettings(step_size=0.5, gamma=0.0, chains=2, draws=80, burn_in=10)
    traces = sample_traces(c.model, gaussian_nll, c.data, wild, seed=0)
    with pytest.raises(llc.Unusable, match="diverged"):
        llc.summarise(traces, burn_in=10, d=4)
    outcome = run_check(CHECK, _recorded(tmp_path, "wild", traces, wild, n=2_000, d=4), DELTA)
    assert outcome.outcome == "inconclusive" and "diverged" in outcome.reason
    assert "lower the step size" in outcome.reason


def test_too_short_and_missing_estimates_say_what_is_needed(tmp_path: Path) -> None:
    c = case("regular", 2_000, seed=2, d=4)
    short = llc.SGLDSettings(step_size=3e-4, gamma=0.1, chains=2, draws=40, burn_in=10)
    traces = sample_traces(c.model, gaussian_nll, c.data, short, seed=0)
    outcome = run_check(CHECK, _recorded(tmp_path, "short", traces, short, n=2_000, d=4), DELTA)
    assert outcome.outcome == "inconclusive"
    assert "30 draws after a burn-in of 10" in outcome.reason and "≥ 50" in outcome.reason
    one = make_run(tmp_path, "one", samples=llc.run_samples(traces[:1]),
                   config={"llc": llc.run_config(short, n=2_000, d=4)})
    assert "1 chain(s)" in run_check(CHECK, one, DELTA).reason
    bare = make_run(tmp_path, "bare", metrics={"loss": [1.0, 0.5]})
    assert "no LLC estimate" in run_check(CHECK, bare, DELTA).reason
    assert run_check(CHECK, bare, DELTA).outcome == "inconclusive"


def test_estimate_from_a_runs_snapshot_or_inconclusive_without_one(tmp_path: Path) -> None:
    c = case("regular", 2_000, seed=3, d=4)
    w_star = np.concatenate([p.detach().numpy().ravel() for p in c.model.parameters()])
    with_snap = make_run(tmp_path, "snap", snapshots=[Snapshot(step=9, params=w_star)])
    fresh = case("regular", 2_000, seed=3, d=4).model
    with __import__("torch").no_grad():
        for p in fresh.parameters():
            p.zero_()  # sample_at_snapshot loads w* from the run
    settings = llc.SGLDSettings(step_size=3e-4, gamma=0.1, chains=2, draws=120, burn_in=20)
    traces = sample_at_snapshot(with_snap, fresh, gaussian_nll, c.data, settings)
    assert traces.shape == (2, 120) and np.isfinite(traces).all()
    assert 0.5 < llc.summarise(traces, burn_in=20, d=4).llc < 4.0
    without = make_run(tmp_path, "nosnap", metrics={"loss": [1.0]})
    with pytest.raises(llc.Unusable, match="needs 1 at the trained parameter"):
        sample_at_snapshot(without, fresh, gaussian_nll, c.data, settings)


def test_split_r_hat_detects_disagreeing_chains() -> None:
    rng = np.random.default_rng(0)
    mixed = rng.normal(size=(4, 400))
    assert llc.split_r_hat(mixed) < 1.02
    shifted = mixed + np.array([[0.0], [0.0], [3.0], [3.0]])
    assert llc.split_r_hat(shifted) > 1.5
