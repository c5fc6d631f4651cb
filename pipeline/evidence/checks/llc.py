"""Singular learning theory: is the model regular at its trained parameter (λ = d/2)?

The local learning coefficient λ̂ is read from the SGLD traces a run recorded
(:mod:`pipeline.evidence.llc`: samples ``llc_trace_<c>``, ``config["llc"]``); d is the number
of parameters the estimate was taken over. Exact regularity, λ = d/2, is an equality of reals
no run can confirm; the claim's theorem (``Formal.LLC.bic_free_energy``) asks for
|λ − d/2| ≤ δ with δ a claim constant, and that is what this check tests. A singular model (a
neural network, a product parametrisation) has λ < d/2.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import llc
from pipeline.evidence.checks import Context, NotApplicable, downsample, hypothesis_check
from pipeline.evidence.models import CheckOutcome, FloatArray, Outcome, PlotData, PlotSeries, Run

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


def _number(cfg: dict[str, object], key: str) -> float | None:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        return None
    return float(value)


def bias_allowance(cfg: dict[str, object]) -> float | None:
    """How far below λ the estimator's finite-n target may sit, for the run's n, β and γ:
    the bias of a normal crossing of multiplicity 2 (:func:`llc.crossing_bias`); None when
    the run does not record n and a positive γ (then no finite-n target exists)."""
    n, gamma, beta = cfg.get("n"), _number(cfg, "gamma"), _number(cfg, "beta")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2 or gamma is None or gamma <= 0:
        return None
    return llc.crossing_bias(n, gamma=gamma, beta=beta if beta and beta > 0 else None)


@hypothesis_check(
    statistic="local learning coefficient λ̂ (SGLD, mean over chains) against d/2 − δ",
    needs="samples llc_trace_0…k (≥ 2 chains, ≥ 50 draws after burn-in) and config llc "
          "(d, burn_in, n, β, step size, γ); the claim's tolerance δ",
    parameters=("δ",),
)
def regularity(run: Run, ctx: Context) -> CheckOutcome:
    """h_regular as written: |λ − d/2| ≤ δ, δ the claim's tolerance.

    Every learning coefficient is ≤ d/2, so the statement is λ ≥ d/2 − δ. The estimator's
    target at finite n, λₙ, lies *below* λ (the localised tempered posterior at β = 1/log n;
    for a multiplicity-2 crossing λ − λₙ ≈ 0.9/log(nβ/γ), 0.118 at n = 10⁴): so λ̂'s lower
    bound is a lower bound on λ (``holds`` when it is ≥ d/2 − δ), and an upper bound on λ is
    λ̂'s upper bound plus that bias (``fails`` when it is < d/2 − δ). Between the two, the
    finite-n bias could account for the gap: ``inconclusive``, never a verdict on it."""
    cfg = _llc_config(run)
    d = _int(cfg, "d", 1)
    burn_in = _int(cfg, "burn_in", 0)
    delta = ctx.param("δ")
    if delta < 0:
        raise NotApplicable(f"the tolerance δ = {delta:g} is negative: no λ satisfies "
                            "|λ − d/2| ≤ δ")
    traces = llc.traces_of(run.samples)
    try:
        summary = llc.summarise(traces, burn_in=burn_in, d=d)
    except llc.Unusable as exc:
        raise NotApplicable(str(exc)) from None
    half = d / 2
    floor = half - delta
    bias = bias_allowance(cfg)
    ci, r_hat = summary.ci, summary.r_hat
    outcome, why = _decide(summary, half, delta, bias, burn_in)
    plot = _trace_plot(traces, summary, (half, floor), burn_in)
    return CheckOutcome(
        outcome=outcome, statistic="λ̂ (local learning coefficient)", value=summary.llc,
        threshold=floor, ci=ci, n=summary.chains * summary.draws, plot=plot,
        reason=(f"{why}: λ̂ = {summary.llc:.4g}, 95% CI [{ci.low:.4g}, {ci.high:.4g}] over "
                f"{summary.chains} chains of {summary.draws} draws, R̂ = {r_hat:.3f}, "
                f"d/2 = {half:g}, δ = {delta:g}"),
        details={"d": d, "half_d": half, "delta": delta, "bias_allowance": bias, "r_hat": r_hat,
                 "chains": summary.chains, "draws": summary.draws,
                 "burn_in": burn_in, "llc_over_half_d": summary.llc / half,
                 "chain_means": ", ".join(f"{m:.4g}" for m in summary.chain_means),
                 **{k: v for k in ("n", "beta", "step_size", "gamma", "batch_size")
                    if isinstance(v := cfg.get(k), int | float) or v is None}},
    )


def _decide(summary: llc.LLCSummary, half: float, delta: float, bias: float | None,
            burn_in: int) -> tuple[Outcome, str]:
    """The verdict on |λ − d/2| ≤ δ from λ̂'s interval and the finite-n bias allowance."""
    floor = half - delta
    ci, r_hat = summary.ci, summary.r_hat
    outcome: Outcome
    if not math.isfinite(r_hat) or r_hat > llc.MAX_R_HAT:
        outcome = "inconclusive"
        why = (f"the chains have not mixed (split-R̂ = {r_hat:.3g} > {llc.MAX_R_HAT}); run "
               f"more draws (≥ {2 * summary.draws + burn_in} per chain) or more chains")
    elif ci.low > half + delta:
        outcome, why = "inconclusive", (
            f"λ̂ is above d/2 + δ = {half + delta:g}, and no model's learning coefficient "
            "exceeds d/2: the loss is probably not a per-sample negative log-likelihood, n is "
            "wrong, or the SGLD step is too large (its discretisation inflates λ̂)")
    elif ci.low >= floor:
        outcome, why = "holds", (
            f"λ ≥ λ̂'s lower bound {ci.low:.4g} ≥ d/2 − δ = {floor:g} (the finite-n target "
            f"only lies below λ, and λ ≤ d/2): |λ − d/2| ≤ δ = {delta:g}")
    elif bias is not None and ci.high + bias < floor:
        outcome, why = "fails", (
            f"λ ≤ λ̂'s upper bound {ci.high:.4g} + the finite-n bias allowance {bias:.3g} "
            f"< d/2 − δ = {floor:g}: the model is singular at w* beyond the tolerance")
    elif bias is None and ci.high < floor:
        outcome, why = "inconclusive", (
            f"λ̂'s interval is below d/2 − δ = {floor:g}, but the run records no n and γ > 0, "
            "so the estimator's finite-n bias cannot be bounded: not a verdict on λ")
    else:
        allowance = f" + the finite-n bias allowance {bias:.3g}" if bias is not None else ""
        outcome, why = "inconclusive", (
            f"λ̂'s interval [{ci.low:.4g}, {ci.high:.4g}]{allowance} straddles d/2 − δ = "
            f"{floor:g}: the data cannot tell whether |λ − d/2| ≤ δ")
    return outcome, why


def _trace_plot(traces: FloatArray, summary: llc.LLCSummary, lines_at: tuple[float, float],
                burn_in: int) -> PlotData:
    """The chains' λ̂ₜ per draw, with λ̂ and (unless off the scale) d/2 and d/2 − δ."""
    half, floor = lines_at
    series = []
    draws = np.arange(traces.shape[1], dtype=np.float64)
    for c in range(traces.shape[0]):
        x, y = downsample(draws, traces[c], MAX_TRACE_POINTS)
        series.append(PlotSeries(label=f"chain {c}", x=x, y=y))
    # when d/2 dwarfs λ̂ (a neural network) its line would flatten the traces: name it instead
    far = half > 20 * abs(summary.llc)
    lines = (("λ̂ (mean after burn-in)", summary.llc),) + (
        () if far else (("d/2", half), ("d/2 − δ", floor)))
    return PlotData(title="Local learning coefficient: λ̂ₜ = nβ(Lₜ − L(w*)) per SGLD draw"
                          + (f"\n(d/2 = {half:g}, off the scale)" if far else ""),
                    xlabel=f"draw (first {burn_in} burn-in)", ylabel="λ̂ₜ",
                    series=tuple(series), hlines=lines)


__all__ = ["bias_allowance", "regularity"]
