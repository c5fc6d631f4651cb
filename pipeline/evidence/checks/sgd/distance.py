"""The distance to the optimum: the start e₁ (``h_init``) and the rate eₜ ≤ 4G²/(λ²t) (the
conclusion of Chung's lemma)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    SEED_GROUP_SETTINGS,
    Context,
    NotApplicable,
    hypothesis_check,
    series_plot,
)
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, FloatArray, Outcome, Run


@hypothesis_check(
    module=__package__,
    statistic="e₁ = ‖w₁ − w*‖² against 4G²/λ²",
    needs="the first snapshot (with sample w_star; else its full-batch gradient); claim "
          "parameters lam, G2",
    parameters=("lam", "G2"),
)
def initial_radius(run: Run, ctx: Context) -> CheckOutcome:
    """h_init: the start is within the radius the rate allows, e₁ ≤ 4G²/λ².

    With w* known, e₁ is measured at the first snapshot. Without it, strong convexity gives
    ‖w₁ − w*‖ ≤ ‖∇f(w₁)‖/λ, so ‖∇f(w₁)‖² ≤ 4G² is sufficient (a proxy that relies on
    h_strong_convexity); when it is not met the check cannot decide."""
    lam, g2 = ctx.param("lam"), ctx.param("G2")
    if lam <= 0:
        raise NotApplicable(f"λ = {lam:g} must be positive")
    if len(run.members) >= 2:
        return _initial_radius_group(run, lam, g2)
    if not run.snapshots:
        raise NotApplicable("the run has no parameter snapshot; snapshot the first step")
    first = min(run.snapshots, key=lambda s: s.step)
    radius = 4 * g2 / lam**2
    w_star = run.column("w_star")
    if w_star is not None and w_star.shape[0] == first.params.shape[0]:
        e1 = float(np.sum((first.params - w_star) ** 2))
        ci = ConfidenceInterval(low=e1, high=e1, method="exact")
        outcome = stats.decide(ci, radius, "<=")
        return CheckOutcome(
            outcome=outcome, statistic="e₁ / (4G²/λ²)", value=e1 / radius if radius else None,
            threshold=1.0, ci=ConfidenceInterval(low=e1 / radius, high=e1 / radius,
                                                 method="exact") if radius else ci,
            n=1, reason=f"‖w₁ − w*‖² = {e1:.4g} {'≤' if outcome == 'holds' else '>'} "
                        f"4G²/λ² = {radius:.4g} (first snapshot, step {first.step})")
    if first.grad is None or first.grad_kind != "full":
        raise NotApplicable("without w_star the check needs a full-batch gradient at the "
                            "first snapshot")
    g1 = float(np.sum(first.grad**2))
    ok = stats.decide(ConfidenceInterval(low=g1, high=g1, method="exact"), 4 * g2, "<=")
    return CheckOutcome(
        outcome="holds" if ok == "holds" else "inconclusive",
        statistic="‖∇f(w₁)‖² / (4G²)", value=g1 / (4 * g2) if g2 else None, threshold=1.0,
        n=1, kind="proxy",
        not_covered="bounds e₁ through ‖w₁ − w*‖ ≤ ‖∇f(w₁)‖/λ, which needs h_strong_convexity",
        reason=f"‖∇f(w₁)‖² = {g1:.4g} "
               + (f"≤ 4G² = {4 * g2:.4g}, so e₁ ≤ ‖∇f(w₁)‖²/λ² ≤ 4G²/λ²" if ok == "holds"
                  else f"> 4G² = {4 * g2:.4g}: the sufficient condition is not met; log "
                       "w_star to measure e₁"))


def _initial_radius_group(run: Run, lam: float, g2: float) -> CheckOutcome:
    """h_init on a run group: e₁ = E‖w₁ − w*‖² over the seeds (each member's first snapshot
    and its own w*), a t-interval, and the seeds the shared power rule asks for."""
    radius = 4 * g2 / lam**2
    draws = []
    for member in run.members:
        w_star = member.column("w_star")
        if not member.snapshots or w_star is None:
            raise NotApplicable(f"member {member.id} has no first snapshot or no w_star; on a "
                                "group h_init is measured from every seed")
        first = min(member.snapshots, key=lambda s: s.step)
        if w_star.shape[0] != first.params.shape[0]:
            raise NotApplicable(f"member {member.id}: w_star and the parameters differ in size")
        draws.append(float(np.sum((first.params - w_star) ** 2)))
    e1 = np.array(draws)
    seeds = e1.shape[0]
    sd = float(e1.std(ddof=1))
    mean = float(e1.mean())
    ci = stats.t_interval(mean, sd / math.sqrt(seeds), seeds - 1, method="t over seeds")
    needed = stats.seeds_needed(sd, radius - mean)
    outcome = stats.decide(ci, radius, "<=", scale=abs(mean))
    why = f"mean ‖w₁ − w*‖² over {seeds} seeds {mean:.4g} (CI [{ci.low:.4g}, {ci.high:.4g}])"
    details: dict[str, int] = {"seeds": seeds}
    if mean < radius:
        details["seeds_needed"] = needed
    if outcome == "holds" and seeds < needed:
        outcome = "inconclusive"
    if outcome == "inconclusive":
        why += (f"; the power calculation asks for {needed} seeds" if mean < radius else
                "; the mean is above the bound, more seeds would show whether it fails")
    return CheckOutcome(
        outcome=outcome, statistic="E‖w₁ − w*‖² against 4G²/λ²",
        value=mean, threshold=radius, ci=ci, n=seeds, details=details,
        reason=f"{why} against 4G²/λ² = {radius:.4g}")


def _distances(run: Run) -> tuple[FloatArray, FloatArray]:
    """(t, ‖w_t − w*‖²) at the snapshots, t 1-based; :class:`NotApplicable` without w*."""
    w_star = run.column("w_star")
    snaps = list(run.snapshots)
    if w_star is None or len(snaps) < 2:
        raise NotApplicable("this conclusion needs parameter snapshots and the optimum w* "
                            "(sample w_star)")
    params = np.stack([s.params for s in snaps])
    if params.shape[1] != w_star.shape[0]:
        raise NotApplicable(f"w_star has {w_star.shape[0]} values, the parameters "
                            f"{params.shape[1]}")
    steps = run.column("step")
    first = float(steps[0]) if steps is not None and steps.shape[0] else 0.0
    t = np.array([s.step for s in snaps], dtype=float) - first + 1.0
    d = params - w_star[None, :]
    keep = t >= 1
    return t[keep], np.einsum("ij,ij->i", d, d)[keep]


@hypothesis_check(
    module=__package__,
    statistic="max over logged t of ‖wₜ − w*‖² / (4G²/(λ²t))",
    needs="snapshots and sample w_star (one run: Markov test; a run group: mean over seeds); "
          "claim parameters lam, G2",
    parameters=("lam", "G2"),
    settings=SEED_GROUP_SETTINGS,
)
def distance_rate(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of Chung's lemma: eₜ = E‖wₜ − w*‖² ≤ 4G²/(λ²t) for every t ≥ 1.

    One run is one draw of ‖wₜ − w*‖²: Markov's inequality with a union bound over the K
    logged steps fails the conclusion when some draw exceeds (K/α)·bound; it cannot show
    the expectation is below the bound, so a single run is at best ``inconclusive``. A run
    group (several seeds) gives the per-step mean with Bonferroni t-intervals.
    """
    lam, g2 = ctx.param("lam"), ctx.param("G2")
    alpha, power = ctx.setting("alpha"), ctx.setting("power")
    if lam <= 0 or g2 < 0:
        raise NotApplicable(f"λ = {lam:g} must be positive and G² = {g2:g} non-negative")
    members = run.members or (run,)
    per_seed = [_distances(m) for m in members]
    k_steps = min(t.shape[0] for t, _ in per_seed)
    t = per_seed[0][0][:k_steps]
    e = np.stack([d[:k_steps] for _, d in per_seed])  # seeds × steps
    bound = 4 * g2 / (lam**2 * t)
    ratio = e / bound[None, :]
    mean = e.mean(axis=0)
    worst_draw = float(ratio.max())
    markov = k_steps * len(members) / alpha
    seeds = len(members)
    details: dict[str, float | int | str] = {"steps": k_steps, "seeds": seeds,
                                             "max_draw_over_bound": worst_draw}
    plot = series_plot(t, mean / bound, label="mean over seeds" if seeds > 1 else "run",
                       title="‖wₜ − w*‖² against 4G²/(λ²t)", xlabel="t", ylabel="ratio to bound",
                       logx=True, logy=True, hlines=(("bound", 1.0),))
    common = {"statistic": "max_t eₜ / (4G²/(λ²t))", "threshold": 1.0, "plot": plot}
    if worst_draw > markov:
        k = int(np.unravel_index(np.argmax(ratio), ratio.shape)[1])
        return CheckOutcome(
            outcome="fails", value=worst_draw, n=int(e.size), details=details,
            ci=ConfidenceInterval(low=worst_draw / markov, high=worst_draw,
                                  method="Markov + union bound"),
            reason=f"‖wₜ − w*‖² is {worst_draw:.3g}× the bound at t = {int(t[k])}; under the "
                   f"conclusion that has probability ≤ {alpha:g} (Markov over {k_steps} "
                   f"steps × {seeds} seeds)", **common)
    if seeds < 2:
        details["seeds_needed"] = 2
        return CheckOutcome(
            outcome="inconclusive", value=float(ratio.max()), n=int(e.size), details=details,
            reason="the conclusion bounds an expectation over training noise; one run is one "
                   "draw (no draw is beyond the Markov limit). Check a run group "
                   "(--group DIR) of at least 2 seeds; their spread gives the number of "
                   "seeds the power calculation needs", **common)
    return _rate_across_seeds(t, e, bound, (alpha, power), details, common)


