"""Hypotheses of SGD convergence (Chung's lemma): strong convexity, a bounded gradient
second moment, and a Robbins–Monro step-size schedule."""

from __future__ import annotations

import math

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    Context,
    NotApplicable,
    Setting,
    downsample,
    hypothesis_check,
    need,
)
from pipeline.evidence.models import (
    CheckOutcome,
    ConfidenceInterval,
    FloatArray,
    Outcome,
    PlotData,
    PlotSeries,
    Run,
)
from pipeline.evidence.schedule import decide_schedule

FAR = 20
"""Snapshots used by strong_convexity lie ≥ FAR × w*'s uncertainty radius from ŵ."""
DECLARED_TOLERANCE = 0.01
"""Relative disagreement between a declared lr_schedule and the logged lr that fails the
Robbins–Monro check (``step_size_exact`` tests the log itself to rounding)."""
FLOAT32_ROUNDOFF = 2.0**-24
"""Unit roundoff of float32: a value rounded to float32 is within this relative error."""
LR_ROUNDING = 8 * FLOAT32_ROUNDOFF
"""How far |λtηₜ − 1| can be from 0 by rounding alone when ηₜ = 1/(λt) exactly (2⁻²¹ ≈
4.8·10⁻⁷), the default ``step_tolerance`` of ``step_size_exact``. The tracker logs the lr the
optimiser holds as a float64 written with ``repr`` (exact round trip), and the importers read
float64 (MLflow, W&B, CSV) or float32 (TensorBoard scalars, an lr held in a float32 tensor):
each logged ηₜ is within u = 2⁻²⁴ of the value used. The training code's own 1/(λ't) in
float32 adds at most two roundings, and λ = 1/(T·η_T) (bound ``exact``) carries one logged
value's error, so λtηₜ = (1 + δₜ)/(1 + δ_T) with |δ| ≤ 3u: |λtηₜ − 1| ≤ 6u + O(u²) < 8u. A
schedule off by 10⁻⁶ relative at one step fails it."""
DECLARED_PRECISION = 1e-5
"""A declared ``lr_schedule`` is read with its non-short constants at 6 significant digits
(:func:`pipeline.evidence.schedule.parse_schedule`), so it is compared with the log to this
relative precision; the log itself is what ``step_size_exact`` tests to rounding."""


