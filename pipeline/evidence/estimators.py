"""Estimators of theorem variables from a run, for claims that bind a variable to a run
quantity (``lam = { estimate = "step_size_rate" }`` in a claim's ``[parameters]``).

An estimate is computed once per (run, estimator) and shared by every hypothesis and
conclusion check of the claim, so a variable has one value across them. Each returns the
value and one sentence saying how it was obtained (shown in the verdict).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence.models import Run


class EstimateError(Exception):
    """The run cannot give this estimate (missing data)."""


@dataclass(frozen=True)
class Estimator:
    name: str
    description: str
    fn: Callable[[Run], tuple[float, str]]


def step_size_rate(run: Run) -> tuple[float, str]:
    """λ with ηₜ ~ 1/(λt): 1/lim t·ηₜ from the schedule formula (sympy), else 1/(T·η_T)
    at the last logged step."""
    formula = run.config.get("lr_schedule")
    if isinstance(formula, str):
        import sympy as sp

        from pipeline.evidence.schedule import FormulaError, parse_schedule

        try:
            eta, t = parse_schedule(formula, run.config)
            c = sp.limit(t * eta, t, sp.oo)
        except (FormulaError, NotImplementedError, ValueError, TypeError) as exc:
            raise EstimateError(f"cannot take lim t·ηₜ of {formula!r}: {exc}") from exc
        if c.is_positive and c.is_finite and c.is_number:
            return 1.0 / float(c), f"1/lim t·ηₜ of ηₜ = {eta} (sympy)"
        raise EstimateError(f"lim t·ηₜ of ηₜ = {eta} is {c}, not a positive constant")
    lr = run.column("lr")
    if lr is None or lr.shape[0] == 0 or not math.isfinite(float(lr[-1])) or lr[-1] <= 0:
        raise EstimateError("the run has no lr column and no lr_schedule formula")
    steps = run.column("step")
    t_last = float(steps[-1] - steps[0] + 1) if steps is not None else float(lr.shape[0])
    return 1.0 / (t_last * float(lr[-1])), f"1/(T·η_T) at the last logged step T = {t_last:g}"


def grad_second_moment_bound(run: Run) -> tuple[float, str]:
    """G²: the largest upper 97.5 % batch-means bound of the block means of ‖gₜ‖²."""
    from pipeline.evidence.checks.sgd import N_BLOCKS, block_bounds

    g2 = run.column("grad_sq")
    if g2 is None and run.column("grad_norm") is not None:
        g2 = run.column("grad_norm") ** 2  # type: ignore[operator]
    if g2 is None or g2.shape[0] < 2 * N_BLOCKS or not np.isfinite(g2).all():
        raise EstimateError("the run has no usable grad_sq or grad_norm column")
    means, se, _ = block_bounds(g2)
    from scipy import stats as sps
    z = float(sps.norm.ppf(1 - 0.025 / N_BLOCKS))
    return float(np.max(means + z * se)), "largest upper bound of the 20 block means of ‖gₜ‖²"


ESTIMATORS: dict[str, Estimator] = {
    e.name: e for e in (
        Estimator("step_size_rate", "λ from the step sizes: 1/lim t·ηₜ", step_size_rate),
        Estimator("grad_second_moment_bound", "G² from the logged ‖gₜ‖² (upper bound)",
                  grad_second_moment_bound),
    )
}


def estimate(name: str, run: Run) -> tuple[float, str]:
    """The value of estimator ``name`` on ``run``; :class:`EstimateError` if it cannot."""
    est = ESTIMATORS.get(name)
    if est is None:
        raise EstimateError(f"unknown estimator {name!r} (known: {', '.join(sorted(ESTIMATORS))})")
    value, how = est.fn(run)
    if not math.isfinite(value):
        raise EstimateError(f"estimator {name} gave {value}")
    return value, how


__all__ = ["ESTIMATORS", "EstimateError", "Estimator", "estimate"]
