"""λ-strong convexity towards the optimum (``h_strong_convexity``)."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, hypothesis_check, series_plot
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, FloatArray, Run, Snapshot

FAR = 20
"""Snapshots used by strong_convexity lie ≥ FAR × w*'s uncertainty radius from ŵ."""


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
    module=__package__,
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
    snaps, params, grads = _snapshots(members)
    kinds = sorted({sn.grad_kind for sn in snaps})
    full = kinds == ["full"]
    w_star, radius, where, use = _optimum(run, known, params, grads, lam if full else None)
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
    return CheckOutcome(
        outcome=outcome, statistic="min ⟨gₜ, wₜ − w*⟩/‖wₜ − w*‖²", value=float(ratio.min()),
        threshold=threshold, ci=ci, n=int(ratio.size), kind=kind, not_covered=not_covered,
        reason=f"{why}; min ratio {float(ratio.min()):.4g}, bounds [{ci.low:.4g}, "
               f"{ci.high:.4g}]; {where}",
        details={"min_ratio": float(ratio.min()), "median_ratio": float(np.median(ratio)),
                 "worst_step": int(steps[k]), "snapshots": len(snaps),
                 "grad_kind": ",".join(kinds), "w_star_radius": radius},
        plot=series_plot(steps, ratio, label="snapshots", style="scatter",
                         title="Curvature towards the optimum", xlabel="step",
                         ylabel="⟨g, w − w*⟩/‖w − w*‖²", hlines=(("λ", threshold),)),
    )


def _snapshots(members: tuple[Run, ...]) -> tuple[list[Snapshot], FloatArray, FloatArray]:
    """The members' snapshots that carry a gradient, their parameters and gradients."""
    snaps = [s for member in members for s in member.snapshots if s.grad is not None]
    if len(snaps) < 3:
        raise NotApplicable(f"the run has {len(snaps)} snapshots with gradients; "
                            "this check needs at least 3 (Tracker(snapshot_every=...))")
    params = np.stack([s.params for s in snaps])
    grads = np.stack([s.grad for s in snaps if s.grad is not None])
    if not (np.isfinite(params).all() and np.isfinite(grads).all()):
        raise NotApplicable("snapshots hold NaN/inf parameters or gradients")
    return snaps, params, grads


def _optimum(run: Run, known: FloatArray | None, params: FloatArray, grads: FloatArray,
             lam_full: float | None) -> tuple[FloatArray, float, str, slice]:
    """(w*, its uncertainty radius, where it comes from, the snapshots to test): the run's
    ``w_star``, else the last snapshot. ``lam_full`` is λ when the gradients are full-batch."""
    if known is not None:
        if known.shape[0] != params.shape[1]:
            raise NotApplicable(f"w_star has {known.shape[0]} values, the parameters "
                                f"{params.shape[1]}")
        return known, 0.0, "w* given by the run", slice(None)
    # w* estimated by the last snapshot; for a λ-strongly convex f with a full gradient,
    # ‖w_T − w*‖ ≤ ‖∇f(w_T)‖/λ (without λ: the last step's movement as a rough radius)
    g_last = float(np.linalg.norm(grads[-1]))
    radius = g_last / lam_full if lam_full else float(np.linalg.norm(params[-1] - params[-2]))
    where = f"w* estimated by the last snapshot (uncertainty radius {radius:.3g})"
    if run.members:
        where += (f"; only the first of the group's {len(run.members)} runs is tested "
                  "(log w_star to test every member)")
    return params[-1], radius, where, slice(0, -1)


__all__ = ["FAR", "optimum_ratios", "strong_convexity"]
