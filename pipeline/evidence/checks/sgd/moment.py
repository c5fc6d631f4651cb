"""A bounded gradient second moment at every step (``h_bounded_second_moment``) and the
tail index that says whether the moment exists."""

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
    need,
    series_plot,
)
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, FloatArray, Outcome, Run

TAIL_WINDOW = 51
"""Steps of the running median that normalises ‖gₜ‖² before the tail-index estimate."""
CROSS_SEEDS = 5
"""From this many seeds on, ‖gₜ‖² is normalised by the median across seeds at its step."""


def grad_sq_matrix(run: Run) -> tuple[FloatArray, list[int]]:
    """Seeds × logged steps of ‖gₜ‖² (a run group's members, or the run as one seed) on the
    steps every seed logged, and the seeds."""
    members = run.members or (run,)
    rows = []
    for member in members:
        try:
            g2 = need(member, "grad_sq", min_n=2, finite=False)
        except NotApplicable:
            if member.column("grad_norm") is None:
                raise
            g2 = need(member, "grad_norm", min_n=2, finite=False) ** 2
        if np.isnan(g2).any():
            raise NotApplicable(f"run {member.id} logs NaN in ‖gₜ‖² (first at index "
                                f"{int(np.flatnonzero(np.isnan(g2))[0])}); clean or truncate it")
        rows.append(g2)
    k = min(r.shape[0] for r in rows)
    seeds = [s for m in members for s in (m.seeds() or [-1])]
    return np.stack([r[:k] for r in rows]), seeds


def tail_index(g2: FloatArray, window: int = TAIL_WINDOW) -> tuple[float, ConfidenceInterval, int]:
    """Hill estimate of the tail index of ‖gₜ‖² (P(‖g‖² > x) ~ x^(−α)) on the draws divided
    by a local scale — with ≥ ``CROSS_SEEDS`` seeds the median across seeds at the same step,
    else the seed's running median over ``window`` steps — so that a second moment that
    changes over training (decays, or spikes at one step in every seed) is not mistaken for
    a heavy tail; top k = ⌈√N⌉ order statistics, asymptotic interval α̂(1 ± z/√k).
    E‖gₜ‖² < ∞ needs α > 1; the t-intervals of a mean need α > 2 (a finite variance of
    ‖gₜ‖²). Returns (α̂, interval, k)."""
    from scipy import ndimage
    from scipy import stats as sps

    if g2.shape[0] >= CROSS_SEEDS:
        scale = np.broadcast_to(np.median(g2, axis=0), g2.shape)
    else:
        w = min(window, g2.shape[1] - (1 - g2.shape[1] % 2))
        scale = ndimage.median_filter(g2, size=(1, max(w, 1)), mode="nearest")
    ratio = (g2 / np.maximum(scale, 1e-300)).reshape(-1)
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    k = max(10, math.ceil(math.sqrt(ratio.shape[0])))
    if ratio.shape[0] < k + 1:
        raise NotApplicable(f"{ratio.shape[0]} positive draws of ‖gₜ‖²; the tail-index "
                            "estimate needs more")
    top = np.sort(ratio)[::-1][:k + 1]
    hill = float(np.mean(np.log(top[:k] / top[k])))
    alpha = 1.0 / hill if hill > 0 else math.inf
    z = float(sps.norm.ppf(0.975))
    ci = ConfidenceInterval(low=alpha * max(0.0, 1 - z / math.sqrt(k)),
                            high=alpha * (1 + z / math.sqrt(k)), method="Hill (asymptotic)")
    return alpha, ci, k


def free_lower_bounds(x: FloatArray, alpha: float) -> FloatArray:
    """A lower confidence bound (level 1 − ``alpha`` each) for the mean of each column's
    non-negative law from its draws (rows), valid without a variance: E X ≥ q·P(X ≥ q) for
    every q, with P(X ≥ x₍ⱼ₎) bounded below by Clopper–Pearson (j of n draws are ≥ the j-th
    largest x₍ⱼ₎); the largest over j, Bonferroni over the n choices."""
    from scipy import stats as sps

    n = x.shape[0]
    j = np.arange(1, n + 1)
    factor = sps.beta.ppf(alpha / n, j, n - j + 1)
    ordered = -np.sort(-x, axis=0)  # largest first, per column
    out: FloatArray = np.max(ordered * factor[:, None], axis=0)
    return out


