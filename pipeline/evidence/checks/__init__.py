"""Hypothesis checks: ``def f(run: Run, ctx: Context) -> CheckOutcome``, referenced as
``module:function``.

Each check is declared with :func:`hypothesis_check`; :func:`resolve_check` refuses anything
that is not (so a claims file cannot name ``os:system``). The declaration names the theorem
variables the check reads (``parameters``, e.g. ``lam``: bound by the claim's
``[parameters]`` table) and its own constants (``settings``: a tolerance, a proxy's
threshold, with defaults; set by the claim's hypothesis entry). Thresholds and constants come
**from the claim, never from the run**: a run config that carries ``thresholds`` or a
setting's name is ignored with a warning. Inside a check, :func:`need` fetches a column and
raises :class:`NotApplicable` when the run does not have it (or has too few or non-finite
values); the decorator turns that into an ``inconclusive`` outcome with the reason.
"""

from __future__ import annotations

import functools
import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from pipeline.errors import EvidenceError
from pipeline.evidence.models import (
    CheckOutcome,
    FloatArray,
    PlotData,
    PlotSeries,
    Run,
    inconclusive,
)
from pipeline.models import Frozen

Kind = Literal["direct", "proxy"]
PlotStyle = Literal["line", "scatter", "step", "hist"]


class Bound(Frozen):
    """What a claim binds for one check: theorem variables and the check's settings."""

    claim_id: str | None = None
    parameters: dict[str, float] = Field(default_factory=dict)
    """Check role (e.g. ``lam``) -> value, estimates already resolved."""
    provenance: dict[str, str] = Field(default_factory=dict)
    """Role -> where its value came from (``claim``, ``derived: …``, ``exact: …``,
    ``held_out: …``, ``uniform: …``; see :data:`pipeline.claims.models.BindingKind`); a role
    not listed is a claim constant."""
    settings: dict[str, float] = Field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """A constant of a check (not a theorem variable): a tolerance, a proxy's threshold."""

    default: float
    low: float = -math.inf
    high: float = math.inf
    meaning: str = ""


SEED_GROUP_SETTINGS: dict[str, Setting] = {
    "alpha": Setting(0.05, 1e-6, 0.5, "error rate of the simultaneous intervals over the "
                     "steps, and of the test that fails the check"),
    "power": Setting(0.8, 0.5, 0.99, "power used to size the run group"),
}
"""The settings of a check that estimates an expectation at every logged step across the
seeds of a run group."""


class Context:
    """What a check reads besides the run: the claim's parameters and settings."""

    def __init__(self, spec: CheckSpec, bound: Bound) -> None:
        self.spec = spec
        self.bound = bound
        self.used: dict[str, float] = {}

    def param(self, name: str) -> float:
        """The claim's value of theorem variable ``name``; :class:`NotApplicable` if unbound."""
        value = self.bound.parameters.get(name)
        if value is None:
            raise NotApplicable(
                f"this check needs the theorem variable {name!r} from a claim's [parameters] "
                "table (a run cannot set it)")
        if not math.isfinite(value):
            raise NotApplicable(f"parameter {name!r} = {value} is not finite")
        self.used[name] = value
        return value

    def maybe_param(self, name: str) -> float | None:
        return self.param(name) if name in self.bound.parameters else None

    def setting(self, name: str) -> float:
        """The claim's value of setting ``name`` (validated), else its default."""
        spec = self.spec.settings.get(name)
        if spec is None:
            raise KeyError(f"{self.spec.name} declares no setting {name!r}")
        raw = self.bound.settings.get(name, spec.default)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise NotApplicable(f"setting {name!r} must be a finite number, got {raw!r}")
        if not spec.low <= raw <= spec.high:
            raise NotApplicable(f"setting {name!r} = {raw} is outside [{spec.low}, {spec.high}]")
        self.used[name] = float(raw)
        return float(raw)


CheckFn = Callable[..., CheckOutcome]

