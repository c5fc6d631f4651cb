"""The paired comparison of a run's variants (:func:`compare`), as a pydantic report.

Pairs are (task, seed) where both variants have a verdict; ``error`` trials (a provider or
Lean failure) are left out of the pairs and counted, never scored as failures.
"""

from __future__ import annotations

import math
from itertools import combinations

from pipeline.ab import stats
from pipeline.ab.models import TrialRecord
from pipeline.ab.store import RunInfo
from pipeline.models import Frozen


class VariantSummary(Frozen):
    name: str
    digest: str
    trials: int
    errors: int
    successes: int
    success_rate: float | None
    mean_attempts_to_accept: float | None
    mean_wall_s: float | None
    mean_lean_s: float | None
    total_cost_usd: float | None
    """``None`` when some trial's cost is unknown (a model without a price)."""
    input_tokens: int
    output_tokens: int
    reviewer_agreement: float | None
    """Share of reviewed accepted proofs the cross-family reviewer judged faithful."""


class Interval(Frozen):
    estimate: float
    low: float
    high: float
    method: str = "paired bootstrap over tasks (2000 resamples, percentile 95 %)"


class PairComparison(Frozen):
    a: str
    b: str
    test: stats.PairedTest
    p_holm: float
    significant: bool
    """Holm-adjusted exact p ≤ α (a fixed-sample reading: valid when the run was not stopped
    on its own results)."""
    significant_sequential: bool
    """The always-valid e-value ≥ (number of pairs)/α: valid under any peeking."""
    excluded_pairs: int
    attempts: Interval | None
    wall_s: Interval | None
    lean_s: Interval | None
    cost_usd: Interval | None


class Comparison(Frozen):
    run_id: str
    suite: str
    suite_digest: str
    status: str
    seeds: int
    alpha: float
    variants: tuple[VariantSummary, ...]
    pairs: tuple[PairComparison, ...]
    tasks: tuple[str, ...]
    outcomes: dict[str, dict[str, str]]
    """task id -> variant -> verdicts over seeds (``A`` accepted, ``x`` not, ``!`` error)."""
    plan_hint: stats.Plan | None
    """Pairs the fixed and sequential tests need for the observed rates of the first two
    variants, if they differ."""


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _summary(name: str, digest: str, records: list[TrialRecord]) -> VariantSummary:
    ok = [r for r in records if r.verdict != "error"]
    accepted = [r for r in ok if r.success]
    reviewed = [r.reviewer_agrees for r in accepted if r.reviewer_agrees is not None]
    costs = [r.cost_usd for r in ok]
    return VariantSummary(
        name=name, digest=digest, trials=len(records), errors=len(records) - len(ok),
        successes=len(accepted), success_rate=len(accepted) / len(ok) if ok else None,
        mean_attempts_to_accept=_mean([float(r.attempts) for r in accepted]),
        mean_wall_s=_mean([r.wall_s for r in ok]), mean_lean_s=_mean([r.lean_s for r in ok]),
        total_cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        input_tokens=sum(r.input_tokens for r in ok), output_tokens=sum(r.output_tokens for r in ok),
        reviewer_agreement=_mean([1.0 if x else 0.0 for x in reviewed]),
    )


def _interval(a: list[float], b: list[float], clusters: list[str]) -> Interval | None:
    found = stats.bootstrap_difference(a, b, clusters)
    if found is None:
        return None
    estimate, (low, high) = found
    return Interval(estimate=estimate, low=low, high=high)


def compare(info: RunInfo, records: list[TrialRecord], alpha: float = stats.ALPHA) -> Comparison:
    names = [v.name for v in info.variants]
    by_key = {(r.task_id, r.seed, r.variant): r for r in records}
    units = sorted({(r.task_id, r.seed) for r in records},
                   key=lambda u: (info.task_ids.index(u[0]) if u[0] in info.task_ids else 0, u[1]))
    pair_names = list(combinations(names, 2))
    tests: list[tuple[str, str, stats.PairedTest, int, list[tuple[TrialRecord, TrialRecord]]]] = []
    for a, b in pair_names:
        both, excluded = [], 0
        for unit in units:
            ra, rb = by_key.get((*unit, a)), by_key.get((*unit, b))
            if ra is None or rb is None:
                continue
            if "error" in (ra.verdict, rb.verdict):
                excluded += 1
                continue
            both.append((ra, rb))
        test = stats.mcnemar([x.success for x, _ in both], [y.success for _, y in both], alpha)
        tests.append((a, b, test, excluded, both))
    adjusted = stats.holm([t[2].p_value for t in tests]) if tests else []
    pairs = []
    nan = math.nan
    for (a, b, test, excluded, both), p_holm in zip(tests, adjusted, strict=True):
        clusters = [x.task_id for x, _ in both]
        solved = [(x, y) for x, y in both if x.success and y.success]
        pairs.append(PairComparison(
            a=a, b=b, test=test, p_holm=p_holm, significant=p_holm <= alpha,
            significant_sequential=test.e_value >= len(tests) / alpha, excluded_pairs=excluded,
            attempts=_interval([float(x.attempts) for x, _ in solved],
                               [float(y.attempts) for _, y in solved], [x.task_id for x, _ in solved]),
            wall_s=_interval([x.wall_s for x, _ in both], [y.wall_s for _, y in both], clusters),
            lean_s=_interval([x.lean_s for x, _ in both], [y.lean_s for _, y in both], clusters),
            cost_usd=_interval([x.cost_usd if x.cost_usd is not None else nan for x, _ in both],
                               [y.cost_usd if y.cost_usd is not None else nan for _, y in both],
                               clusters),
        ))
    outcomes: dict[str, dict[str, str]] = {}
    for r in sorted(records, key=lambda r: r.seed):
        mark = "!" if r.verdict == "error" else "A" if r.success else "x"
        row = outcomes.setdefault(r.task_id, {})
        row[r.variant] = row.get(r.variant, "") + mark
    summaries = tuple(_summary(v.name, v.digest, [r for r in records if r.variant == v.name])
                      for v in info.variants)
    hint = None
    rates = [s.success_rate for s in summaries[:2]]
    if rates[0] is not None and rates[1] is not None and rates[0] != rates[1]:
        hint = stats.plan(rates[0], rates[1], alpha=alpha, limit=2000)
    return Comparison(
        run_id=info.id, suite=f"{info.suite_name} v{info.suite_version}",
        suite_digest=info.suite_digest, status=info.status, seeds=info.seeds, alpha=alpha,
        variants=summaries, pairs=tuple(pairs),
        tasks=tuple(t for t in info.task_ids if t in outcomes), outcomes=outcomes,
        plan_hint=hint,
    )


__all__ = ["Comparison", "Interval", "PairComparison", "VariantSummary", "compare"]
