"""Paired statistics of an A/B run, and their simulated validation.

The unit of pairing is one (task, seed): variants A and B attempt the same pinned statement
with the same seed. Only *discordant* pairs (one variant succeeds, the other fails) carry
information about the success-rate difference; under the null hypothesis "A and B succeed
with the same probability on every task" each discordant pair favours B with probability
1/2, whatever the tasks' difficulties, so

* the **fixed-sample test** is McNemar's exact test (a two-sided sign test on the discordant
  pairs, :func:`scipy.stats.binomtest`), valid for any mix of task difficulties;
* the **sequential test** is a mixture martingale: the e-value
  ``E_m = ∫ θ^b (1-θ)^c dθ / 2^-m = 2^m · b! c! / (m+1)!`` (uniform mixture over θ) after
  ``m = b + c`` discordant pairs. ``E`` is a nonnegative martingale under the null, so by
  Ville's inequality ``P(sup_m E_m ≥ 1/α) ≤ α``: looking after every pair and stopping at
  the first crossing does not inflate the false-significant rate;
* intervals for attempts, time and cost are paired bootstrap percentile intervals that
  resample *tasks* (all seeds of a task together), with a fixed generator seed;
* more than two variants: every pair is tested and the p-values are Holm-adjusted.

:func:`plan` gives the number of pairs needed for a given power (exact, by enumerating the
number of discordant pairs), :func:`validate` simulates providers with known per-task
success probabilities and measures the false-significant rate and the power of both tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

from pipeline.models import Frozen

ALPHA = 0.05


class PairedTest(Frozen):
    """McNemar's exact test of one pair of variants."""

    n_pairs: int
    a_successes: int
    b_successes: int
    a_only: int
    """Discordant pairs where only A succeeded."""
    b_only: int
    difference: float
    """Success rate of B minus that of A, over the pairs."""
    difference_ci: tuple[float, float]
    """Exact-conditional 95 % interval of the difference: the Clopper–Pearson interval of the
    share of discordant pairs favouring B, scaled by the observed discordant rate."""
    p_value: float
    e_value: float
    """The mixture e-value after all pairs (sequential evidence; ≥ 1/α is significant)."""
    alpha: float = ALPHA


def mcnemar(a: Sequence[bool], b: Sequence[bool], alpha: float = ALPHA) -> PairedTest:
    """The exact paired test of success lists ``a`` and ``b`` (same pairs, same order)."""
    if len(a) != len(b):
        raise ValueError("paired outcomes must have the same length")
    n = len(a)
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    m = a_only + b_only
    if m == 0:
        p_value, ci = 1.0, (0.0, 0.0)
    else:
        test = sps.binomtest(b_only, m, 0.5)
        p_value = float(test.pvalue)
        lo, hi = test.proportion_ci(confidence_level=1 - alpha, method="exact")
        share = m / n
        ci = (share * (2 * float(lo) - 1), share * (2 * float(hi) - 1))
    return PairedTest(
        n_pairs=n, a_successes=sum(map(bool, a)), b_successes=sum(map(bool, b)),
        a_only=a_only, b_only=b_only, difference=(b_only - a_only) / n if n else 0.0,
        difference_ci=ci, p_value=p_value, e_value=e_value(b_only, a_only), alpha=alpha,
    )


def e_value(b: int, c: int) -> float:
    """Uniform-mixture e-value against θ = 1/2 after ``b`` and ``c`` discordant pairs."""
    m = b + c
    log_e = m * math.log(2) + gammaln(b + 1) + gammaln(c + 1) - gammaln(m + 2)
    return float(math.exp(min(log_e, 700.0)))