MODULES: tuple[str, ...] = (
    "pipeline.evidence.checks.sgd",
    "pipeline.evidence.checks.debate",
    "pipeline.evidence.checks.ensemble",
    "pipeline.evidence.checks.certificate",
    "pipeline.evidence.checks.conformal",
    "pipeline.evidence.checks.composition",
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
    parameters: tuple[str, ...] = ()
    """Theorem variables the check reads (required when the claim is to apply)."""
    optional_parameters: tuple[str, ...] = ()
    """Theorem variables it uses when bound (it tests a weaker proxy without them)."""
    settings: Mapping[str, Setting] = field(default_factory=dict)
    kind: Kind = "direct"
    """``proxy`` when the check measures a weaker quantity than the hypothesis."""
    not_covered: str = ""
    """For a proxy: what the measured quantity does not cover."""
    version: str = "1"


def warn_run_thresholds(run: Run, spec: CheckSpec) -> None:
    """A run that tries to set a threshold or constant: ignored, with a warning."""
    table = run.config.get("thresholds")
    keys = sorted(table) if isinstance(table, dict) else []
    keys += sorted(k for k in spec.settings if k in run.config and k not in keys)
    if keys:
        warnings.warn(f"run {run.id} sets {', '.join(keys)} in its config; thresholds and "
                      "constants come from the claim, the run's values are ignored",
                      UserWarning, stacklevel=3)


def hypothesis_check(
    *, statistic: str, needs: str, parameters: tuple[str, ...] = (),
    optional_parameters: tuple[str, ...] = (), settings: Mapping[str, Setting] | None = None,
    kind: Kind = "direct", not_covered: str = "", version: str = "1", module: str | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Declare ``fn(run, ctx)`` a hypothesis check; it may raise :class:`NotApplicable`.

    Its name is ``module:function`` with ``module`` the one that defines it, unless
    ``module`` is given: a family of checks kept in a package's submodules passes
    ``__package__`` and is registered (and re-exported) under the package's name."""

    def wrap(fn: CheckFn) -> CheckFn:
        spec = CheckSpec(name=f"{module or fn.__module__}:{fn.__name__}", statistic=statistic,
                         needs=needs, description=(fn.__doc__ or "").strip().split("\n")[0],
                         parameters=parameters, optional_parameters=optional_parameters,
                         settings=dict(settings or {}), kind=kind, not_covered=not_covered,
                         version=version)

        @functools.wraps(fn)
        def check(run: Run, bound: Bound | None = None) -> CheckOutcome:
            ctx = Context(spec, bound or Bound())
            warn_run_thresholds(run, spec)
            try:
                outcome = fn(run, ctx)
            except NotApplicable as exc:
                outcome = inconclusive(statistic, str(exc))
            update: dict[str, Any] = {"check_version": spec.version,
                                      "parameters": {**ctx.used, **outcome.parameters}}
            bound_roles = (bound or Bound()).parameters
            update["provenance"] = {
                role: (bound or Bound()).provenance.get(role, "claim")
                for role in ctx.used if role in bound_roles} | outcome.provenance
            if outcome.kind == "direct" and spec.kind == "proxy":
                update |= {"kind": "proxy", "not_covered": spec.not_covered or None}
            if not outcome.seeds and run.seeds():
                update["seeds"] = tuple(run.seeds())
            return outcome.model_copy(update=update)

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
    fn: CheckFn | None = getattr(module, func_name, None)
    spec = spec_of(fn) if fn is not None else None
    if fn is None or spec is None:
        raise EvidenceError(f"unknown check {name!r}: {module_name} has no hypothesis check "
                            f"{func_name!r}")
    if spec.name != name:  # one name per check: the one its verdicts are stored under
        raise EvidenceError(f"unknown check {name!r}: it is registered as {spec.name!r}")
    return fn


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


def downsample(x: FloatArray, y: FloatArray, points: int = 1500
               ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most ``points`` evenly spaced (x, y) pairs, for plots."""
    if x.shape[0] > points:
        idx = np.linspace(0, x.shape[0] - 1, points).astype(np.int64)
        x, y = x[idx], y[idx]
    return tuple(x.tolist()), tuple(y.tolist())


def series_plot(x: FloatArray, y: FloatArray, *, label: str, title: str, xlabel: str,
                ylabel: str, style: PlotStyle = "line", hlines: tuple[tuple[str, float], ...] = (),
                logx: bool = False, logy: bool = False) -> PlotData:
    """A plot of one series, ``(x, y)`` downsampled (:func:`downsample`)."""
    xs, ys = downsample(x, y)
    return PlotData(title=title, xlabel=xlabel, ylabel=ylabel, hlines=hlines, logx=logx,
                    logy=logy, series=(PlotSeries(label=label, x=xs, y=ys, style=style),))


__all__ = [
    "SEED_GROUP_SETTINGS",
    "Bound",
    "CheckFn",
    "CheckSpec",
    "Context",
    "Kind",
    "NotApplicable",
    "Setting",
    "all_checks",
    "downsample",
    "hypothesis_check",
    "need",
    "resolve_check",
    "series_plot",
    "spec_of",
    "warn_run_thresholds",
]
