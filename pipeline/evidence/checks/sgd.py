"""Hypotheses of SGD convergence (Chung's lemma): strong convexity, a bounded gradient
second moment, and a Robbins–Monro step-size schedule."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from pipeline.evidence import stats
from pipeline.evidence.checks import NotApplicable, downsample, hypothesis_check, need, setting
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

MAX_SNAPSHOTS = 80
N_BLOCKS = 20


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


@hypothesis_check(
    statistic="curvature ⟨Δg,Δθ⟩/‖Δθ‖² (5th percentile over snapshot pairs)",
    needs="≥ 3 parameter snapshots with gradients (full-batch preferred); optional config mu",
)
def strong_convexity(run: Run) -> CheckOutcome:
    """μ-strong convexity along the trajectory: ⟨∇f(θ)−∇f(θ'), θ−θ'⟩ ≥ μ‖θ−θ'‖²."""
    snaps = [s for s in run.snapshots if s.grad is not None]
    if len(snaps) < 3:
        raise NotApplicable(f"the run has {len(snaps)} snapshots with gradients; "
                            "this check needs at least 3 (Tracker(snapshot_every=...))")
    if len(snaps) > MAX_SNAPSHOTS:
        snaps = [snaps[i] for i in np.linspace(0, len(snaps) - 1, MAX_SNAPSHOTS).astype(int)]
    params = np.stack([s.params for s in snaps])
    grads = np.stack([s.grad for s in snaps if s.grad is not None])
    if not (np.isfinite(params).all() and np.isfinite(grads).all()):
        raise NotApplicable("snapshots hold NaN/inf parameters or gradients")
    ratios = curvature_ratios(params, grads)
    upper = ratios[np.triu_indices(len(snaps), 1)]
    pairs = upper[np.isfinite(upper)]
    if pairs.size < 3:
        raise NotApplicable("the snapshots do not move: fewer than 3 distinct pairs")
    q = 5.0
    value = float(np.percentile(pairs, q))
    rng = np.random.default_rng(0)
    boot = []
    s = len(snaps)
    for _ in range(400):
        idx = rng.integers(0, s, s)
        sub = ratios[np.ix_(idx, idx)][np.triu_indices(s, 1)]
        sub = sub[np.isfinite(sub)]
        if sub.size:
            boot.append(np.percentile(sub, q))
    low, high = np.quantile(boot, [0.025, 0.975])
    ci = ConfidenceInterval(low=float(low), high=float(high), method="bootstrap")
    mu = setting(run, "mu", None, low=0.0)
    tol = setting(run, "curvature_tolerance", 0.05, low=0.0, high=1.0) or 0.0
    floor = mu * (1 - tol) if mu else 0.0
    kinds = sorted({sn.grad_kind for sn in snaps})
    noisy = "" if kinds == ["full"] else " (mini-batch gradients: noisy curvature estimates)"
    scale = float(np.median(np.abs(pairs)))
    positive = stats.decide(ci, 0.0, ">", scale=scale)
    above = stats.decide(ci, floor, ">=", scale=scale) if mu else positive
    if positive == "fails":
        outcome, why = "fails", "the curvature is non-positive along the trajectory"
    elif mu and above == "fails":
        outcome, why = "fails", f"the curvature is below the claimed μ = {mu:g}"
    elif positive == "holds" and above == "holds":
        outcome, why = "holds", (f"the curvature stays ≥ {floor:g} on {pairs.size} pairs"
                                 if mu else "the curvature is bounded away from 0")
    else:
        outcome, why = "inconclusive", "the curvature interval straddles the threshold"
    steps = np.array([sn.step for sn in snaps], dtype=float)
    mids = ((steps[:, None] + steps[None, :]) / 2)[np.triu_indices(s, 1)][np.isfinite(upper)]
    x, y = downsample(mids, pairs)
    return CheckOutcome(
        outcome=outcome, statistic="curvature (5th percentile)", value=value,
        threshold=floor, ci=ci, n=int(pairs.size),
        reason=f"{why}: 5th percentile {value:.4g}, 95% CI [{ci.low:.4g}, {ci.high:.4g}]{noisy}",
        details={"min_ratio": float(pairs.min()), "median_ratio": float(np.median(pairs)),
                 "snapshots": s, "grad_kind": ",".join(kinds), "mu_claimed": mu},
        plot=PlotData(title="Curvature between snapshot pairs", xlabel="mean step of pair",
                      ylabel="⟨Δg,Δθ⟩/‖Δθ‖²",
                      series=(PlotSeries(label="pairs", x=x, y=y, style="scatter"),),
                      hlines=(("μ threshold", floor),)),
    )


# ---------------------------------------------------------------------------- second moment
def _grad_sq(run: Run) -> FloatArray:
    try:
        return need(run, "grad_sq", min_n=2 * N_BLOCKS)
    except NotApplicable:
        if run.column("grad_norm") is None:
            raise
        return need(run, "grad_norm", min_n=2 * N_BLOCKS) ** 2


@hypothesis_check(
    statistic="growth of E‖g‖² over the second half (log-slope), or max block mean vs bound",
    needs="per-step grad_sq (or grad_norm); optional config grad_second_moment_bound",
)
def bounded_second_moment(run: Run) -> CheckOutcome:
    """Bounded mini-batch gradient second moment: E‖gₜ‖² ≤ G² for all t."""
    g2 = _grad_sq(run)
    bound = setting(run, "grad_second_moment_bound", None, low=0.0)
    means, centres = stats.block_means(g2, N_BLOCKS)
    plot_x = tuple((centres * g2.shape[0]).tolist())
    hl: tuple[tuple[str, float], ...] = ()
    if bound is not None:
        # batch-means standard errors inside each block, Bonferroni over blocks
        sub = g2[g2.shape[0] % N_BLOCKS:].reshape(N_BLOCKS, 10, -1).mean(axis=2) \
            if g2.shape[0] >= N_BLOCKS * 10 else None
        se = (sub.std(axis=1, ddof=1) / math.sqrt(10)) if sub is not None else \
            np.full(N_BLOCKS, float(g2.std(ddof=1)) / math.sqrt(g2.shape[0] / N_BLOCKS))
        z = float(sps.norm.ppf(1 - 0.025 / N_BLOCKS))
        k = int(np.argmax(means))
        ci = ConfidenceInterval(low=float(np.max(means - z * se)),
                                high=float(np.max(means + z * se)), method="batch-means")
        outcome = stats.at_most(ci, bound)
        value, threshold, statistic = float(means[k]), bound, "max block mean of ‖g‖²"
        reason = (f"largest block mean of ‖g‖² is {value:.4g} (CI [{ci.low:.4g}, {ci.high:.4g}])"
                  f" against the bound G² = {bound:g}")
        hl = (("G² bound", bound),)
    else:
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
        }[outcome]
    return CheckOutcome(
        outcome=outcome, statistic=statistic, value=value, threshold=threshold, ci=ci,
        n=int(g2.shape[0]), reason=reason,
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
)
def step_size_schedule(run: Run) -> CheckOutcome:
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
    tol = setting(run, "decay_exponent_tolerance", 0.02, low=0.0, high=0.5) or 0.0
    outcome, why = robbins_monro_exponent(ci, tol)
    return CheckOutcome(
        outcome=outcome, statistic="decay exponent p", value=p, threshold=0.5, ci=ci,
        n=int(idx.shape[0]), plot=plot,
        reason=f"{why} (fitted p = {p:.4g}, CI [{ci.low:.4g}, {ci.high:.4g}], "
               f"R² = {fit.r_squared:.3f})",
        details={"r_squared": fit.r_squared, "source": "logged lr"},
    )


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
    "step_size_schedule",
    "strong_convexity",
]
