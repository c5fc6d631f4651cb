"""Evaluating claims' empirical hypotheses on a run, and whether a claim applies to it.

:func:`run_check` never raises for a problem of the run or the check: an unknown check
name, missing data or a check that breaks becomes an ``inconclusive`` outcome with the
reason. :func:`check_run` is what ``sequent hypotheses check`` calls: load the run, find the
hypotheses, run each distinct check once, draw the plots, store the verdicts.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import EvidenceError, SequentError
from pipeline.evidence.checks import resolve_check
from pipeline.evidence.models import CheckOutcome, HypothesisVerdict, Run, inconclusive
from pipeline.evidence.plots import render
from pipeline.evidence.runs import load_run
from pipeline.models import Frozen
from pipeline.settings import Settings


class Target(Frozen):
    """One empirical hypothesis to evaluate: a claim's binder and the check it names."""

    claim_id: str
    binder: str
    check: str


class _Hypothesis(Protocol):
    binder: str
    check: str | None
    assumed: bool


def run_check(check: str, run: Run) -> CheckOutcome:
    """The outcome of the check named ``module:function`` on ``run`` (never raises)."""
    try:
        fn = resolve_check(check)
    except EvidenceError as exc:
        return inconclusive("unknown", str(exc))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = fn(run)
        except SequentError as exc:
            return inconclusive("error", f"{check} could not evaluate the run: {exc}")
        except Exception as exc:  # noqa: BLE001 - a broken check must not abort the others
            return inconclusive("error", f"{check} raised {type(exc).__name__}: {exc}")
    if caught:
        notes = "; ".join(sorted({f"{w.category.__name__}: {w.message}" for w in caught}))
        outcome = outcome.model_copy(update={"details": {**outcome.details,
                                                         "warnings": notes[:500]}})
    return outcome


def targets_of(registry: Any, claim_id: str | None = None) -> list[Target]:
    """The empirical hypotheses (``check`` set, not ``assumed``) of one claim or of all."""
    claims = [registry.get(claim_id)] if claim_id is not None else list(registry.claims)
    out: list[Target] = []
    for claim in claims:
        for hyp in claim.hypotheses:
            if hyp.check and not hyp.assumed:
                out.append(Target(claim_id=claim.id, binder=hyp.binder, check=hyp.check))
    return out


def evaluate(run: Run, targets: Sequence[Target], *, plot_dir: Path | None = None
             ) -> list[HypothesisVerdict]:
    """Verdicts for ``targets`` on ``run``; each distinct check runs once."""
    outcomes: dict[str, CheckOutcome] = {}
    plots: dict[str, str | None] = {}
    verdicts = []
    for target in targets:
        if target.check not in outcomes:
            outcome = run_check(target.check, run)
            outcomes[target.check] = outcome
            plots[target.check] = _draw(outcome, target.check, run, plot_dir)
        verdicts.append(HypothesisVerdict.from_outcome(
            outcomes[target.check], claim_id=target.claim_id, binder=target.binder,
            check=target.check, run_id=run.id, plot=plots[target.check]))
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
              checks: Sequence[str] = ()) -> list[HypothesisVerdict]:
    """Evaluate every empirical hypothesis (of one claim, or all) on the run in ``run_dir``.

    With ``checks`` given, evaluate those checks directly (claim ``-``, binder = check name)
    and ignore the registry. Verdicts are stored unless ``store`` is false.
    """
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


def applies(claim_status: Any, verdicts: Iterable[HypothesisVerdict],
            required: Iterable[str] | None = None) -> bool:
    """A claim applies to a run when its proof is accepted and all its empirical
    hypotheses hold on that run.

    ``claim_status`` is a :class:`pipeline.claims.status.ClaimStatus` (anything with a
    ``proved`` flag, or a bool). ``required`` names the binders that must hold; when omitted
    they are read from ``claim_status.claim.hypotheses`` if present, else every binder in
    ``verdicts``. The latest verdict per binder counts (``verdicts`` in recorded order).
    """
    proved = claim_status if isinstance(claim_status, bool) else bool(
        getattr(claim_status, "proved", False))
    if not proved:
        return False
    latest: dict[str, HypothesisVerdict] = {}
    for v in verdicts:
        latest[v.binder] = v
    if required is None:
        hyps: Iterable[_Hypothesis] | None = getattr(
            getattr(claim_status, "claim", None), "hypotheses", None)
        required = ([h.binder for h in hyps if h.check and not h.assumed]
                    if hyps is not None else list(latest))
    return all(b in latest and latest[b].holds for b in required)


__all__ = ["Target", "applies", "check_run", "evaluate", "run_check", "targets_of"]
