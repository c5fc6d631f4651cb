"""Evaluating claims' empirical hypotheses and conclusions on a run, and whether a claim
applies to it.

:func:`run_check` never raises for a problem of the run or the check: an unknown check name
or missing data becomes ``inconclusive`` with the reason; a check that crashes becomes
``error`` (a defect of the check, shown as such). :func:`check_run` is what
``sequent hypotheses check`` calls: load the run, find the hypotheses and conclusions, bind
the claim's parameters (estimating those bound to run quantities once per run), run each
distinct (check, binding) once, draw the plots, store the verdicts.

:func:`application` decides what a claim's verdicts on one run mean: it *applies* when the
proof is accepted, every empirical hypothesis holds — both its statistical verdict and,
when one was recorded, its pytest verdict — every conclusion the claim checks holds on the
run (a missing or inconclusive one leaves it "hypotheses hold; conclusion unverified") and
no certified bound is vacuous ("hypotheses hold; certified bound vacuous"). When every
hypothesis holds and a conclusion fails, that is a **soundness alarm**: the checks or the
formalization are wrong.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field

from pipeline.errors import EvidenceError, SequentError
from pipeline.evidence.checks import Bound, resolve_check
from pipeline.evidence.estimators import EstimateError, estimate
from pipeline.evidence.models import (
    CheckOutcome,
    HypothesisVerdict,
    Run,
    error,
    inconclusive,
)
from pipeline.evidence.plots import render
from pipeline.evidence.runs import load_run, run_digest
from pipeline.models import Frozen
from pipeline.settings import Settings


class EstimateSource(Frozen):
    """A check variable the claim binds to an estimator, with its declared binding."""

    estimate: str
    binding: Literal["exact", "held_out", "uniform"]
    calibration_seeds: tuple[int, ...] = ()
    """``held_out``: the run group's seeds the estimate is computed on (never tested)."""
    factor: float = 1.0


class Target(Frozen):
    """One empirical hypothesis (or conclusion) to evaluate, with what the claim binds."""

    claim_id: str
    binder: str
    check: str
    role: Literal["hypothesis", "conclusion"] = "hypothesis"
    parameters: dict[str, float] = Field(default_factory=dict)
    """Check variable -> the claim's number (a constant, or derived from constants)."""
    provenance: dict[str, str] = Field(default_factory=dict)
    """Check variable -> ``claim`` or ``derived: <formula>`` for the numbers above."""
    estimates: dict[str, EstimateSource] = Field(default_factory=dict)
    """Check variable -> estimator and binding (resolved once per run)."""
    settings: dict[str, float] = Field(default_factory=dict)

    @property
    def held_out(self) -> frozenset[int]:
        """The seeds this target's estimates are calibrated on: the checks never see them."""
        return frozenset(s for e in self.estimates.values() for s in e.calibration_seeds)


class _Hypothesis(Protocol):
    binder: str
    check: str | None
    assumed: bool


def run_check(check: str, run: Run, bound: Bound | None = None) -> CheckOutcome:
    """The outcome of the check named ``module:function`` on ``run`` (never raises)."""
    try:
        fn = resolve_check(check)
    except EvidenceError as exc:
        return inconclusive("unknown", str(exc))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = fn(run, bound)
        except SequentError as exc:
            return error("error", f"{check} could not evaluate the run: {exc}")
        except Exception as exc:  # noqa: BLE001 - a broken check must not abort the others
            return error("error", f"{check} raised {type(exc).__name__}: {exc}")
    if caught:
        notes = "; ".join(sorted({f"{w.category.__name__}: {w.message}" for w in caught}))
        outcome = outcome.model_copy(update={"details": {**outcome.details,
                                                         "warnings": notes[:500]}})
    return outcome


