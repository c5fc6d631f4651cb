"""The shared shape of checks on a rate of 0/1 outcomes (Clopper–Pearson interval)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.models import CheckOutcome, FloatArray, PlotData, PlotSeries


def rate_outcome(
    outcomes: FloatArray, *, statistic: str, threshold: float,
    direction: Literal["at_least", "at_most"], meaning: str, min_n: int = 20,
) -> CheckOutcome:
    """``meaning`` completes "the <statistic> ..."; outcomes are 0/1 values."""
    n = int(outcomes.shape[0])
    k = int(outcomes.sum())
    if n < min_n:
        return CheckOutcome(outcome="inconclusive", statistic=statistic, n=n,
                            threshold=threshold,
                            reason=f"only {n} outcomes; at least {min_n} are needed")
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
        details={"successes": k},
        plot=PlotData(title=statistic.capitalize(), xlabel="outcomes seen", ylabel=statistic,
                      logx=True, hlines=((f"threshold {threshold:g}", threshold),),
                      series=(PlotSeries(label="running rate",
                                         x=tuple((idx + 1).astype(float).tolist()),
                                         y=tuple(running[idx].tolist())),)),
    )


__all__ = ["rate_outcome"]