@hypothesis_check(
    module=__package__,
    statistic="E‖gₜ‖² at every logged t across seeds against G² (Bonferroni t over the "
              "steps, floored at 0) and the tail index of ‖gₜ‖²",
    needs="per-step grad_sq (or grad_norm) of a run group (≥ 2 seeds; one run can only "
          "fail); claim parameter G2",
    parameters=("G2",), version="3",
    settings=SEED_GROUP_SETTINGS,
)
def bounded_second_moment(run: Run, ctx: Context) -> CheckOutcome:
    """h_bounded_second_moment as written: ∀ t ≥ 1, E‖gₜ‖² ≤ G².

    The expectation at each logged t is estimated across the seeds of a run group (never by
    a time average of one run), with t-intervals Bonferroni-corrected over every logged
    step and floored at 0 (a second moment is non-negative): one step whose interval lies
    above G² fails it. A heavy tail is detected, not averaged away: a tail index whose
    interval lies below 1 means E‖gₜ‖² = ∞ (fails at every G²); one that may be ≤ 2 leaves the
    intervals without their finite-variance footing, so the verdict is never "holds". One
    run fails it only when a draw is beyond Markov's bound with a union over the steps."""
    g2, seed_ids = grad_sq_matrix(run)
    bound = ctx.param("G2")
    alpha, power = ctx.setting("alpha"), ctx.setting("power")
    if bound < 0:
        raise NotApplicable(f"G² = {bound:g} must be non-negative")
    seeds, steps = g2.shape
    t = (run.members[0] if run.members else run).logged_t(steps)
    details: dict[str, float | int | str] = {"seeds": seeds, "steps": steps}
    mean = g2.mean(axis=0)
    plot = series_plot(t, mean, label="mean over seeds" if seeds > 1 else "run",
                       title="Gradient second moment at each step", xlabel="step t",
                       ylabel="mean ‖gₜ‖² over seeds", logy=bool((mean > 0).all()),
                       hlines=(("G²", bound),))
    common = {"statistic": "max over t of E‖gₜ‖² (across seeds)", "threshold": bound,
              "plot": plot, "n": int(g2.size)}
    unseen = f"steps after t = {int(t[-1])} are not logged, so not seen"
    infinite = np.argwhere(~np.isfinite(g2))
    if infinite.size:
        s, k = (int(v) for v in infinite[0])
        return CheckOutcome(
            outcome="fails", value=math.inf, details=details, **common,
            ci=ConfidenceInterval(low=math.inf, high=math.inf, method="exact"),
            reason=f"‖gₜ‖² is infinite at t = {int(t[k])} (seed {seed_ids[s]}): "
                   "E‖gₜ‖² = ∞ > G²")
    tail, tail_ci, k_tail = tail_index(g2)
    details |= {"tail_index": tail, "tail_index_low": tail_ci.low,
                "tail_index_high": tail_ci.high, "tail_k": k_tail}
    tail_text = (f"tail index of ‖gₜ‖² {tail:.3g} (Hill, k = {k_tail}, CI "
                 f"[{tail_ci.low:.3g}, {tail_ci.high:.3g}])")
    if tail_ci.high < 1.0:
        return CheckOutcome(
            outcome="fails", value=float(mean.max()), details=details, **common, ci=tail_ci,
            reason=f"heavy tail: {tail_text} < 1, so E‖gₜ‖² = ∞ and no G² bounds it")
    if seeds < 2:
        return _one_run(g2, t, bound, alpha, details, common, tail_text)
    return _across_seeds(g2, t, bound, (alpha, power), details, common,
                         (tail_text, tail_ci.low <= 2.0), unseen)