def _rate_across_seeds(t: FloatArray, e: FloatArray, bound: FloatArray,
                       levels: tuple[float, float], details: dict[str, float | int | str],
                       common: dict[str, Any]) -> CheckOutcome:
    """eₜ ≤ ``bound`` at every logged t from the seeds' ‖wₜ − w*‖² (``e``, seeds × steps):
    Bonferroni t-intervals of the mean, and the seeds the power rule asks for."""
    alpha, power = levels
    seeds, k_steps = e.shape
    mean, half, sd = stats.means_across_seeds(e, alpha)
    lows, highs = (mean - half) / bound, (mean + half) / bound
    needed = stats.seeds_needed(sd, bound - mean, alpha=alpha, power=power,
                                comparisons=k_steps)
    details["seeds_needed"] = needed
    ci = ConfidenceInterval(low=float(lows.max()), high=float(highs.max()),
                            method=f"t, Bonferroni over {k_steps} steps")
    if (lows > 1.0 + stats.numeric_tolerance(1.0)).any():
        k = int(np.argmax(lows))
        outcome: Outcome = "fails"
        why = f"the mean of ‖wₜ − w*‖² is above the bound at t = {int(t[k])}"
    elif stats.decide(ci, 1.0, "<=") == "holds" and seeds >= needed:
        outcome, why = "holds", f"the mean of ‖wₜ − w*‖² stays below the bound at all {k_steps} steps"
    elif stats.decide(ci, 1.0, "<=") == "holds":
        outcome = "inconclusive"
        why = (f"the group is smaller than the power calculation asks for: {needed} seeds "
               f"are needed, {seeds} given")
    else:
        outcome = "inconclusive"
        if (mean >= bound).any():
            why = ("the mean is above the bound at some step, not beyond noise; more seeds "
                   "would show whether it fails")
        else:
            why = (f"the intervals reach above the bound; about {needed} seeds would decide it"
                   if needed > seeds else "the intervals reach above the bound")
    return CheckOutcome(outcome=outcome, value=float((mean / bound).max()), ci=ci,
                        n=int(e.size), details=details,
                        reason=f"{why} ({seeds} seeds; largest mean ratio "
                               f"{float((mean / bound).max()):.3g}, upper bound {ci.high:.3g})",
                        **common)


__all__ = ["distance_rate", "initial_radius"]
