"""The shared shapes of checks on 0/1 outcomes: a rate against a threshold
(Clopper–Pearson interval, :func:`rate_outcome`) and a ∀ statement over the logged items
(:func:`forall_outcome`: one counterexample fails it; none certifies a bound on the rate of
violating items, stated with the number seen)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Setting
from pipeline.evidence.models import (
    CheckOutcome,
    ConfidenceInterval,
    FloatArray,
    PlotData,
    PlotSeries,
)

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


def zero_count_bound(n: int, level: float = stats.LEVEL) -> float:
    """The exact one-sided upper confidence bound on a rate when none of ``n`` independent
    items violates: the Clopper–Pearson bound ``1 − (1 − level)^(1/n)`` (≈ 3/n at 95 %, the
    rule of three), the ``level`` quantile of Beta(1, n)."""
    from scipy import stats as sps

    return float(sps.beta.ppf(level, 1, n))


def items_needed(margin: float, level: float = stats.LEVEL) -> int:
    """The fewest items with no violation whose one-sided bound (:func:`zero_count_bound`)
    is below ``margin``: the power rule of a ∀ check (29 at 0.1, 95 %)."""
    return math.floor(math.log(1 - level) / math.log(1 - margin)) + 1


def _one(items: str) -> str:
    return {"leaves": "leaf"}.get(items, items.removesuffix("s"))


def _forall_plot(violating: FloatArray, statistic: str, items: str) -> PlotData | None:
    """Counterexamples found against the items seen (a ∀ holds only on a flat zero line)."""
    n = int(violating.shape[0])
    if n == 0:
        return None
    running = np.cumsum(violating > 0.5).astype(float)
    idx = np.unique(np.linspace(0, n - 1, min(n, 1500)).astype(np.int64))
    return PlotData(title=statistic.capitalize(), xlabel=f"{items} seen",
                    ylabel="counterexamples so far", hlines=(("∀: none", 0.0),),
                    series=(PlotSeries(label="counterexamples", x=tuple((idx + 1.0).tolist()),
                                       y=tuple(running[idx].tolist()), style="step"),))


def forall_outcome(violating: FloatArray, *, statistic: str, items: str, what: str,
                   not_seen: str, margin: float = DEFAULT_MARGIN,
                   threshold: float = 0.0) -> CheckOutcome:
    """A ∀ hypothesis (or conclusion) over logged items, ``violating[i]`` 1 when item i is a
    counterexample.

    One counterexample refutes it: ``fails``, direct, with the count and the first one.
    None among at least :func:`items_needed` items: ``holds`` as a **proxy** — the items
    seen are not every item the statement quantifies over (``not_seen`` says which were not
    seen) — stating what it certifies: the rate of violating items is at most
    :func:`zero_count_bound` at 95 % (exact, one-sided), with the number of items seen.
    Fewer items: ``inconclusive`` with the number needed."""
    n = int(violating.shape[0])
    bad = np.flatnonzero(violating > 0.5)
    plot = _forall_plot(violating, statistic, items)
    if bad.size:
        return CheckOutcome(
            plot=plot,
            outcome="fails", statistic=statistic, value=float(bad.size), threshold=threshold,
            n=n, details={"violations": int(bad.size), "first_violation": int(bad[0]),
                          "items_seen": n},
            reason=f"{bad.size} of {n} {items} {what} (first: {_one(items)} "
                   f"{int(bad[0])}); one is a counterexample to the ∀ statement")
    needed = items_needed(margin)
    if n < needed:
        return CheckOutcome(
            outcome="inconclusive", statistic=statistic, value=0.0, threshold=threshold, n=n,
            details={"needed": needed, "items_seen": n},
            reason=f"only {n} {items}, none a counterexample; certifying a rate of "
                   f"counterexamples below {margin:g} needs at least {needed}")
    bound = zero_count_bound(n)
    ci = ConfidenceInterval(low=0.0, high=bound, method="clopper-pearson (one-sided, "
                                                        "zero count)")
    certified = (f"it certifies only a rate of counterexamples ≤ {bound:.3g} at 95 % ({n} "
                 f"{items} seen)")
    return CheckOutcome(
        plot=plot,
        outcome="holds", statistic=statistic, value=0.0, threshold=threshold, n=n, ci=ci,
        kind="proxy", not_covered=f"{not_seen}; {certified}",
        details={"violations": 0, "items_seen": n, "violation_rate_bound": bound},
        reason=f"none of {n} {items} {what}: proxy for the ∀ statement, the 95 % upper bound "
               f"on the rate of such {items} is {bound:.3g} (exact, one-sided)")


__all__ = ["DEFAULT_MARGIN", "MARGIN", "forall_outcome", "items_needed", "rate_outcome",
           "zero_count_bound"]