def _one_run(g2: FloatArray, t: FloatArray, bound: float, alpha: float,
             details: dict[str, float | int | str], common: dict[str, Any], tail_text: str
             ) -> CheckOutcome:
    """One run is one draw per step: it fails only beyond Markov's bound with a union over
    the steps, and is otherwise inconclusive."""
    steps = g2.shape[1]
    markov = steps / alpha
    k = int(np.argmax(g2[0]))
    worst = float(g2[0, k]) / bound if bound > 0 else math.inf
    details["seeds_needed"] = 2
    if worst > markov:
        return CheckOutcome(
            outcome="fails", value=float(g2[0, k]), details=details, **common,
            ci=ConfidenceInterval(low=float(g2[0, k]) / markov, high=float(g2[0, k]),
                                  method="Markov + union bound"),
            reason=f"‖gₜ‖² at t = {int(t[k])} is {worst:.3g}× G² = {bound:g}; under the "
                   f"hypothesis that has probability ≤ {alpha:g} (Markov over {steps} "
                   "steps)")
    return CheckOutcome(
        outcome="inconclusive", value=float(g2.max()), details=details, **common,
        reason="E‖gₜ‖² is an expectation over training noise and one run is one draw per "
               "step (no draw is beyond the Markov limit; a time average is not an "
               "expectation at each t). Check a run group (--group DIR) of at least 2 "
               f"seeds; {tail_text}")


def _across_seeds(g2: FloatArray, t: FloatArray, bound: float, levels: tuple[float, float],
                  details: dict[str, float | int | str], common: dict[str, Any],
                  tail: tuple[str, bool], unseen: str) -> CheckOutcome:
    """E‖gₜ‖² at every logged t across the seeds: Bonferroni t-intervals floored at 0, their
    lower bounds distribution-free when the tail is heavy (``tail``: its text, and whether
    the variance may not exist), and the seeds the power rule asks for."""
    alpha, power = levels
    tail_text, heavy = tail
    seeds, steps = g2.shape
    mean, half, sd = stats.means_across_seeds(g2, alpha)
    lows = np.maximum(mean - half, 0.0)
    highs = mean + half
    needed = stats.seeds_needed(sd, bound - mean, alpha=alpha, power=power, comparisons=steps)
    details["seeds_needed"] = needed
    worst = int(np.argmax(highs))
    ci = ConfidenceInterval(low=float(lows.max()), high=float(highs.max()),
                            method=f"t over {seeds} seeds, Bonferroni over {steps} steps, "
                                   "floored at 0")
    tol = stats.numeric_tolerance(bound)
    if heavy:  # no variance to lean on: a lower bound that needs none (X ≥ 0)
        lows = free_lower_bounds(g2, alpha / (2 * steps))
        ci = ci.model_copy(update={"low": float(lows.max()), "method": ci.method + "; lower "
                                   "bounds distribution-free (heavy tail)"})
    above = np.flatnonzero(lows > bound + tol)
    if above.size:
        k = int(above[np.argmax(lows[above])])
        outcome: Outcome = "fails"
        why = (f"at t = {int(t[k])} the mean ‖gₜ‖² over {seeds} seeds is {mean[k]:.4g}, "
               f"its lower bound {lows[k]:.4g} above G² = {bound:g} "
               f"({mean[k] / bound:.3g}× G²); {above.size} of {steps} steps are above"
               + (f"; {tail_text}" if heavy else ""))
        worst = k
    elif heavy:
        outcome = "inconclusive"
        why = (f"heavy tail: {tail_text} may be ≤ 2, so ‖gₜ‖² may have no variance and the "
               "t-intervals of its mean are not valid; a heavy tail is never confirmed")
    elif highs.max() <= bound + tol and seeds >= needed:
        outcome = "holds"
        why = (f"E‖gₜ‖² ≤ G² = {bound:g} at all {steps} logged steps (largest upper bound "
               f"{highs.max():.4g} at t = {int(t[worst])}, {seeds} seeds); {tail_text}")
    elif highs.max() <= bound + tol:
        outcome = "inconclusive"
        why = (f"the group is smaller than the power calculation asks for: {needed} seeds "
               f"are needed, {seeds} given")
    else:
        outcome = "inconclusive"
        why = (f"at t = {int(t[worst])} the interval [{lows[worst]:.4g}, {highs[worst]:.4g}] "
               f"reaches above G² = {bound:g}"
               + (f"; about {needed} seeds would decide it" if seeds < needed < 10**6 else ""))
    return CheckOutcome(outcome=outcome, value=float(mean[worst]), ci=ci, details=details,
                        reason=f"{why}; {unseen}", **common)


__all__ = ["CROSS_SEEDS", "TAIL_WINDOW", "bounded_second_moment", "free_lower_bounds",
           "grad_sq_matrix", "tail_index"]
