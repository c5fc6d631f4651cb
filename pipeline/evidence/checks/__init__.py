"""Hypothesis checks: ``def f(run: Run) -> CheckOutcome``, referenced as ``module:function``.

Each check is declared with :func:`hypothesis_check`; :func:`resolve_check` refuses anything
that is not (so a claims file cannot name ``os:system``). Inside a check, :func:`need`
fetches a column and raises :class:`NotApplicable` when the run does not have it (or has
too few or non-finite values); the decorator turns that into an ``inconclusive`` outcome
with the reason.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.errors import EvidenceError
from pipeline.evidence.models import CheckOutcome, FloatArray, Run, inconclusive

CheckFn = Callable[[Run], CheckOutcome]

MODULES: tuple[str, ...] = (
    "pipeline.evidence.checks.sgd",
    "pipeline.evidence.checks.debate",
    "pipeline.evidence.checks.ensemble",
    "pipeline.evidence.checks.certificate",
    "pipeline.evidence.checks.conformal",
    "pipeline.evidence.checks.llc",
)


class NotApplicable(Exception):
    """The run cannot decide this check (missing/insufficient/non-finite data)."""


@dataclass(frozen=True)
class CheckSpec:
    name: str
    """``module:function``."""
    statistic: str
    needs: str
    """What the run must provide, for people (``sequent hypotheses list``)."""
    description: str


def hypothesis_check(*, statistic: str, needs: str) -> Callable[[CheckFn], CheckFn]:
    """Declare ``fn`` a hypothesis check; it may raise :class:`NotApplicable`."""

    def wrap(fn: CheckFn) -> CheckFn:
        spec = CheckSpec(name=f"{fn.__module__}:{fn.__name__}", statistic=statistic,
                         needs=needs, description=(fn.__doc__ or "").strip().split("\n")[0])

        @functools.wraps(fn)
        def check(run: Run) -> CheckOutcome:
            try:
                outcome = fn(run)
            except NotApplicable as exc:
                outcome = inconclusive(statistic, str(exc))
            if not outcome.seeds and run.seeds():
                outcome = outcome.model_copy(update={"seeds": tuple(run.seeds())})
            return outcome

        check.__sequent_check__ = spec  # type: ignore[attr-defined]
        return check

    return wrap


def spec_of(fn: Callable[..., Any]) -> CheckSpec | None:
    return getattr(fn, "__sequent_check__", None)


def resolve_check(name: str) -> CheckFn:
    """The check function named ``module:function``; :class:`EvidenceError` if there is none."""
    module_name, sep, func_name = (name or "").partition(":")
    if not sep or not module_name or not func_name:
        raise EvidenceError(f"check {name!r} is not of the form 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EvidenceError(f"unknown check {name!r}: cannot import {module_name}") from exc
    fn = getattr(module, func_name, None)
    if fn is None or spec_of(fn) is None:
        raise EvidenceError(f"unknown check {name!r}: {module_name} has no hypothesis check "
                            f"{func_name!r}")
    return fn  # type: ignore[no-any-return]


def all_checks() -> dict[str, CheckSpec]:
    """Every built-in check, by name."""
    found: dict[str, CheckSpec] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            spec = spec_of(value) if callable(value) else None
            if spec is not None and spec.name.startswith(module_name + ":"):
                found[spec.name] = spec
    return found


# ------------------------------------------------------------------------ helpers for checks
def need(run: Run, *names: str, min_n: int = 1, binary: bool = False,
         finite: bool = True) -> FloatArray:
    """The first of ``names`` the run has (metric column or sample), validated."""
    for name in names:
        values = run.column(name)
        if values is not None:
            break
    else:
        shown = " or ".join(repr(n) for n in names)
        raise NotApplicable(f"the run (kind {run.kind!r}) has no {shown} data")
    if finite:
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise NotApplicable(f"{name!r} has {bad.size} NaN/inf values (first at index "
                                f"{int(bad[0])}); clean or truncate the run")
    if values.shape[0] < min_n:
        raise NotApplicable(f"{name!r} has {values.shape[0]} values; this check needs "
                            f"at least {min_n}")
    if binary and not np.isin(values, (0.0, 1.0)).all():
        raise NotApplicable(f"{name!r} must hold 0/1 outcomes")
    return values


def setting(run: Run, key: str, default: float | None, *, low: float = -math.inf,
            high: float = math.inf) -> float | None:
    """A threshold from ``run.config["thresholds"][key]`` (or ``run.config[key]``)."""
    table = run.config.get("thresholds")
    raw = table.get(key) if isinstance(table, dict) and key in table else run.config.get(key)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise NotApplicable(f"config value {key!r} must be a finite number, got {raw!r}")
    if not low <= raw <= high:
        raise NotApplicable(f"config value {key!r} = {raw} is outside [{low}, {high}]")
    return float(raw)


def downsample(x: FloatArray, y: FloatArray, points: int = 1500
               ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most ``points`` evenly spaced (x, y) pairs, for plots."""
    if x.shape[0] > points:
        idx = np.linspace(0, x.shape[0] - 1, points).astype(np.int64)
        x, y = x[idx], y[idx]
    return tuple(x.tolist()), tuple(y.tolist())


__all__ = [
    "CheckFn",
    "CheckSpec",
    "NotApplicable",
    "all_checks",
    "downsample",
    "hypothesis_check",
    "need",
    "resolve_check",
    "setting",
    "spec_of",
]
