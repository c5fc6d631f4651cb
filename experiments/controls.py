"""Positive and negative controls for every hypothesis check.

A positive control is a run on which the hypothesis holds by construction; a negative
control violates it by construction (a constant step size against Robbins–Monro, drifting
data against exchangeability, ...). ``CONTROLS[check]`` gives both; tests assert that each
check separates them, and the demo/report can show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from experiments import REFERENCE
from pipeline.errors import NotFoundError
from pipeline.evidence.checks import Bound
from pipeline.evidence.estimators import estimate
from pipeline.evidence.models import Run

P = "pipeline.evidence.checks."


@dataclass(frozen=True)
class Control:
    check: str
    experiment: str
    variant: str
    expected: Literal["holds", "fails"]
    parameters: Mapping[str, float | str] = field(default_factory=dict)
    """What the claim would bind: a number (binding ``claim``), or the name of an estimator
    that serves the ``exact`` binding (a deterministic logged quantity of the run)."""
    settings: Mapping[str, float] = field(default_factory=dict)
    seeds: int = 1
    """More than 1: the control is a run group of seeds 0 … seeds − 1 (a check of an
    expectation over training noise reads it across seeds)."""

    def run(self, out_dir: Path | str, seed: int = 0, quick: bool = False) -> Path:
        """Run the control experiment; returns its run directory (a run group's directory,
        one ``seed<kkkk>`` run inside per seed, when ``seeds`` > 1)."""
        if self.seeds == 1:
            return REFERENCE[self.experiment](out_dir, seed, quick, variant=self.variant)
        root = Path(out_dir)
        for k in range(seed, seed + self.seeds):  # zero-padded: the group lists them in order
            REFERENCE[self.experiment](root / f"seed{k:04d}", k, quick, variant=self.variant)
        return root

    def load(self, out_dir: Path | str, seed: int = 0, quick: bool = False) -> Run:
        """Run the control experiment and load it (as a run group when ``seeds`` > 1)."""
        from pipeline.evidence.groups import load_group
        from pipeline.evidence.runs import load_run

        path = self.run(out_dir, seed, quick)
        return load_group(path) if self.seeds > 1 else load_run(path)

    def bound(self, run: Run) -> Bound:
        """The claim-side binding of the check on ``run``: numbers as claim constants,
        estimators as exact bindings (an estimator that is not exact is refused)."""
        values: dict[str, float] = {}
        how: dict[str, str] = {}
        for name, value in self.parameters.items():
            if isinstance(value, str):
                values[name], text = estimate(value, run, "exact")
                how[name] = f"exact: {value}: {text}"
            else:
                values[name], how[name] = float(value), "claim"
        return Bound(parameters=values, provenance=how, settings=dict(self.settings))


def _pair(check: str, experiment: str, negative: str, neg_experiment: str | None = None, *,
          positive: str = "reference", parameters: Mapping[str, float | str] | None = None,
          neg_parameters: Mapping[str, float | str] | None = None,
          settings: Mapping[str, float] | None = None, seeds: int = 1
          ) -> tuple[Control, Control]:
    return (Control(P + check, experiment, positive, "holds", dict(parameters or {}),
                    dict(settings or {}), seeds),
            Control(P + check, neg_experiment or experiment, negative, "fails",
                    dict(neg_parameters if neg_parameters is not None else parameters or {}),
                    dict(settings or {}), seeds))


CONTROLS: dict[str, tuple[Control, Control]] = {
    pair[0].check: pair
    for pair in (
        # sgd_chung's own binding on both sides: λ exact from the logged lr, G² = 4
        _pair("sgd:strong_convexity", "sgd_quadratic", "nonconvex",
              parameters={"lam": "step_size_rate"}),
        _pair("sgd:initial_radius", "sgd_logistic", "far_start", positive="chung",
              parameters={"lam": "step_size_rate", "G2": 4.0}),
        _pair("sgd:step_size_exact", "sgd_logistic", "reference", positive="chung",
              parameters={"lam": "step_size_rate"}),
        # sgd_chung's own binding: G² = 4, a claim constant; 12 seeds, E‖gₜ‖² at every t
        _pair("sgd:bounded_second_moment", "sgd_noise", "spike", positive="gaussian",
              parameters={"G2": 4.0}, seeds=12),
        _pair("sgd:plain_update", "sgd_logistic", "adam", positive="chung"),
        _pair("sgd:step_size_schedule", "sgd_logistic", "constant_lr"),
        _pair("debate:judge_leaf_accuracy", "debate", "weak_judge"),
        _pair("debate:honest_win_rate", "debate", "inverted_judge"),
        _pair("debate:exploitability", "debate", "weak_judge"),
        _pair("debate:honest_always_wins", "debate", "weak_judge"),
        _pair("debate:dishonesty_rate", "debate", "weak_judge",
              parameters={"q": 0.05, "ε": 0.05}),
        _pair("debate:alternating_moves", "debate", "out_of_turn"),
        _pair("debate:depth_bound", "debate", "deep_tree", parameters={"d": 8.0}),
        _pair("ensemble:agreement_implies_correct", "mentor", "unrealizable"),
        _pair("ensemble:query_rate_sublinear", "ensemble", "frozen"),
        _pair("certificate:failure_independence", "certificate", "bursty"),
        _pair("certificate:same_distribution", "certificate", "shifted"),
        _pair("certificate:trial_count", "certificate", "short",
              parameters={"m": 1000.0, "j": 3.0}),
        _pair("composition:leaf_error", "prover_estimator", "noisy_leaves",
              parameters={"δ": 0.05}),
        _pair("composition:root_error", "prover_estimator", "noisy_leaves",
              parameters={"δ": 0.05}),
        _pair("conformal:exchangeability", "conformal", "drift"),
        _pair("llc:regularity", "llc_regression", "singular", parameters={"δ": 0.3}),
    )
}


def controls_for(check: str) -> tuple[Control, Control]:
    """(positive, negative) controls of ``check`` (``module:function``)."""
    try:
        return CONTROLS[check]
    except KeyError:
        raise NotFoundError(f"no controls for check {check!r}") from None


def positive(check: str) -> Control:
    return controls_for(check)[0]


def negative(check: str) -> Control:
    return controls_for(check)[1]


__all__ = ["CONTROLS", "Control", "controls_for", "negative", "positive"]
