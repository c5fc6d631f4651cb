"""Estimators of theorem variables from a run, for claims that bind a variable to a run
quantity (``lam = { estimate = "step_size_rate", binding = "exact" }`` in a claim's
``[parameters]``).

Each estimator declares the bindings it may serve (``Estimator.bindings``):

* ``exact``: the value is fixed exactly by deterministic logged quantities (the logged step
  sizes), so computing it on the run under test is no statistical choice;
* ``held_out``: a statistical estimate, computed only on the runs a claim sets aside for it
  (``calibration_seeds`` of a run group); the checks never see those runs;
* ``uniform``: a statistical estimate valid uniformly (it accounts for the selection).

A statistical estimate on the sample it then tests is never served: the claims refuse it
when they load (:class:`pipeline.claims.models.Estimate`), ``claims check`` refuses an
estimator under a binding it does not declare, and evaluation refuses it again.

An estimate is computed once per (run, estimator, binding) and shared by every hypothesis
and conclusion check of the claim, so a variable has one value across them. Each returns the
value and one sentence saying how it was obtained (shown in the verdict).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence.models import FloatArray, Run


class EstimateError(Exception):
    """The run cannot give this estimate (missing data), or the binding is refused."""


@dataclass(frozen=True)
class Estimator:
    name: str
    description: str
    fn: Callable[[Run], tuple[float, str]]
    bindings: frozenset[str]
    """The bindings this estimator may serve (``exact``, ``held_out``, ``uniform``)."""


def step_size_rate(run: Run) -> tuple[float, str]:
    """λ with ηₜ = 1/(λt): 1/(T·η_T) of the **logged** step size at the last logged step T.

    The logged lr is what the optimiser used; a declared ``lr_schedule`` is not evidence of
    it (``sgd:step_size_exact`` fails a declaration that contradicts the log)."""
    lr = run.column("lr")
    if lr is None or lr.shape[0] == 0:
        declared = run.config.get("lr_schedule")
        raise EstimateError("the run logs no lr column" + (
            f" (it declares lr_schedule = {declared!r}, but a declaration is not evidence of "
            "the steps taken)" if declared is not None else ""))
    if not math.isfinite(float(lr[-1])) or lr[-1] <= 0:
        raise EstimateError(f"the last logged lr is {float(lr[-1]):g}, not a positive number")
    steps = run.column("step")
    t_last = float(steps[-1] - steps[0] + 1) if steps is not None else float(lr.shape[0])
    return 1.0 / (t_last * float(lr[-1])), (f"1/(T·η_T) of the logged lr at the last logged "
                                           f"step T = {t_last:g}")


def _per_step(run: Run) -> FloatArray:
    """Seeds × steps of ‖gₜ‖² (the members of a run group, or the run as one seed)."""
    members = run.members or (run,)
    rows = []
    for member in members:
        g2 = member.column("grad_sq")
        if g2 is None and member.column("grad_norm") is not None:
            g2 = member.column("grad_norm") ** 2  # type: ignore[operator]
        if g2 is None or g2.shape[0] == 0 or not np.isfinite(g2).all():
            raise EstimateError(f"run {member.id} has no usable grad_sq or grad_norm column")
        rows.append(g2)
    k = min(r.shape[0] for r in rows)
    return np.stack([r[:k] for r in rows])


def grad_second_moment_bound(run: Run) -> tuple[float, str]:
    """G² on calibration runs: the largest, over the logged steps t, of the upper Bonferroni
    t-bound of E‖gₜ‖² across the calibration seeds (at least 2)."""
    g2 = _per_step(run)
    seeds, steps = g2.shape
    if seeds < 2:
        raise EstimateError(f"E‖gₜ‖² needs at least 2 calibration seeds, got {seeds}")
    from scipy import stats as sps

    q = float(sps.t.ppf(1 - 0.025 / steps, seeds - 1))
    upper = g2.mean(axis=0) + q * g2.std(axis=0, ddof=1) / math.sqrt(seeds)
    k = int(np.argmax(upper))
    return float(upper[k]), (f"largest upper bound of E‖gₜ‖² over {steps} steps × {seeds} "
                             f"calibration seeds (at t = {k + 1}; Bonferroni t)")


ESTIMATORS: dict[str, Estimator] = {
    e.name: e for e in (
        Estimator("step_size_rate", "λ from the logged step sizes: 1/(T·η_T)",
                  step_size_rate, frozenset({"exact"})),
        Estimator("grad_second_moment_bound",
                  "G² from the logged ‖gₜ‖² of calibration seeds (upper bound)",
                  grad_second_moment_bound, frozenset({"held_out"})),
    )
}


def estimate(name: str, run: Run, binding: str) -> tuple[float, str]:
    """The value of estimator ``name`` on ``run`` (for ``held_out``: the calibration runs,
    never the runs under test); :class:`EstimateError` if it cannot, or if ``name`` does
    not serve ``binding``."""
    est = ESTIMATORS.get(name)
    if est is None:
        raise EstimateError(f"unknown estimator {name!r} (known: {', '.join(sorted(ESTIMATORS))})")
    if binding not in est.bindings:
        raise EstimateError(
            f"estimator {name} serves {', '.join(sorted(est.bindings))}, not {binding}: "
            + ("it is a statistical estimate, refused on the sample it tests"
               if binding == "exact" else f"it is not valid as a {binding} estimate"))
    value, how = est.fn(run)
    if not math.isfinite(value):
        raise EstimateError(f"estimator {name} gave {value}")
    return value, how


__all__ = ["ESTIMATORS", "EstimateError", "Estimator", "estimate"]