def sequential_stop(discordant: Sequence[bool], alpha: float = ALPHA) -> int | None:
    """The index (1-based count of discordant pairs) at which the e-value first reaches
    ``1/alpha``, or ``None``; ``discordant[i]`` is True when pair ``i`` favoured B."""
    b = c = 0
    for i, favours_b in enumerate(discordant, start=1):
        b, c = (b + 1, c) if favours_b else (b, c + 1)
        if e_value(b, c) >= 1 / alpha:
            return i
    return None


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error ≤ α for any dependence)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    k = len(p_values)
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def bootstrap_difference(
    a: Sequence[float], b: Sequence[float], clusters: Sequence[str], *,
    resamples: int = 2000, seed: int = 0, level: float = 0.95,
) -> tuple[float, tuple[float, float]] | None:
    """Mean of ``b - a`` over pairs and its percentile interval, resampling clusters (tasks)
    with replacement. ``None`` when no pair has both values (NaN marks a missing value)."""
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    keys = np.asarray(clusters)
    ok = ~np.isnan(diff)
    if not ok.any():
        return None
    diff, keys = diff[ok], keys[ok]
    names, index = np.unique(keys, return_inverse=True)
    sums = np.bincount(index, weights=diff, minlength=len(names))
    counts = np.bincount(index, minlength=len(names)).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(resamples, len(names)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(diff.mean()), (float(lo), float(hi))


# -- planning --------------------------------------------------------------------------------
@cache
def _reject_fixed(m: int, alpha: float) -> tuple[bool, ...]:
    """For m discordant pairs: which counts b favouring B make the exact test reject. Under
    θ = 1/2 the two-sided exact p-value is ``min(1, 2·min(P(X ≤ b), P(X ≥ b)))`` (the same
    value :func:`scipy.stats.binomtest` gives, since the null distribution is symmetric)."""
    if m == 0:
        return (False,)
    b = np.arange(m + 1)
    p = np.minimum(1.0, 2 * np.minimum(sps.binom.cdf(b, m, 0.5), sps.binom.sf(b - 1, m, 0.5)))
    return tuple(bool(x) for x in p <= alpha * (1 + 1e-9))


def _log_e_values(m: int) -> np.ndarray:
    b = np.arange(m + 1)
    return np.asarray(m * math.log(2) + gammaln(b + 1) + gammaln(m - b + 1) - gammaln(m + 2))


@cache
def _sequential_crossed(m_max: int, theta: float, alpha: float) -> tuple[float, ...]:
    """``P(the e-value crossed 1/α within m discordant pairs)`` for m = 0..m_max when each
    favours B with probability θ (dynamic programming over the count favouring B)."""
    alive = np.zeros(m_max + 2)
    alive[0] = 1.0
    crossed = [0.0]
    total = 0.0
    bar = math.log(1 / alpha)
    for m in range(1, m_max + 1):
        nxt = np.zeros_like(alive)
        nxt[1:] += alive[:-1] * theta
        nxt[:-1] += alive[:-1] * (1 - theta)  # b stays, c grows
        hit = np.zeros_like(alive, dtype=bool)
        hit[: m + 1] = _log_e_values(m) >= bar
        total += float(nxt[hit].sum())
        nxt[hit] = 0.0
        alive = nxt
        crossed.append(total)
    return tuple(crossed)


def power(n: int, p_a: float, p_b: float, *, alpha: float = ALPHA, sequential: bool = False) -> float:
    """Power of the exact (or sequential) paired test with ``n`` pairs when A and B succeed
    independently with probabilities ``p_a`` and ``p_b`` (exact, no simulation)."""
    p10, p01 = p_a * (1 - p_b), (1 - p_a) * p_b
    pd = p10 + p01
    if pd <= 0:
        return 0.0
    theta = p01 / pd
    counts = sps.binom.pmf(np.arange(n + 1), n, pd)
    if sequential:
        crossed = _sequential_crossed(n, theta, alpha)
        return float(sum(counts[m] * crossed[m] for m in range(n + 1)))
    total = 0.0
    for m in range(1, n + 1):
        if counts[m] < 1e-12:
            continue
        reject = _reject_fixed(m, alpha)
        pmf = sps.binom.pmf(np.arange(m + 1), m, theta)
        total += counts[m] * float(sum(p for p, r in zip(pmf, reject, strict=True) if r))
    return total


class Plan(Frozen):
    """Pairs (tasks × seeds) needed to detect ``p_b - p_a`` with the given power."""

    p_a: float
    p_b: float
    alpha: float
    target_power: float
    pairs: int
    power: float
    pairs_sequential: int
    power_sequential: float
    reached: bool
    """False: even ``pairs`` (the search's limit) falls short of the target power."""
    reached_sequential: bool
    assumption: str = ("outcomes of A and B independent given the rates; on tasks of mixed "
                       "difficulty A and B agree more often, which only raises the power")


def _smallest(p_a: float, p_b: float, alpha: float, target: float, sequential: bool,
              limit: int) -> tuple[int, float]:
    lo, hi = 1, 8
    while power(hi, p_a, p_b, alpha=alpha, sequential=sequential) < target:
        lo, hi = hi, hi * 2
        if hi > limit:
            return limit, power(limit, p_a, p_b, alpha=alpha, sequential=sequential)
    while lo < hi:  # power is not strictly monotone in n for exact tests: take the first n
        mid = (lo + hi) // 2  # after which the bracket holds, then step forward to be safe
        if power(mid, p_a, p_b, alpha=alpha, sequential=sequential) >= target:
            hi = mid
        else:
            lo = mid + 1
    n = lo
    while power(n, p_a, p_b, alpha=alpha, sequential=sequential) < target:
        n += 1
    return n, power(n, p_a, p_b, alpha=alpha, sequential=sequential)


def plan(p_a: float, p_b: float, *, alpha: float = ALPHA, target_power: float = 0.8,
         limit: int = 20_000) -> Plan:
    """How many pairs the fixed and the sequential test need to detect ``p_b`` vs ``p_a``."""
    if not (0 <= p_a <= 1 and 0 <= p_b <= 1) or p_a == p_b:
        raise ValueError("rates must lie in [0, 1] and differ")
    n, pw = _smallest(p_a, p_b, alpha, target_power, False, limit)
    ns, pws = _smallest(p_a, p_b, alpha, target_power, True, limit)
    return Plan(p_a=p_a, p_b=p_b, alpha=alpha, target_power=target_power, pairs=n, power=pw,
                pairs_sequential=ns, power_sequential=pws, reached=pw >= target_power,
                reached_sequential=pws >= target_power)


def _cross_table(m_max: int, alpha: float) -> np.ndarray:
    """``table[m, b]``: the e-value after ``m`` discordant pairs, ``b`` favouring B, is ≥ 1/α
    (the same decision as :func:`sequential_stop`, tabulated)."""
    table = np.zeros((m_max + 1, m_max + 1), dtype=bool)
    for m in range(1, m_max + 1):
        table[m, : m + 1] = _log_e_values(m) >= math.log(1 / alpha)
    return table


# -- validation by simulation ----------------------------------------------------------------
class Validation(Frozen):
    seed: int
    simulations: int
    alpha: float
    difficulty: str
    p_a: float
    p_b: float
    pairs: int
    pairs_sequential: int
    false_significant_rate: float
    power: float
    false_significant_rate_sequential: float
    power_sequential: float


def _simulate(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """One simulated run: ``n`` tasks whose difficulties differ (A succeeds with
    ``p_t ~ U(0.1, 0.7)``, mean 0.4), B with ``p_t + shift``; one seed per task."""
    p = rng.uniform(0.1, 0.7, size=n)
    a = rng.random(n) < p
    b = rng.random(n) < p + shift
    return a, b


def validate(*, seed: int = 20261207, simulations: int = 400, alpha: float = ALPHA) -> Validation:
    """False-significant rate (A/A: identical simulated providers) and power (B 20 points
    better) of the exact test at the planner's sample size, and of the sequential test
    peeking after every pair up to its planned maximum."""
    p_a, p_b = 0.4, 0.6
    planned = plan(p_a, p_b, alpha=alpha)
    rng = np.random.default_rng(seed)
    counts = {"fs": 0, "pw": 0, "fs_seq": 0, "pw_seq": 0}
    crosses = _cross_table(planned.pairs_sequential, alpha)
    for _ in range(simulations):
        for shift, key in ((0.0, "fs"), (p_b - p_a, "pw")):
            a, b = _simulate(rng, planned.pairs, shift)
            b_only, m = int((b & ~a).sum()), int((a != b).sum())
            counts[key] += _reject_fixed(m, alpha)[b_only] if m else False
            a, b = _simulate(rng, planned.pairs_sequential, shift)
            favours_b = b[a != b].astype(int)
            running = np.cumsum(favours_b)
            steps = np.arange(1, len(favours_b) + 1)
            counts[key + "_seq"] += bool(crosses[steps, running].any()) if len(steps) else False
    rate = {k: v / simulations for k, v in counts.items()}
    return Validation(
        seed=seed, simulations=simulations, alpha=alpha,
        difficulty="per-task success probability p_t ~ U(0.1, 0.7) for A; p_t + 0.2 for B",
        p_a=p_a, p_b=p_b, pairs=planned.pairs, pairs_sequential=planned.pairs_sequential,
        false_significant_rate=rate["fs"], power=rate["pw"],
        false_significant_rate_sequential=rate["fs_seq"], power_sequential=rate["pw_seq"],
    )


__all__ = [
    "ALPHA", "PairedTest", "Plan", "Validation", "bootstrap_difference", "e_value", "holm",
    "mcnemar", "plan", "power", "sequential_stop", "validate",
]
