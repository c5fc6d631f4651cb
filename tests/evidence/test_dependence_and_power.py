"""Per-step series get batch-means intervals (not i.i.d. ones), and a claim about an
expectation needs as many seeds as the shared power rule asks for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.groups import pool_runs
from pipeline.evidence.models import Provenance, Run, Snapshot
from tests.evidence.helpers import P, make_run


def test_agreement_is_a_forall_whatever_the_rate(tmp_path: Path) -> None:
    """h_realizable is a ∀ over agreed answers: 96 % right (8 wrong in 8,000 correlated
    steps) or 99.9 % right from independent steps — a wrong agreed answer fails it either way;
    the effective size of the series does not come into it."""
    rng = np.random.default_rng(5)
    draws = np.ones(200)
    draws[rng.choice(200, 8, replace=False)] = 0.0
    correct = np.repeat(draws, 40)
    agree = np.ones_like(correct)
    run = make_run(tmp_path, metrics={"agree": agree, "correct": correct})
    out = run_check(P + "ensemble:agreement_implies_correct", run)
    assert out.outcome == "fails" and out.details["violations"] == 320, out.reason
    iid = (rng.random(8000) < 0.999).astype(float)
    iid[4000] = 0.0
    out = run_check(P + "ensemble:agreement_implies_correct",
                    make_run(tmp_path, "iid", metrics={"agree": agree, "correct": iid}))
    assert out.outcome == "fails" and out.kind == "direct"


def group(c: float, seeds: int, spread: float) -> Run:
    """``seeds`` runs whose ‖wₜ − w*‖² averages c × the bound 16/t (λ = 0.5, G² = 1)."""
    rng = np.random.default_rng(seeds)
    steps = np.arange(0, 200, 10)
    members = []
    for k in range(seeds):
        e = c * 16.0 / (steps + 1.0) * rng.gamma(1 / spread**2, spread**2, steps.shape[0])
        members.append(Run(id=f"m{k}", kind="t", seed=k, provenance=Provenance(source="t"),
                           samples={"w_star": np.zeros(1)},
                           snapshots=tuple(Snapshot(step=int(s), params=np.array([np.sqrt(v)]))
                                           for s, v in zip(steps, e, strict=True))))
    return pool_runs(members, group_id=f"g{seeds}")


def test_a_too_small_group_is_inconclusive_with_the_seeds_needed() -> None:
    bound = Bound(parameters={"lam": 0.5, "G2": 1.0})
    small = run_check(P + "sgd:distance_rate", group(0.85, 3, 0.1), bound)
    assert small.outcome == "inconclusive", small.reason
    needed = small.details["seeds_needed"]
    assert isinstance(needed, int) and needed > 3 and str(needed) in small.reason
    enough = run_check(P + "sgd:distance_rate", group(0.85, int(needed) + 10, 0.1), bound)
    assert enough.outcome == "holds", enough.reason
    single = run_check(P + "sgd:distance_rate", group(0.85, 3, 0.1).members[0], bound)
    assert single.outcome == "inconclusive" and single.details["seeds_needed"] == 2


def init_group(seeds: int, scale: float) -> Run:
    """``seeds`` runs started at w₁ ~ N(0, scale²·I₂), w* = 0: E‖w₁ − w*‖² = 2·scale²."""
    rng = np.random.default_rng(seeds)
    members = [Run(id=f"i{k}", kind="t", seed=k, provenance=Provenance(source="t"),
                   samples={"w_star": np.zeros(2)},
                   snapshots=(Snapshot(step=0, params=rng.normal(0, scale, 2)),))
               for k in range(seeds)]
    return pool_runs(members, group_id=f"init{seeds}")


def test_h_init_on_a_group_is_the_mean_over_seeds_with_enough_seeds() -> None:
    bound = Bound(parameters={"lam": 1.0, "G2": 1.0})  # 4G²/λ² = 4; E e₁ = 2·1.2² = 2.88
    few = run_check(P + "sgd:initial_radius", init_group(3, 1.0), bound)  # E e₁ = 2
    assert few.outcome == "inconclusive", few.reason
    assert few.details["seeds_needed"] > 3 and str(few.details["seeds_needed"]) in few.reason
    many = run_check(P + "sgd:initial_radius", init_group(200, 1.2), bound)
    assert many.outcome == "holds" and many.n == 200, many.reason
    far = run_check(P + "sgd:initial_radius", init_group(200, 1.8), bound)  # E e₁ = 6.48 > 4
    assert far.outcome == "fails", far.reason