# ------------------------------------------------------------------------------ convexity
def curvature_ratios(params: FloatArray, grads: FloatArray) -> FloatArray:
    """R[i, j] = ⟨gᵢ − gⱼ, θᵢ − θⱼ⟩ / ‖θᵢ − θⱼ‖² (NaN on the diagonal and for equal θ)."""
    pp = params @ params.T
    gp = grads @ params.T
    sq = np.diag(pp)
    dist2 = sq[:, None] + sq[None, :] - 2 * pp
    inner = np.diag(gp)[:, None] + np.diag(gp)[None, :] - gp - gp.T
    scale = max(float(sq.max()), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(dist2 > 1e-12 * scale, inner / dist2, np.nan)
    np.fill_diagonal(ratios, np.nan)
    return ratios


def optimum_ratios(params: FloatArray, grads: FloatArray, w_star: FloatArray, radius: float
                   ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per snapshot: ⟨gₜ, wₜ − w*⟩ / ‖wₜ − w*‖² and its range when w* is only known to
    within ``radius`` (‖ŵ − w*‖ ≤ radius). Returns (ratio, low, high, distance)."""
    d = params - w_star[None, :]
    dist = np.sqrt(np.einsum("ij,ij->i", d, d))
    gnorm = np.sqrt(np.einsum("ij,ij->i", grads, grads))
    num = np.einsum("ij,ij->i", grads, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / dist**2
        near, far = np.maximum(dist - radius, 0.0) ** 2, (dist + radius) ** 2
        lo_num, hi_num = num - gnorm * radius, num + gnorm * radius
        low = np.where(lo_num >= 0, lo_num / far, lo_num / near)
        high = np.where(hi_num >= 0, hi_num / near, hi_num / far)
    return ratio, low, high, dist


@hypothesis_check(
    statistic="min over logged steps of ⟨gₜ, wₜ − w*⟩ / ‖wₜ − w*‖² against λ",
    needs="≥ 3 parameter snapshots with full-batch gradients; sample w_star (else w* is "
          "estimated from the last snapshot); claim parameter lam",
    parameters=("lam",), version="3",
)
def strong_convexity(run: Run, ctx: Context) -> CheckOutcome:
    """λ-strong convexity as used by the theorem: ⟨gₜ, wₜ − w*⟩ ≥ λ‖wₜ − w*‖² at every
    logged step (lower confidence bound over the steps, w*'s uncertainty carried). In a run
    group with a known w* every member's snapshots are tested (a group's own snapshots are
    its first member's)."""
    lam = ctx.maybe_param("lam")
    known = run.column("w_star")
    members = run.members if run.members and known is not None else (run,)
    snaps = [s for member in members for s in member.snapshots if s.grad is not None]
    if len(snaps) < 3:
        raise NotApplicable(f"the run has {len(snaps)} snapshots with gradients; "
                            "this check needs at least 3 (Tracker(snapshot_every=...))")
    params = np.stack([s.params for s in snaps])
    grads = np.stack([s.grad for s in snaps if s.grad is not None])
    if not (np.isfinite(params).all() and np.isfinite(grads).all()):
        raise NotApplicable("snapshots hold NaN/inf parameters or gradients")
    kinds = sorted({sn.grad_kind for sn in snaps})
    full = kinds == ["full"]
    if known is not None:
        if known.shape[0] != params.shape[1]:
            raise NotApplicable(f"w_star has {known.shape[0]} values, the parameters "
                                f"{params.shape[1]}")
        w_star, radius, where = known, 0.0, "w* given by the run"
        use = slice(None)
    else:
        # w* estimated by the last snapshot; for a λ-strongly convex f with a full gradient,
        # ‖w_T − w*‖ ≤ ‖∇f(w_T)‖/λ (without λ: the last step's movement as a rough radius)
        w_star = params[-1]
        g_last = float(np.linalg.norm(grads[-1]))
        radius = g_last / lam if lam and full else float(np.linalg.norm(params[-1] - params[-2]))
        where = f"w* estimated by the last snapshot (uncertainty radius {radius:.3g})"
        if run.members:
            where += (f"; only the first of the group's {len(run.members)} runs is tested "
                      "(log w_star to test every member)")
        use = slice(0, -1)
    ratio, low, high, dist = optimum_ratios(params[use], grads[use], w_star, radius)
    steps = np.array([sn.step for sn in snaps], dtype=float)[use]
    informative = dist > FAR * radius
    if int(informative.sum()) < 3:
        raise NotApplicable(f"only {int(informative.sum())} snapshots lie clearly away from "
                            f"w* ({where}); the ratio is undetermined near the optimum")
    if not informative.all():
        where += (f"; {int((~informative).sum())} snapshots within {FAR}× that radius of w* "
                  "are left out (the ratio is undetermined there)")
    ratio, low, high, steps = ratio[informative], low[informative], high[informative], \
        steps[informative]
    k = int(np.argmin(low))
    ci = ConfidenceInterval(low=float(low.min()), high=float(high.min()),
                            method="w*-uncertainty bounds" if radius else "exact")
    scale = float(np.median(np.abs(ratio)))
    threshold = lam if lam is not None else 0.0
    outcome = stats.decide(ci, threshold, ">=" if lam is not None else ">", scale=scale)
    worst = int(np.argmin(high))
    of_runs = f" of {len(members)} runs" if len(members) > 1 else ""
    why = {"holds": f"⟨gₜ, wₜ − w*⟩ ≥ {threshold:g}·‖wₜ − w*‖² at all {ratio.size} logged "
                    f"steps{of_runs}",
           "fails": f"at step {int(steps[worst])} the ratio is at most {float(high[worst]):.4g} "
                    f"< λ = {threshold:g}",
           "inconclusive": "the smallest ratio's bounds straddle λ"}[outcome]
    kind = "direct" if full and lam is not None else "proxy"
    not_covered = None
    if lam is None:
        not_covered = "no λ bound by a claim: only positive curvature towards w* is tested"
    elif not full:
        not_covered = ("mini-batch gradients: each step's E⟨gₜ, wₜ − w*⟩ is estimated by one "
                       "draw")
    x, y = downsample(steps, ratio)
    return CheckOutcome(
        outcome=outcome, statistic="min ⟨gₜ, wₜ − w*⟩/‖wₜ − w*‖²", value=float(ratio.min()),
        threshold=threshold, ci=ci, n=int(ratio.size), kind=kind, not_covered=not_covered,
        reason=f"{why}; min ratio {float(ratio.min()):.4g}, bounds [{ci.low:.4g}, "
               f"{ci.high:.4g}]; {where}",
        details={"min_ratio": float(ratio.min()), "median_ratio": float(np.median(ratio)),
                 "worst_step": int(steps[k]), "snapshots": len(snaps),
                 "grad_kind": ",".join(kinds), "w_star_radius": radius},
        plot=PlotData(title="Curvature towards the optimum", xlabel="step",
                      ylabel="⟨g, w − w*⟩/‖w − w*‖²",
                      series=(PlotSeries(label="snapshots", x=x, y=y, style="scatter"),),
                      hlines=(("λ", threshold),)),
    )


# ---------------------------------------------------------------------------- second moment
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
    statistic="E‖gₜ‖² at every logged t across seeds against G² (Bonferroni t over the "
              "steps, floored at 0) and the tail index of ‖gₜ‖²",
    needs="per-step grad_sq (or grad_norm) of a run group (≥ 2 seeds; one run can only "
          "fail); claim parameter G2",
    parameters=("G2",), version="3",
    settings={"alpha": Setting(0.05, 1e-6, 0.5, "error rate of the simultaneous intervals"),
              "power": Setting(0.8, 0.5, 0.99, "power used to size the run group")},
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
    t = _logged_t(run.members[0] if run.members else run, steps)
    details: dict[str, float | int | str] = {"seeds": seeds, "steps": steps}
    mean = g2.mean(axis=0)
    x, y = downsample(t, mean)
    plot = PlotData(title="Gradient second moment at each step", xlabel="step t",
                    ylabel="mean ‖gₜ‖² over seeds", logy=bool((mean > 0).all()),
                    hlines=(("G²", bound),),
                    series=(PlotSeries(label="mean over seeds" if seeds > 1 else "run", x=x,
                                       y=y),))
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
    heavy = tail_ci.low <= 2.0
    if seeds < 2:
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
    from scipy import stats as sps

    sd = g2.std(axis=0, ddof=1)
    se = sd / math.sqrt(seeds)
    q = float(sps.t.ppf(1 - alpha / (2 * steps), seeds - 1))
    lows = np.maximum(mean - q * se, 0.0)
    highs = mean + q * se
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


# ---------------------------------------------------------------------------- the update
CLIP_BAND = 1e-5
"""Logged gradient norms within this relative distance of their maximum count as one cap."""


def _optimizer_names(run: Run) -> str:
    names = {note.split(": ", 1)[1].split(" (", 1)[0]
             for member in (run.members or (run,)) for note in member.provenance.notes
             if note.startswith("optimizer: ")}
    return ", ".join(sorted(names)) or "an optimiser other than torch.optim.SGD"


@hypothesis_check(
    statistic="largest ‖Δw + ηₜgₜ‖/‖ηₜgₜ‖ at the tracker's update probes (beyond rounding); "
              "the optimiser, momentum and weight decay the tracker saw; a cap on ‖gₜ‖",
    needs="the Tracker's update probes (samples update_probe_step, update_residual, "
          "update_rounding, update_plain_sgd, update_momentum, update_weight_decay)",
    settings={"update_tolerance": Setting(1e-6, 0.0, 0.5, "relative residual of the update "
                                          "beyond rounding accepted as −ηₜgₜ")},
    kind="proxy",
    not_covered="the update is compared with −ηₜgₜ at the probe steps only (every "
                "update_check_every steps); between probes the optimiser's class and settings "
                "are the evidence",
)
def plain_update(run: Run, ctx: Context) -> CheckOutcome:
    """h_update: the run is plain SGD, wₜ₊₁ = wₜ − ηₜgₜ with the gradient the tracker logged,
    so the expansion of eₜ₊₁ holds. Read from what the tracker saw, not from the config: the
    optimiser's class (Adam fails), momentum, weight decay, and the update itself against
    −ηₜgₜ (clipping after the hook, or any other rule, fails); a logged ‖gₜ‖ that sits at its
    maximum on several steps is clipping before the hook (fails)."""
    tol = ctx.setting("update_tolerance")
    if run.column("update_residual") is None:
        raise NotApplicable("the run has no update probes: log it with the Tracker "
                            "(update_check_every > 0); a config that says SGD is a declaration, "
                            "not a log of the update")
    residual = need(run, "update_residual", finite=False)
    probe_t = need(run, "update_probe_step")
    plain = need(run, "update_plain_sgd")
    momentum = need(run, "update_momentum")
    decay = need(run, "update_weight_decay")
    rounding = run.column("update_rounding")
    slack = np.nan_to_num(rounding, nan=0.0) if rounding is not None \
        and rounding.shape == residual.shape else np.zeros_like(residual)
    n = int(residual.shape[0])
    statistic = "max relative update residual beyond rounding"
    excess = np.where(np.isfinite(residual), residual - slack, 0.0)
    k = int(np.argmax(excess)) if n else 0
    value = max(float(excess[k]), 0.0) if n else 0.0
    ci = ConfidenceInterval(low=value, high=value, method="exact")
    common = {"statistic": statistic, "threshold": tol, "n": n, "ci": ci, "value": value,
              "details": {"probes": n, "worst_probe_step": int(probe_t[k]) if n else 0}}
    declared = run.config.get("optimizer")
    label = f" (the config declares {declared!r})" if declared is not None else ""
    if (plain < 1).any():
        i = int(np.argmax(plain < 1))
        return CheckOutcome(outcome="fails", **common,
                            reason=f"the tracker saw {_optimizer_names(run)} at step "
                                   f"{int(probe_t[i])}, not plain SGD{label}")
    if (momentum > 0).any():
        i = int(np.argmax(momentum))
        return CheckOutcome(outcome="fails", **common,
                            reason=f"SGD with momentum {float(momentum[i]):g} (step "
                                   f"{int(probe_t[i])}): not the plain update{label}")
    if (decay > 0).any():
        i = int(np.argmax(decay))
        return CheckOutcome(outcome="fails", **common,
                            reason=f"SGD with weight decay {float(decay[i]):g} (step "
                                   f"{int(probe_t[i])}): the update is not −ηₜgₜ{label}")
    if n and value > tol + stats.numeric_tolerance(tol):
        return CheckOutcome(outcome="fails", **common,
                            reason=f"at step {int(probe_t[k])} the update differs from −ηₜgₜ "
                                   f"by {float(residual[k]):.3g} of ‖ηₜgₜ‖ (rounding allows "
                                   f"{float(slack[k]):.2g}): the optimiser did not take the "
                                   "plain SGD step on the gradient the tracker logged "
                                   f"(clipping after the hook, or another rule){label}")
    for member in run.members or (run,):
        g = member.column("grad_norm")
        if g is None or g.shape[0] < 3 or not np.isfinite(g).any():
            continue
        top = float(np.nanmax(g))
        capped = int(np.sum(np.abs(g - top) <= CLIP_BAND * top))
        if top > 0 and capped >= 3:
            return CheckOutcome(outcome="fails", **common,
                                reason=f"the logged ‖gₜ‖ sits at its maximum {top:.6g} on "
                                       f"{capped} steps of run {member.id}: the gradient is "
                                       "clipped before the hook, not the plain SGD gradient")
    if n == 0 or not np.isfinite(residual).any():
        raise NotApplicable("no update probe saw a non-zero gradient")
    return CheckOutcome(
        outcome="holds", **common,
        reason=f"plain SGD at all {n} probes: torch.optim.SGD without momentum or weight "
               "decay, and the update equals −ηₜgₜ (largest residual "
               f"{float(np.nanmax(residual)):.2g} of ‖ηₜgₜ‖, rounding allows "
               f"{float(slack[k]):.2g}); steps between probes are not compared")


# ---------------------------------------------------------------------------- step sizes
@hypothesis_check(
    statistic="decay exponent p of ηₜ ~ C·t^(−p) (Robbins–Monro: 1/2 < p ≤ 1)",
    needs="config lr_schedule (a formula in t, decided by sympy) or a per-step lr column",
    settings={"decay_exponent_tolerance": Setting(0.02, 0.0, 0.5, "slack on p ≤ 1 for a "
                                                  "finite fit")},
)
def step_size_schedule(run: Run, ctx: Context) -> CheckOutcome:
    """Robbins–Monro step sizes: Σηₜ = ∞ and Σηₜ² < ∞."""
    formula = run.config.get("lr_schedule")
    logged = run.column("lr")
    if formula is not None and logged is not None and logged.shape[0] \
            and np.isfinite(logged).all():
        contradiction, _ = declared_against_logged(
            run, _logged_t(run, logged.shape[0]), logged, DECLARED_TOLERANCE)
        if contradiction is not None:
            return CheckOutcome(outcome="fails", statistic="declared lr_schedule against "
                                "the logged lr", n=int(logged.shape[0]), reason=contradiction,
                                details={"declared": str(formula), "source": "logged lr"})
    if formula is not None:  # agrees with the log where logged: it decides the infinite sums
        return _symbolic(run, formula)
    lr = need(run, "lr", min_n=20)
    steps = run.column("step")
    t = (steps - steps[0] + 1.0) if steps is not None and np.isfinite(steps).all() \
        else np.arange(1.0, lr.shape[0] + 1.0)
    tail = t >= max(1.0, 0.1 * float(t[-1]))
    lt, ll = t[tail], lr[tail]
    if (ll <= 0).any():
        raise NotApplicable("the logged step size reaches 0 in the tail; a finite schedule "
                            "cannot show the infinite-horizon conditions")
    x, y = downsample(t, lr)
    plot = PlotData(title="Step-size schedule", xlabel="step t", ylabel="ηₜ", logx=True,
                    logy=True, series=(PlotSeries(label="logged lr", x=x, y=y),))
    if stats.is_constant(ll):
        ci = ConfidenceInterval(low=0.0, high=0.0, method="exact")
        return CheckOutcome(outcome="fails", statistic="decay exponent p", value=0.0,
                            threshold=0.5, ci=ci, n=int(ll.shape[0]), plot=plot,
                            reason=f"constant step size {float(ll[0]):g}: Σηₜ² = ∞ "
                                   "(Robbins–Monro needs Σηₜ² < ∞)")
    idx = stats.geometric_indices(ll.shape[0], 2000)
    fit = stats.linear_fit(np.log(lt[idx]), np.log(ll[idx]))
    p = -fit.slope
    ci = stats.t_interval(p, float(fit.stderr), idx.shape[0] - 2)
    tol = ctx.setting("decay_exponent_tolerance")
    outcome, why = robbins_monro_exponent(ci, tol)
    return CheckOutcome(
        outcome=outcome, statistic="decay exponent p", value=p, threshold=0.5, ci=ci,
        n=int(idx.shape[0]), plot=plot,
        reason=f"{why} (fitted p = {p:.4g}, CI [{ci.low:.4g}, {ci.high:.4g}], "
               f"R² = {fit.r_squared:.3f})",
        details={"r_squared": fit.r_squared, "source": "logged lr"},
    )


def _logged_t(run: Run, n: int) -> FloatArray:
    """The 1-based step t of each logged row (from ``step`` when it is there)."""
    steps = run.column("step")
    if steps is not None and steps.shape[0] == n and np.isfinite(steps).all():
        t: FloatArray = steps - steps[0] + 1.0
        return t
    return np.arange(1.0, n + 1.0)


def declared_against_logged(run: Run, ts: FloatArray, lr: FloatArray, tol: float
                            ) -> tuple[str | None, str]:
    """(why the config's ``lr_schedule`` contradicts the logged lr, or ``None``; a note) —
    the declaration evaluated at every logged t against the logged lr, relative tolerance
    ``tol``. The log is what the optimiser used: a declaration is only ever checked against
    it, never used in its place."""
    formula = run.config.get("lr_schedule")
    if formula is None:
        return None, ""
    if not isinstance(formula, str):
        return (f"the config's lr_schedule {formula!r} is not a formula; the logged lr is "
                "what counts"), ""
    import sympy as sp

    from pipeline.evidence.schedule import FormulaError, parse_schedule

    try:
        eta, t = parse_schedule(formula, run.config)
    except FormulaError as exc:
        return None, f"; the declared lr_schedule is not checked ({exc})"
    if eta.free_symbols - {t}:
        names = ", ".join(sorted(str(x) for x in eta.free_symbols - {t}))
        return None, f"; the declared lr_schedule has unknown constants {names}, not checked"
    with np.errstate(all="ignore"):
        declared = np.asarray(sp.lambdify(t, eta, "numpy")(ts), dtype=float) * np.ones_like(ts)
        rel = np.abs(lr - declared) / np.maximum(np.abs(declared), 1e-300)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    k = int(np.argmax(rel))
    if rel[k] > tol + stats.numeric_tolerance(tol):
        return (f"the config declares lr_schedule = {formula!r}, ηₜ = {declared[k]:.4g} at "
                f"t = {int(ts[k])}, but the logged lr there is {lr[k]:.4g} "
                f"({float(rel[k]):.3g} relative; {int(np.sum(rel > tol))} of {ts.shape[0]} "
                "logged steps disagree): what was logged is what ran"), ""
    return None, f"; the declared lr_schedule {formula!r} agrees with the log"


@hypothesis_check(
    statistic="max over logged t of |λ·t·ηₜ − 1|",
    needs="a per-step lr column (the tracker logs it; a declared lr_schedule is checked "
          "against it, never used in its place); claim parameter lam",
    parameters=("lam",), version="4",
    settings={"step_tolerance": Setting(LR_ROUNDING, 0.0, 1.0, "largest relative deviation "
                                        "of ηₜ from 1/(λt) accepted; the default is the "
                                        "rounding of the logged floats (2⁻²¹), so the "
                                        "equality is tested as written; a larger one makes "
                                        "the verdict a proxy")},
)
def step_size_exact(run: Run, ctx: Context) -> CheckOutcome:
    """h_step_size as written, ηₜ = 1/(λt) with the claim's λ, at every logged t, read from
    the logged lr: |λtηₜ − 1| ≤ tol where tol defaults to what rounding of the logged floats
    alone can leave (:data:`LR_ROUNDING`): with λ fixed exactly by the log, the equality is
    an equality of logged numbers and is tested to rounding, not to a loosened tolerance. A
    claim that sets a larger ``step_tolerance`` gets a proxy verdict that says it certifies
    only |λtηₜ − 1| ≤ tol. In a run group every member's logged lr is tested against the one
    λ (not the group's mean lr). A config ``lr_schedule`` that contradicts the log fails it
    with the figure."""
    lam = ctx.param("lam")
    tol = ctx.setting("step_tolerance")
    if lam <= 0:
        raise NotApplicable(f"λ = {lam:g} must be positive for ηₜ = 1/(λt)")
    if run.column("lr") is None:
        declared = run.config.get("lr_schedule")
        raise NotApplicable("the run logs no lr column" + (
            f"; it declares lr_schedule = {declared!r}, but a declaration is not evidence of "
            "the steps taken (the Tracker logs the lr)" if declared is not None else ""))
    # every member of a run group is tested (a group's pooled lr is the mean over seeds,
    # which could hide two members off in opposite directions); one λ for all of them
    logs = []
    for member in run.members or (run,):
        if member.column("lr") is None:
            raise NotApplicable(f"member {member.id} of the group logs no lr column")
        m_lr = need(member, "lr", min_n=1)
        m_ts = _logged_t(member, m_lr.shape[0])
        m_devs = np.abs(lam * m_ts * m_lr - 1.0)
        if not np.isfinite(m_devs).all():
            raise NotApplicable(f"λtηₜ is not finite at some logged step of run {member.id}")
        logs.append((member.id, m_ts, m_lr, m_devs))
    worst_member = max(range(len(logs)), key=lambda i: float(logs[i][3].max()))
    member_id, ts, lr, devs = logs[worst_member]
    n_steps = sum(log[1].shape[0] for log in logs)
    where = f" of run {member_id}" if run.members else ""
    contradiction, note = declared_against_logged(run, ts, lr, max(tol, DECLARED_PRECISION))
    k = int(np.argmax(devs))
    worst = float(devs[k])
    ci = ConfidenceInterval(low=worst, high=worst, method="exact")
    x, y = downsample(ts, devs)
    plot = PlotData(title="Step size against 1/(λt)", xlabel="t", ylabel="|λtηₜ − 1|",
                    logx=True, hlines=(("tolerance", tol),),
                    series=(PlotSeries(label="deviation" + where, x=x, y=y),))
    cut = tol + stats.numeric_tolerance(tol)
    details: dict[str, float | int | str] = {
        "source": "logged lr", "worst_t": int(ts[k]), "runs": len(logs),
        "failing_steps": int(sum(np.sum(log[3] > cut) for log in logs))}
    if contradiction is not None:
        return CheckOutcome(
            outcome="fails", statistic="declared lr_schedule against the logged lr",
            value=worst, threshold=tol, ci=ci, n=n_steps, reason=contradiction,
            details=details | {"declared": str(run.config.get("lr_schedule"))}, plot=plot)
    outcome = stats.decide(ci, tol, "<=")
    exact = tol <= LR_ROUNDING
    within = "within float rounding" if exact else "within the claim's tolerance"
    runs = f" of {len(logs)} runs" if run.members else ""
    why = (f"ηₜ = 1/(λt) {within} (|λtηₜ − 1| ≤ {tol:.3g}) at all {n_steps} logged "
           f"steps{runs} (largest {worst:.3g} at t = {int(ts[k])}{where})"
           if outcome == "holds" else
           f"ηₜ is not 1/(λt) with λ = {lam:.6g}: |λtηₜ − 1| = {worst:.3g} > {tol:.3g} at "
           f"t = {int(ts[k])}{where} (logged lr {float(lr[k]):.8g}, 1/(λt) = "
           f"{1.0 / (lam * float(ts[k])):.8g}); {details['failing_steps']} of {n_steps} "
           f"logged steps{runs} are off")
    not_covered = None if exact else (
        f"step_tolerance {tol:.3g} is above the rounding of logged floats ({LR_ROUNDING:.2g}): "
        f"it certifies |λtηₜ − 1| ≤ {tol:.3g} at the logged steps, not ηₜ = 1/(λt) as "
        "h_step_size states")
    return CheckOutcome(
        outcome=outcome, statistic="max |λtηₜ − 1|", value=worst, threshold=tol, ci=ci,
        n=n_steps, reason=why + note, details=details, plot=plot,
        kind="direct" if exact else "proxy", not_covered=not_covered)


@hypothesis_check(
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
    statistic="max over logged t of ‖wₜ − w*‖² / (4G²/(λ²t))",
    needs="snapshots and sample w_star (one run: Markov test; a run group: mean over seeds); "
          "claim parameters lam, G2",
    parameters=("lam", "G2"),
    settings={"alpha": Setting(0.05, 1e-6, 0.5, "error rate of the test that fails it"),
              "power": Setting(0.8, 0.5, 0.99, "power used to size the run group")},
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
    x, y = downsample(t, mean / bound)
    plot = PlotData(title="‖wₜ − w*‖² against 4G²/(λ²t)", xlabel="t", ylabel="ratio to bound",
                    logx=True, logy=True, hlines=(("bound", 1.0),),
                    series=(PlotSeries(label="mean over seeds" if seeds > 1 else "run", x=x,
                                       y=y),))
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
    sd = e.std(axis=0, ddof=1)
    se = sd / math.sqrt(seeds)
    from scipy import stats as sps
    t_q = float(sps.t.ppf(1 - alpha / (2 * k_steps), seeds - 1))
    lows, highs = (mean - t_q * se) / bound, (mean + t_q * se) / bound
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


def robbins_monro_exponent(ci: ConfidenceInterval, tol: float) -> tuple[Outcome, str]:
    """Decide 1/2 < p ≤ 1 (+ ``tol``, a statistical slack for a finite fit) from an interval
    for the decay exponent p, with the numerical tolerance rule of :mod:`stats`: an exponent
    at 1/2 (Σ1/t diverges) fails, one at 1 (Σ1/t² converges) holds — whichever way the
    fit's last ulp fell."""
    above_half = stats.decide(ci, 0.5, ">")
    below_one = stats.decide(ci, 1.0 + tol, "<=")
    if above_half == "holds" and below_one == "holds":
        return "holds", "1/2 < p ≤ 1: Σηₜ = ∞ and Σηₜ² < ∞"
    if above_half == "fails":
        return "fails", "p ≤ 1/2: Σηₜ² = ∞"
    if below_one == "fails":
        return "fails", "p > 1: Σηₜ < ∞"
    return "inconclusive", "the interval for p crosses 1/2 or 1"


def _symbolic(run: Run, formula: object) -> CheckOutcome:
    if not isinstance(formula, str):
        raise NotApplicable(f"config lr_schedule must be a string formula, got {formula!r}")
    decision = decide_schedule(formula, run.config)
    plot = None
    if decision.expression:
        from pipeline.evidence.schedule import parse_schedule

        try:
            expr, t = parse_schedule(formula, run.config)
            free = expr.free_symbols - {t}
            if not free:
                import sympy as sp

                f = sp.lambdify(t, expr, "numpy")
                ts = np.unique(np.geomspace(1, 1e6, 200).astype(np.int64)).astype(float)
                ys = np.asarray(f(ts), dtype=float) * np.ones_like(ts)
                plot = PlotData(title=f"ηₜ = {decision.expression}", xlabel="t", ylabel="ηₜ",
                                logx=True, logy=bool((ys > 0).all()),
                                series=(PlotSeries(label="schedule", x=tuple(ts.tolist()),
                                                   y=tuple(ys.tolist())),))
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            plot = None
    return CheckOutcome(
        outcome=decision.outcome, statistic="Robbins–Monro conditions (sympy)",
        value=decision.decay_exponent, threshold=0.5, n=0, reason=decision.reason, plot=plot,
        details={"formula": decision.formula, "expression": decision.expression,
                 "sum_diverges": decision.sum_diverges,
                 "sum_squares_converges": decision.sum_squares_converges,
                 "rate_constant": decision.rate_constant, "source": "symbolic"},
    )


__all__ = [
    "bounded_second_moment",
    "curvature_ratios",
    "declared_against_logged",
    "distance_rate",
    "free_lower_bounds",
    "grad_sq_matrix",
    "initial_radius",
    "optimum_ratios",
    "plain_update",
    "step_size_exact",
    "step_size_schedule",
    "strong_convexity",
    "tail_index",
]
