"""Valid runs for every conclusion check: runs on which the claim's hypotheses hold by
construction, drawn in the conclusion's own probability space and placed at the worst case
the guarantee allows (coverage exactly at its exact law, a dishonest-answer rate exactly at
the certified bound, a run group whose mean distance is exactly the certified bound). A
conclusion that fails on one of them is a false soundness alarm;
``benchmarks/bench_false_rates.py`` measures the rate per check (target ≤ 5 %).

``VALID[check] = ValidRun(check, claim_id, make, what)``; ``make(seed) -> (Run, Bound)``
with the claim's own binding.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments import REFERENCE
from experiments.near_threshold import _distance
from pipeline.evidence.checks import Bound
from pipeline.evidence.models import Provenance, Run
from pipeline.evidence.runs import load_run

P = "pipeline.evidence.checks."
Maker = Callable[[int], tuple[Run, Bound]]


@dataclass(frozen=True)
class ValidRun:
    check: str
    claim_id: str
    make: Maker
    what: str


def _run(seed: int, **samples: object) -> Run:
    return Run(id=f"valid-{seed}", kind="valid", seed=seed, samples=samples,  # type: ignore[arg-type]
               provenance=Provenance(source="valid-run control"))


def _exchangeable(seed: int) -> tuple[Run, Bound]:
    """2,500 calibration and 2,500 test scores, i.i.d. |N(0, 1)| (the experiment's sizes)."""
    rng = np.random.default_rng(seed)
    return (_run(seed, calibration_scores=np.abs(rng.normal(size=2500)),
                 test_scores=np.abs(rng.normal(size=2500))), Bound(parameters={"α": 0.1}))


def _no_liar_win(seed: int) -> tuple[Run, Bound]:
    return _run(seed, liar_win=np.zeros(2000)), Bound()


def _dishonest_at_bound(seed: int) -> tuple[Run, Bound]:
    """2,000 answers, dishonest with probability exactly (q + ε)/(1 − q) = 0.1/0.95."""
    rng = np.random.default_rng(seed)
    answers = (rng.random(2000) < 0.1 / 0.95).astype(float)
    return _run(seed, dishonest_answer=answers), Bound(parameters={"q": 0.05, "ε": 0.05})


def _experiment(name: str, bound: Bound) -> Maker:
    """The real reference experiment at quick settings (valid by construction)."""
    def make(seed: int) -> tuple[Run, Bound]:
        with tempfile.TemporaryDirectory() as tmp:
            return load_run(REFERENCE[name](Path(tmp) / "r", seed, True)), bound
    return make


def _blocks(seed: int) -> tuple[Run, Bound]:
    """200,000 independent trials at the unsafe rate 1.5/m (m = 1,000, j = 3): the rate is
    shown ≥ 1/m, and a block of m passes with probability (1 − 0.0015)^1000 = 0.22."""
    rng = np.random.default_rng(seed)
    return (_run(seed, failure=(rng.random(200_000) < 1.5e-3).astype(float)),
            Bound(parameters={"m": 1000.0, "j": 3.0}))


VALID: dict[str, ValidRun] = {row.check: row for row in (
    ValidRun(P + "conformal:coverage", "conformal_coverage", _exchangeable,
             "exchangeable scores, 2,500 + 2,500 (coverage at its exact law)"),
    ValidRun(P + "debate:honest_always_wins", "debate_tree", _no_liar_win,
             "2,000 debates, no liar win"),
    ValidRun(P + "debate:dishonesty_rate", "debate_equilibrium", _dishonest_at_bound,
             "dishonest answers exactly at the bound 0.105, 2,000 answers"),
    ValidRun(P + "ensemble:query_count", "mentor_queries", _experiment("mentor", Bound()),
             "the mentor protocol (real experiment, quick)"),
    ValidRun(P + "composition:root_error", "prover_estimator_composition",
             _experiment("prover_estimator", Bound(parameters={"δ": 0.05})),
             "stable arguments, leaves within δ (real experiment, quick)"),
    ValidRun(P + "certificate:block_pass_rate", "zero_failure_certificate", _blocks,
             "independent trials at rate 1.5/m, 200,000 trials"),
    ValidRun(P + "sgd:distance_rate", "sgd_chung", _distance(1.0),
             "20 seeds, mean ‖wₜ − w*‖² exactly at the bound 4G²/(λ²t)"),
)}


__all__ = ["VALID", "ValidRun"]