def _claim_numbers(table: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """The claim's constants and derived parameters as numbers, with their provenance
    (derived formulas over constants only, in dependency order; the safe formula parser)."""
    numbers = {k: float(v) for k, v in table.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    provenance = dict.fromkeys(numbers, "claim")
    pending = {k: v.derived for k, v in table.items() if isinstance(getattr(v, "derived", None), str)}
    while pending:
        progressed = False
        for name, formula in list(pending.items()):
            try:
                _text, values = fill_guarantee("{" + formula + "}", numbers)
            except EvidenceError:
                continue
            numbers[name], provenance[name] = values[0], f"derived: {formula} = {values[0]:.6g}"
            del pending[name]
            progressed = True
        if not progressed:
            break  # unresolved: the check reports the variable as unbound
    return numbers, provenance


def _binding(claim: Any, entry: Any, check: str
             ) -> tuple[dict[str, float], dict[str, str], dict[str, EstimateSource]]:
    """The claim's values for the variables ``check`` reads (mapped by ``entry.parameters``):
    numbers with their provenance, and estimators with their declared binding."""
    from pipeline.evidence.checks import spec_of

    try:
        spec = spec_of(resolve_check(check))
    except EvidenceError:
        return {}, {}, {}
    if spec is None:
        return {}, {}, {}
    table: dict[str, Any] = dict(getattr(claim, "parameters", {}) or {})
    constants, origin = _claim_numbers(table)
    mapping: dict[str, str] = dict(getattr(entry, "parameters", {}) or {})
    numbers: dict[str, float] = {}
    provenance: dict[str, str] = {}
    estimates: dict[str, EstimateSource] = {}
    for role in (*spec.parameters, *spec.optional_parameters):
        name = mapping.get(role, role)
        value = table.get(name)
        if name in constants:
            numbers[role], provenance[role] = constants[name], origin[name]
        elif value is not None and isinstance(est := getattr(value, "estimate", None), str):
            estimates[role] = EstimateSource(
                estimate=est, binding=value.binding,
                calibration_seeds=tuple(value.calibration_seeds), factor=float(value.factor))
    return numbers, provenance, estimates


def targets_of(registry: Any, claim_id: str | None = None, *,
               conclusions: bool = True) -> list[Target]:
    """The empirical hypotheses (``check`` set, not ``assumed``) and conclusion checks of one
    claim or of all, each with the parameters and settings its claim binds."""
    claims = [registry.get(claim_id)] if claim_id is not None else list(registry.claims)
    out: list[Target] = []
    for claim in claims:
        for hyp in claim.hypotheses:
            if hyp.check and not hyp.assumed:
                numbers, provenance, estimates = _binding(claim, hyp, hyp.check)
                out.append(Target(claim_id=claim.id, binder=hyp.binder, check=hyp.check,
                                  parameters=numbers, provenance=provenance,
                                  estimates=estimates,
                                  settings=dict(getattr(hyp, "settings", {}) or {})))
        for concl in getattr(claim, "conclusions", ()) if conclusions else ():
            numbers, provenance, estimates = _binding(claim, concl, concl.check)
            out.append(Target(claim_id=claim.id, binder=concl.name, check=concl.check,
                              role="conclusion", parameters=numbers, provenance=provenance,
                              estimates=estimates, settings=dict(concl.settings)))
    return out


def split_held_out(run: Run, seeds: frozenset[int]) -> tuple[Run | None, Run | None, str]:
    """(calibration runs, runs under test, why) of ``run`` for estimates calibrated on
    ``seeds``: a run group's members are split by seed; a single run whose seed is a
    calibration seed is refused (``None`` to test), one that is not has no calibration data
    in it (``None`` to calibrate on)."""
    from pipeline.evidence.groups import pool_runs

    if not seeds:
        return None, run, ""
    if not run.members:
        if run.seed is not None and run.seed in seeds:
            return None, None, (f"run {run.id} (seed {run.seed}) is one of the calibration "
                                "seeds: a held-out estimate's test may not use it")
        return None, run, (f"the calibration seeds {sorted(seeds)} are not in run {run.id}: "
                           "check a run group that holds them and the seeds under test")
    cal = [m for m in run.members if m.seed in seeds]
    rest = [m for m in run.members if m.seed not in seeds]
    why = ""
    shared = {run_digest(m) for m in cal} & {run_digest(m) for m in rest}
    if shared:  # the same draws under another seed number are not held out
        return None, None, ("a calibration run and a tested run hold the same data (a copy "
                            "under another seed): the estimate would be tested on its own sample")
    if not cal:
        why = f"the group holds none of the calibration seeds {sorted(seeds)}"
    elif not rest:
        why = "every seed of the group is a calibration seed: none is left to test"

    def pooled(members: list[Run], tag: str) -> Run | None:
        if not members:
            return None
        if len(members) == 1:
            return members[0]
        return pool_runs(members, group_id=f"{run.id}:{tag}", path=run.path)

    return pooled(cal, "calibration"), pooled(rest, "tested"), why


def _bind_estimates(run: Run, target: Target, calibration: tuple[Run | None, str],
                    estimated: dict[str, tuple[float, str] | str]
                    ) -> tuple[dict[str, float], dict[str, str], list[str]]:
    """The target's parameters with its estimates bound (each estimator computed once, kept
    in ``estimated``), where each value came from, and the roles that could not be bound.
    ``calibration``: the group's calibration runs for a ``held_out`` estimate (or why none)."""
    calibration_run, why = calibration
    values = dict(target.parameters)
    how = dict(target.provenance)
    missing: list[str] = []
    for role, src in target.estimates.items():
        key = src.model_dump_json()
        if key not in estimated:
            source_run = calibration_run if src.binding == "held_out" else run
            try:
                if source_run is None:
                    raise EstimateError(why or "no calibration runs")
                value, text = estimate(src.estimate, source_run, src.binding)
                estimated[key] = (value * src.factor, text + (
                    f", times the claim's factor {src.factor:g}" if src.factor != 1 else ""))
            except EstimateError as exc:
                estimated[key] = str(exc)
        got = estimated[key]
        if isinstance(got, str):
            missing.append(f"{role} (estimator {src.estimate}, {src.binding}: {got})")
        else:
            seeds = (f" on calibration seeds {', '.join(map(str, src.calibration_seeds))}"
                     if src.binding == "held_out" else "")
            values[role] = got[0]
            how[role] = f"{src.binding}: {src.estimate}{seeds}: {got[1]}"
    return values, how, missing


def evaluate(run: Run, targets: Sequence[Target], *, plot_dir: Path | None = None
             ) -> list[HypothesisVerdict]:
    """Verdicts for ``targets`` on ``run``; each distinct (check, binding) runs once and each
    estimator is computed once, so a variable has one value across a claim's checks.

    A ``held_out`` estimate is computed on the group's calibration seeds only, and every
    check of a target that uses it sees only the other seeds."""
    digest = run_digest(run)
    estimated: dict[str, tuple[float, str] | str] = {}
    outcomes: dict[str, CheckOutcome] = {}
    plots: dict[str, str | None] = {}
    verdicts = []
    for target in targets:
        calibration, tested, why = split_held_out(run, target.held_out)
        values, how, missing = _bind_estimates(run, target, (calibration, why), estimated)
        bound = Bound(claim_id=target.claim_id, parameters=values, provenance=how,
                      settings=target.settings)
        key = bound.model_dump_json() + target.check
        if missing or tested is None:
            outcome = inconclusive("estimate", "cannot bind " + "; ".join(missing) if missing
                                   else why)
            outcome = outcome.model_copy(update={"provenance": how})
            plot = None
        elif key not in outcomes:
            outcome = run_check(target.check, tested, bound)
            if tested is not run:
                outcome = outcome.model_copy(update={"details": {
                    **outcome.details, "held_out_seeds": ",".join(
                        str(s) for s in sorted(target.held_out)),
                    "tested_seeds": ",".join(str(s) for s in tested.seeds())}})
            outcomes[key] = outcome
            plots[key] = plot = _draw(outcome, target.check, run, plot_dir)
        else:
            outcome, plot = outcomes[key], plots[key]
        outcome = outcome.model_copy(update={"data_hash": digest})
        verdicts.append(HypothesisVerdict.from_outcome(
            outcome, claim_id=target.claim_id, binder=target.binder, check=target.check,
            run_id=run.id, plot=plot, role=target.role))
    return verdicts


def _draw(outcome: CheckOutcome, check: str, run: Run, plot_dir: Path | None) -> str | None:
    if plot_dir is None or outcome.plot is None:
        return None
    name = check.replace(":", ".").replace("/", "_") + ".png"
    try:
        return str(render(outcome.plot, plot_dir / name,
                          subtitle=f"run {run.id}: {outcome.outcome}"))
    except EvidenceError:
        return None


def check_run(settings: Settings, registry: Any, run_dir: Path | str,
              claim_id: str | None = None, *, plots: bool = True, store: bool = True,
              checks: Sequence[str] = (), group: bool = False) -> list[HypothesisVerdict]:
    """Evaluate every empirical hypothesis and conclusion (of one claim, or all) on the run in
    ``run_dir``.

    With ``checks`` given, evaluate those checks directly (claim ``-``, binder = check name,
    no claim parameters) and ignore the registry. With ``group``, ``run_dir`` holds one run
    directory per seed (:func:`pipeline.evidence.groups.load_group`). Verdicts are stored
    unless ``store`` is false.
    """
    if group:
        from pipeline.evidence.groups import load_group

        run = load_group(run_dir)
    else:
        run = load_run(run_dir)
    if checks:
        targets = [Target(claim_id=claim_id or "-", binder=c.rpartition(":")[2], check=c)
                   for c in checks]
    else:
        targets = targets_of(registry, claim_id)
    plot_dir = _plot_dir(settings, run) if plots else None
    verdicts = evaluate(run, targets, plot_dir=plot_dir)
    if store:
        from pipeline.evidence.store import save_verdicts
        from pipeline.store.db import Database

        db = Database(settings.db_url)
        try:
            verdicts = save_verdicts(db, run, verdicts)
        finally:
            db.close()
    return verdicts


def _plot_dir(settings: Settings, run: Run) -> Path:
    if run.path is not None:
        folder = run.path / "evidence"
        try:
            folder.mkdir(exist_ok=True)
            probe = folder / ".write-test"
            probe.touch()
            probe.unlink()
            return folder
        except OSError:
            pass
    return settings.state / "evidence" / run.id


class Application(Frozen):
    """What a claim's verdicts on one run mean."""

    applies: bool
    """Proved, every empirical hypothesis holds (statistical and pytest verdicts both), every
    conclusion the claim checks has a verdict that holds (none unverified, none failing), and
    no certified bound is vacuous."""
    hypotheses_hold: bool = False
    """Every empirical hypothesis holds (whatever the proof and the conclusions say)."""
    via_proxy: tuple[str, ...] = ()
    """Hypotheses (and conclusions) that hold only through a proxy measurement."""
    disagreements: tuple[str, ...] = ()
    """Hypotheses whose pytest and statistical verdicts disagree."""
    errors: tuple[str, ...] = ()
    """Hypotheses or conclusions whose check crashed."""
    alarms: tuple[str, ...] = ()
    """Soundness alarms: every hypothesis holds and these conclusions fail."""
    unverified: tuple[str, ...] = ()
    """Conclusions the claim checks that are not verified on this run: no verdict, an
    inconclusive one, or a crashed check."""
    vacuous: tuple[str, ...] = ()
    """Conclusions whose certified bound, with the claim's numbers, says nothing."""

    @property
    def label(self) -> str:
        if self.alarms:
            return "soundness alarm"
        if self.applies:
            return "applies through proxies" if self.via_proxy else "applies"
        if self.hypotheses_hold and self.vacuous:
            return "hypotheses hold; certified bound vacuous"
        if self.hypotheses_hold and self.unverified:
            return "hypotheses hold; conclusion unverified"
        return "does not apply"


def _latest(verdicts: Iterable[HypothesisVerdict]
            ) -> tuple[dict[tuple[str, str], HypothesisVerdict], dict[str, HypothesisVerdict]]:
    hyps: dict[tuple[str, str], HypothesisVerdict] = {}
    concl: dict[str, HypothesisVerdict] = {}
    for v in verdicts:
        if v.role == "conclusion":
            concl[v.binder] = v
        else:
            hyps[(v.binder, v.source)] = v
    return hyps, concl


def application(claim_status: Any, verdicts: Iterable[HypothesisVerdict],
                required: Iterable[str] | None = None, *,
                conclusions: Iterable[str] | None = None,
                vacuous: Iterable[str] | None = None) -> Application:
    """See :class:`Application`. ``claim_status`` and ``required`` as in :func:`applies`;
    ``verdicts`` in recorded order (the latest per binder and source counts).

    ``conclusions`` names the conclusion checks the claim declares (each must hold for the
    claim to apply); ``vacuous`` the conclusions whose certified bound says nothing. Both are
    read from ``claim_status.claim`` when it has one (:func:`vacuous_conclusions`); without
    a claim, the conclusions are those with a verdict and none is vacuous."""
    proved = claim_status if isinstance(claim_status, bool) else bool(
        getattr(claim_status, "proved", False))
    verdicts = list(verdicts)
    hyps, concl = _latest(verdicts)
    claim = getattr(claim_status, "claim", None)
    if required is None:
        declared: Iterable[_Hypothesis] | None = getattr(claim, "hypotheses", None)
        required = ([h.binder for h in declared if h.check and not h.assumed]
                    if declared is not None else sorted({b for b, _ in hyps}))
    if conclusions is None:
        declared_c = getattr(claim, "conclusions", None)
        conclusions = ([c.name for c in declared_c] if declared_c is not None
                       else list(concl))
    if vacuous is None:
        vacuous = vacuous_conclusions(claim, verdicts) if claim is not None else ()
    required = list(required)
    holds_all = True
    via_proxy, disagree, errors = [], [], []
    for binder in required:
        stat, test = hyps.get((binder, "check")), hyps.get((binder, "pytest"))
        present = [v for v in (stat, test) if v is not None]
        # the statistical verdict is needed; a pytest verdict, when recorded, must agree
        if stat is None or not all(v.holds for v in present):
            holds_all = False
        if stat is not None and test is not None and stat.outcome != test.outcome:
            disagree.append(binder)
        if any(v.outcome == "error" for v in present):
            errors.append(binder)
        if stat is not None and stat.holds and stat.kind == "proxy":
            via_proxy.append(binder)
    alarms, unverified, failing = [], [], []
    for name in dict.fromkeys([*conclusions, *concl]):
        v = concl.get(name)
        if v is not None and v.outcome == "error":
            errors.append(name)
        if v is not None and v.outcome == "fails":
            failing.append(name)
            if holds_all and required:
                alarms.append(name)
        elif v is None or not v.holds:
            unverified.append(name)
        elif v.kind == "proxy":
            via_proxy.append(name)
    empty = tuple(dict.fromkeys(vacuous))
    return Application(applies=proved and holds_all and not failing and not unverified
                       and not empty,
                       hypotheses_hold=holds_all, via_proxy=tuple(via_proxy),
                       disagreements=tuple(disagree), errors=tuple(errors),
                       alarms=tuple(alarms), unverified=tuple(unverified), vacuous=empty)


def vacuous_conclusions(claim: Any, verdicts: Iterable[HypothesisVerdict]) -> list[str]:
    """The conclusions of ``claim`` whose certified bound says nothing: the first value of
    the ``guarantee`` filled in with the claim's numbers (overridden by those the
    conclusion's verdict used) reaches ``vacuous_at_least``."""
    table = {k: float(v) for k, v in (getattr(claim, "parameters", {}) or {}).items()
             if isinstance(v, int | float) and not isinstance(v, bool)}
    _hyps, concl = _latest(verdicts)
    out = []
    for c in getattr(claim, "conclusions", ()) or ():
        if c.guarantee is None or c.vacuous_at_least is None:
            continue
        v = concl.get(c.name)
        try:
            _text, values = fill_guarantee(c.guarantee,
                                           {**table, **(v.parameters if v is not None else {})})
        except EvidenceError:
            continue
        if values and values[0] >= c.vacuous_at_least:
            out.append(c.name)
    return out


_PLACEHOLDER = re.compile(r"\{([^{}]{1,200})\}")


def fill_guarantee(template: str, values: dict[str, float]) -> tuple[str, list[float]]:
    """``template`` with each ``{formula}`` replaced by its value under ``values`` (the safe
    whitelist parser of :mod:`pipeline.evidence.schedule`, never ``eval``); returns the text
    and the values. :class:`EvidenceError` when a formula cannot be evaluated."""
    from pipeline.evidence.schedule import FormulaError, parse_schedule

    numbers: list[float] = []

    def one(match: re.Match[str]) -> str:
        try:
            expr, _t = parse_schedule(match.group(1), values)
        except FormulaError as exc:
            raise EvidenceError(f"guarantee {template!r}: {exc}") from exc
        if not expr.is_number:
            raise EvidenceError(f"guarantee {template!r}: {match.group(1)} uses unbound names")
        value = float(expr)
        numbers.append(value)
        return f"{value:.4g}"

    return _PLACEHOLDER.sub(one, template), numbers


def applies(claim_status: Any, verdicts: Iterable[HypothesisVerdict],
            required: Iterable[str] | None = None) -> bool:
    """A claim applies to a run when its proof is accepted, every empirical hypothesis holds
    on that run — its statistical verdict and, when one was recorded, its pytest verdict —
    and no conclusion check fails (see :func:`application`).

    ``claim_status`` is a :class:`pipeline.claims.proof_status.ClaimStatus` (anything with a
    ``proved`` flag, or a bool). ``required`` names the binders that must hold; when omitted
    they are read from ``claim_status.claim.hypotheses`` if present, else every binder in
    ``verdicts``.
    """
    return application(claim_status, verdicts, required).applies


def soundness_alarms(verdicts: Sequence[HypothesisVerdict], registry: Any = None
                     ) -> list[tuple[str, str, str]]:
    """(claim, run, conclusion) for every conclusion that fails on a run where every
    empirical hypothesis of its claim holds — independent of the proof status."""
    by_claim_run: dict[tuple[str, str], list[HypothesisVerdict]] = {}
    for v in verdicts:
        by_claim_run.setdefault((v.claim_id, v.run_id), []).append(v)
    out = []
    for (claim_id, run_id), group in by_claim_run.items():
        required = None
        if registry is not None:
            try:
                claim = registry.get(claim_id)
            except SequentError:
                claim = None
            if claim is not None:
                required = [h.binder for h in claim.hypotheses if h.check and not h.assumed]
        result = application(True, group, required)
        out += [(claim_id, run_id, name) for name in result.alarms]
    return out


__all__ = ["Application", "EstimateSource", "Target", "application", "applies", "check_run", "evaluate",
           "fill_guarantee", "run_check", "soundness_alarms", "split_held_out", "targets_of",
           "vacuous_conclusions"]
