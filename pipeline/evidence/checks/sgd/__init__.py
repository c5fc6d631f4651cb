"""Hypotheses of SGD convergence (Chung's lemma): strong convexity, a bounded gradient
second moment, the plain update, the step sizes, the start's distance and the rate.

One module per hypothesis family (``convexity``, ``moment``, ``update``, ``steps``,
``distance``); every check is registered under this package's name,
``pipeline.evidence.checks.sgd:<check>``, the name the claims and the stored verdicts use."""

from __future__ import annotations

from pipeline.evidence.checks.sgd.convexity import optimum_ratios, strong_convexity
from pipeline.evidence.checks.sgd.distance import distance_rate, initial_radius
from pipeline.evidence.checks.sgd.moment import (
    bounded_second_moment,
    free_lower_bounds,
    grad_sq_matrix,
    tail_index,
)
from pipeline.evidence.checks.sgd.steps import (
    declared_against_logged,
    robbins_monro_exponent,
    step_size_exact,
    step_size_schedule,
)
from pipeline.evidence.checks.sgd.update import plain_update

__all__ = [
    "bounded_second_moment",
    "declared_against_logged",
    "distance_rate",
    "free_lower_bounds",
    "grad_sq_matrix",
    "initial_radius",
    "optimum_ratios",
    "plain_update",
    "robbins_monro_exponent",
    "step_size_exact",
    "step_size_schedule",
    "strong_convexity",
    "tail_index",
]
