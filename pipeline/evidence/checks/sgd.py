"""Hypotheses of SGD convergence (Chung's lemma): strong convexity, a bounded gradient
second moment, and a Robbins–Monro step-size schedule."""

from __future__ import annotations

import math

import numpy as np  # scipy.stats is imported where used: ~1 s that every CLI start paid

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    Context,
    Kind,
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

N_BLOCKS = 20
FAR = 20
"""Snapshots used by strong_convexity lie ≥ FAR × w*'s uncertainty radius from ŵ."""


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
    parameters=("lam",), version="2",
)
def strong_convexity(run: Run, ctx: Context) -> CheckOutcome:
    """λ-strong convexity as used by the theorem: ⟨gₜ, wₜ − w*⟩ ≥ λ‖wₜ − w*‖² at every
    logged step (lower confidence bound over the steps, w*'s uncertainty carried)."""
    lam = ctx.maybe_param("lam")
    snaps = [s for s in run.snapshots if s.grad is not None]
    if len(snaps) < 3:
        raise NotApplicable(f"the run has {len(snaps)} snapshots with gradients; "
                            "this check needs at least 3 (Tracker(snapshot_every=...))")
    params = np.stack([s.params for s in snaps])
    grads = np.stack([s.grad for s in snaps if s.grad is not None])
    if not (np.isfinite(params).all() and np.isfinite(grads).all()):
        raise NotApplicable("snapshots hold NaN/inf parameters or gradients")
    known = run.column("w_star")
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
    why = {"holds": f"⟨gₜ, wₜ − w*⟩ ≥ {threshold:g}·‖wₜ − w*‖² at all {ratio.size} logged steps",
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
def _grad_sq(run: Run) -> FloatArray:
    try:
        return need(run, "grad_sq", min_n=2 * N_BLOCKS)
    except NotApplicable:
        if run.column("grad_norm") is None:
            raise
        return need(run, "grad_norm", min_n=2 * N_BLOCKS) ** 2


def block_bounds(g2: FloatArray, n_blocks: int = N_BLOCKS, sub: int = 10
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Means of ``n_blocks`` contiguous blocks with batch-means standard errors (each block
    cut into ``sub`` batches, any run length); returns (means, standard errors, centres)."""
    means, centres = stats.block_means(g2, n_blocks)
    n = g2.shape[0] - g2.shape[0] % n_blocks
    blocks = g2[g2.shape[0] - n:].reshape(n_blocks, -1)
    if blocks.shape[1] < 2:
        return means, np.full(n_blocks, float(g2.std(ddof=1))), centres
    se = np.array([stats.batch_means(row, sub).se for row in blocks])
    return means, se, centres


@hypothesis_check(
    statistic="block means of ‖gₜ‖² against G² at every block (batch-means, Bonferroni)",
    needs="per-step grad_sq (or grad_norm); claim parameter G2 (without it: growth proxy)",
    parameters=("G2",), version="2",
)
def bounded_second_moment(run: Run, ctx: Context) -> CheckOutcome:
    """Bounded mini-batch gradient second moment: E‖gₜ‖² ≤ G² for all t."""
    g2 = _grad_sq(run)
    bound = ctx.maybe_param("G2")
    means, se, centres = block_bounds(g2)
    plot_x = tuple((centres * g2.shape[0]).tolist())
    hl: tuple[tuple[str, float], ...] = ()
    kind: Kind = "direct"
    not_covered = None
    if bound is not None:
        from scipy import stats as sps
        z = float(sps.norm.ppf(1 - 0.025 / N_BLOCKS))
        lows, highs = means - z * se, means + z * se
        per_block = [stats.decide(ConfidenceInterval(low=float(lo), high=float(hi),
                                                     method="batch-means"), bound, "<=")
                     for lo, hi in zip(lows, highs, strict=True)]
        k = int(np.argmax(highs))
        ci = ConfidenceInterval(low=float(np.max(lows)), high=float(np.max(highs)),
                                method="batch-means")
        if "fails" in per_block:
            outcome: Outcome = "fails"
            k = per_block.index("fails")
        elif all(o == "holds" for o in per_block):
            outcome = "holds"
        else:
            outcome = "inconclusive"
        value, threshold, statistic = float(means[k]), bound, "block means of ‖g‖²"
        reason = (f"block {k + 1} of {N_BLOCKS} has mean ‖g‖² {value:.4g} (simultaneous CI "
                  f"[{lows[k]:.4g}, {highs[k]:.4g}]) against G² = {bound:g}; every block "
                  + {"holds": "is below", "fails": "must be below; this one is above",
                     "inconclusive": "must be below; this one is not clearly"}[outcome])
        hl = (("G²", bound),)
    else:
        kind, not_covered = "proxy", ("no G² bound by a claim: only tests that E‖gₜ‖² stops "
                                      "growing, not that it stays below a given G²")
        half = g2[g2.shape[0] // 2:]
        hm, hc = stats.block_means(half, N_BLOCKS)
        logm = np.log(np.maximum(hm, 1e-300))
        fit = stats.linear_fit(hc, logm)
        ci = stats.t_interval(fit.slope, fit.stderr, N_BLOCKS - 2)
        threshold = math.log(2.0)
        value, statistic = fit.slope, "log-growth of E‖g‖² over the second half"
        outcome = stats.decide(ci, threshold, "<")
        factor = math.exp(min(value, 700.0))
        reason = {
            "holds": f"E‖g‖² does not grow in the second half (×{factor:.3g}, CI of the "
                     f"log-growth [{ci.low:.3g}, {ci.high:.3g}] < log 2); max block mean "
                     f"{float(means.max()):.4g}",
            "fails": f"E‖g‖² keeps growing (×{factor:.3g} over the second half): unbounded",
            "inconclusive": f"the growth of E‖g‖² (×{factor:.3g}) is not clearly below or "
                            "above a doubling",
            "error": "",
        }[outcome]
    return CheckOutcome(
        outcome=outcome, statistic=statistic, value=value, threshold=threshold, ci=ci,
        n=int(g2.shape[0]), reason=reason, kind=kind, not_covered=not_covered,
        details={"max_block_mean": float(means.max()), "last_block_mean": float(means[-1]),
                 "first_block_mean": float(means[0])},
        plot=PlotData(title="Mini-batch gradient second moment", xlabel="step",
                      ylabel="block mean of ‖g‖²", logy=True, hlines=hl,
                      series=(PlotSeries(label="block means", x=plot_x,
                                         y=tuple(means.tolist()), style="step"),)),
    )


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
    if formula is not None:
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


@hypothesis_check(
    statistic="max over logged t of |λ·t·ηₜ − 1|",
    needs="config lr_schedule (a formula in t) or a per-step lr column; claim parameter lam",
    parameters=("lam",),
    settings={"step_tolerance": Setting(0.01, 0.0, 1.0, "largest relative deviation of "
                                        "ηₜ from 1/(λt) accepted")},
)
def step_size_exact(run: Run, ctx: Context) -> CheckOutcome:
    """The step sizes are ηₜ = 1/(λt) with the claim's λ: |λ t ηₜ − 1| ≤ tol at every
    logged t (decided exactly by sympy when the schedule is a formula)."""
    import sympy as sp

    from pipeline.evidence.schedule import FormulaError, parse_schedule

    lam = ctx.param("lam")
    tol = ctx.setting("step_tolerance")
    if lam <= 0:
        raise NotApplicable(f"λ = {lam:g} must be positive for ηₜ = 1/(λt)")
    formula = run.config.get("lr_schedule")
    horizon = run.n_steps or run.config.get("steps")
    if formula is not None:
        if not isinstance(formula, str):
            raise NotApplicable(f"config lr_schedule must be a string formula, got {formula!r}")
        try:
            eta, t = parse_schedule(formula, run.config)
        except FormulaError as exc:
            raise NotApplicable(str(exc)) from exc
        if eta.free_symbols - {t}:
            names = ", ".join(sorted(str(x) for x in eta.free_symbols - {t}))
            raise NotApplicable(f"the schedule {formula!r} has unknown constants {names}")
        dev = sp.simplify(sp.nsimplify(lam, rational=True) * t * eta - 1)
        if dev == 0:
            ci = ConfidenceInterval(low=0.0, high=0.0, method="exact (sympy)")
            return CheckOutcome(
                outcome="holds", statistic="max |λtηₜ − 1|", value=0.0, threshold=tol, ci=ci,
                n=0, reason=f"ηₜ = {eta} is exactly 1/(λt) with λ = {lam:g} for every t "
                            "(sympy)", details={"source": "symbolic", "expression": str(eta)})
        if not isinstance(horizon, int) or horizon < 1:
            raise NotApplicable("the schedule is not exactly 1/(λt) and the run logs no "
                                "steps to check it on (no metrics, no config steps)")
        ts = np.arange(1.0, float(horizon) + 1.0)
        f = sp.lambdify(t, dev, "numpy")
        devs = np.abs(np.asarray(f(ts), dtype=float) * np.ones_like(ts))
        source = "symbolic"
    else:
        lr = need(run, "lr", min_n=1)
        ts = _logged_t(run, lr.shape[0])
        devs = np.abs(lam * ts * lr - 1.0)
        source = "logged lr"
    if not np.isfinite(devs).all():
        raise NotApplicable("λtηₜ is not finite at some logged step")
    k = int(np.argmax(devs))
    worst = float(devs[k])
    ci = ConfidenceInterval(low=worst, high=worst, method="exact")
    outcome = stats.decide(ci, tol, "<=")
    why = (f"|λtηₜ − 1| ≤ {tol:g} at all {ts.shape[0]} logged steps (largest {worst:.3g} at "
           f"t = {int(ts[k])})" if outcome == "holds" else
           f"ηₜ is not 1/(λt) with λ = {lam:g}: |λtηₜ − 1| = {worst:.3g} > {tol:g} at "
           f"t = {int(ts[k])}")
    x, y = downsample(ts, devs)
    return CheckOutcome(
        outcome=outcome, statistic="max |λtηₜ − 1|", value=worst, threshold=tol, ci=ci,
        n=int(ts.shape[0]), reason=why,
        details={"source": source, "worst_t": int(ts[k]),
                 "failing_steps": int(np.sum(devs > tol + stats.numeric_tolerance(tol)))},
        plot=PlotData(title="Step size against 1/(λt)", xlabel="t", ylabel="|λtηₜ − 1|",
                      logx=True, hlines=(("tolerance", tol),),
                      series=(PlotSeries(label="deviation", x=x, y=y),)),
    )


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
    "block_bounds",
    "bounded_second_moment",
    "curvature_ratios",
    "distance_rate",
    "initial_radius",
    "optimum_ratios",
    "step_size_exact",
    "step_size_schedule",
    "strong_convexity",
]
