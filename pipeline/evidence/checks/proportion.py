"""The shared shape of checks on a rate of 0/1 outcomes (Clopper–Pearson interval)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Setting
from pipeline.evidence.models import CheckOutcome, FloatArray, PlotData, PlotSeries

DEFAULT_MARGIN = 0.1
MARGIN = Setting(DEFAULT_MARGIN, 0.005, 0.5, "smallest distance from the threshold the "
                 "minimum sample size is computed to detect (80 % power)")


def rate_outcome(
    outcomes: FloatArray, *, statistic: str, threshold: float,
    direction: Literal["at_least", "at_most"], meaning: str, margin: float = DEFAULT_MARGIN,
    serial: bool = False,
) -> CheckOutcome:
    """``meaning`` completes "the <statistic> ..."; outcomes are 0/1 values.

    ``serial``: the outcomes are a per-step series of one run (neighbours may be
    correlated), so the interval and the sample size count its effective size
    (:func:`stats.series_proportion_ci`, batch means), not the number of steps.

    The minimum sample size comes from a power calculation for ``threshold``: enough
    outcomes that a rate ``margin`` beyond it is decided with 80 % power
    (:func:`stats.proportion_sample_size`); below it the verdict is ``inconclusive`` with
    the number needed."""
    n = int(outcomes.shape[0])
    k = int(outcomes.sum())
    min_n = stats.proportion_sample_size(threshold, margin)
    n_eff = n
    if serial and n >= 2:
        ci, _k_eff, n_eff = stats.series_proportion_ci(outcomes)
    if n_eff < min_n:
        worth = f" (worth {n_eff} independent ones: the series is correlated)" \
            if n_eff < n else ""
        return CheckOutcome(outcome="inconclusive", statistic=statistic, n=n,
                            threshold=threshold, value=k / n if n else None,
                            details={"needed": min_n, "successes": k, "effective_n": n_eff},
                            reason=f"only {n} outcomes{worth}; deciding {statistic} against "
                                   f"{threshold:g} within ±{margin:g} with 80 % power needs "
                                   f"at least {min_n}")
    if not serial:
        ci = stats.proportion_ci(k, n)
    decide = stats.at_least if direction == "at_least" else stats.at_most
    outcome = decide(ci, threshold)
    sign = "≥" if direction == "at_least" else "≤"
    verb = {"holds": "is", "fails": "is not", "inconclusive": "cannot be shown to be"}[outcome]
    running = np.cumsum(outcomes) / np.arange(1, n + 1)
    idx = np.unique(np.geomspace(1, n, min(n, 400)).astype(np.int64)) - 1
    return CheckOutcome(
        outcome=outcome, statistic=statistic, value=k / n, threshold=threshold, ci=ci, n=n,
        reason=(f"{statistic} {k}/{n} = {k / n:.4f} (95% CI [{ci.low:.4f}, {ci.high:.4f}]) "
                f"{verb} {sign} {threshold:g}: {meaning}"),
        details={"successes": k, "effective_n": n_eff},
        plot=PlotData(title=statistic.capitalize(), xlabel="outcomes seen", ylabel=statistic,
                      logx=True, hlines=((f"threshold {threshold:g}", threshold),),
                      series=(PlotSeries(label="running rate",
                                         x=tuple((idx + 1).astype(float).tolist()),
                                         y=tuple(running[idx].tolist())),)),
    )


__all__ = ["DEFAULT_MARGIN", "MARGIN", "rate_outcome"]
