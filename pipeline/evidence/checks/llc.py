"""Singular learning theory: is the model regular at its trained parameter (λ = d/2)?

The local learning coefficient λ̂ is read from the SGLD traces a run recorded
(:mod:`pipeline.evidence.llc`: samples ``llc_trace_<c>``, ``config["llc"]``); d is the number
of parameters the estimate was taken over. Regularity means λ = d/2; a singular model (a
neural network, a product parametrisation) has λ < d/2.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import llc
from pipeline.evidence.checks import Context, NotApplicable, Setting, downsample, hypothesis_check
from pipeline.evidence.models import CheckOutcome, PlotData, PlotSeries, Run

MAX_TRACE_POINTS = 600


def _llc_config(run: Run) -> dict[str, object]:
    cfg = run.config.get("llc")
    if not isinstance(cfg, dict):
        raise NotApplicable(
            "the run has no LLC estimate (config 'llc' and samples llc_trace_0, llc_trace_1, "
            f"…): record ≥ {llc.MIN_CHAINS} SGLD chains of ≥ {llc.MIN_DRAWS} draws after "
            "burn-in at the trained parameter (pipeline.evidence.sgld)")
    return cfg


def _int(cfg: dict[str, object], key: str, low: int) -> int:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise NotApplicable(f"config llc.{key} must be an integer ≥ {low}, got {value!r}")
    return value


@hypothesis_check(
    statistic="local learning coefficient λ̂ (SGLD, mean over chains) against d/2",
    needs="samples llc_trace_0…k (≥ 2 chains, ≥ 50 draws after burn-in) and config llc "
          "(d, burn_in, n, β, step size, γ)",
    settings={"regularity_tolerance": Setting(0.2, 0.0, 1.0, "relative distance from d/2 within which "
                                              "λ̂'s interval counts as d/2")},
)
def regularity(run: Run, ctx: Context) -> CheckOutcome:
    """The model is regular at w*: its local learning coefficient is d/2."""
    cfg = _llc_config(run)
    d = _int(cfg, "d", 1)
    burn_in = _int(cfg, "burn_in", 0)
    traces = llc.traces_of(run.samples)
    try:
        summary = llc.summarise(traces, burn_in=burn_in, d=d)
    except llc.Unusable as exc:
        raise NotApplicable(str(exc)) from None
    tol = ctx.setting("regularity_tolerance")
    half = d / 2
    low, high = half * (1 - tol), half * (1 + tol)
    ci = summary.ci
    r_hat = summary.r_hat
    if not math.isfinite(r_hat) or r_hat > llc.MAX_R_HAT:
        outcome = "inconclusive"
        why = (f"the chains have not mixed (split-R̂ = {r_hat:.3g} > {llc.MAX_R_HAT}); run "
               f"more draws (≥ {2 * summary.draws + burn_in} per chain) or more chains")
    elif low <= ci.low and ci.high <= high:
        outcome, why = "holds", f"λ̂ is within {tol:.0%} of d/2 = {half:g}: regular"
    elif ci.high < low:
        outcome, why = "fails", (f"λ̂ is below d/2 = {half:g} by more than {tol:.0%}: the "
                                 "model is singular at w*")
    elif ci.low > high:
        outcome, why = "inconclusive", (
            f"λ̂ is above d/2 = {half:g}, which no model's learning coefficient exceeds: the "
            "loss is probably not a per-sample negative log-likelihood, or n is wrong")
    else:
        outcome, why = "inconclusive", f"the interval for λ̂ straddles d/2 ± {tol:.0%}"
    series = []
    draws = np.arange(traces.shape[1], dtype=np.float64)
    for c in range(traces.shape[0]):
        x, y = downsample(draws, traces[c], MAX_TRACE_POINTS)
        series.append(PlotSeries(label=f"chain {c}", x=x, y=y))
    # when d/2 dwarfs λ̂ (a neural network) its line would flatten the traces: name it instead
    far = half > 20 * abs(summary.llc)
    lines = (("λ̂ (mean after burn-in)", summary.llc),) + (() if far else (("d/2", half),))
    plot = PlotData(title="Local learning coefficient: λ̂ₜ = nβ(Lₜ − L(w*)) per SGLD draw"
                          + (f"\n(d/2 = {half:g}, off the scale)" if far else ""),
                    xlabel=f"draw (first {burn_in} burn-in)", ylabel="λ̂ₜ",
                    series=tuple(series), hlines=lines)
    return CheckOutcome(
        outcome=outcome, statistic="λ̂ (local learning coefficient)", value=summary.llc,
        threshold=half, ci=ci, n=summary.chains * summary.draws, plot=plot,
        reason=(f"{why}: λ̂ = {summary.llc:.4g}, 95% CI [{ci.low:.4g}, {ci.high:.4g}] over "
                f"{summary.chains} chains of {summary.draws} draws, R̂ = {r_hat:.3f}, "
                f"d/2 = {half:g}"),
        details={"d": d, "r_hat": r_hat, "chains": summary.chains, "draws": summary.draws,
                 "burn_in": burn_in, "llc_over_half_d": summary.llc / half,
                 "chain_means": ", ".join(f"{m:.4g}" for m in summary.chain_means),
                 **{k: v for k in ("n", "beta", "step_size", "gamma", "batch_size")
                    if isinstance(v := cfg.get(k), int | float) or v is None}},
    )


__all__ = ["regularity"]
