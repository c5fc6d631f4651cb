"""Hypotheses and conclusions of the agent that asks a mentor for help: agreement implies
correctness (realizability, a ∀ over agreed answers), the number of queries is at most
|H| − 1 (a count), and the number of queries grows sublinearly."""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, Setting, hypothesis_check, need
from pipeline.evidence.checks.proportion import MARGIN, forall_outcome
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, PlotData, PlotSeries, Run

REALIZABILITY_NOT_SEEN = (
    "realizability (the mentor's policy is one of the candidates) is not observed itself; "
    "its observable consequences are: no answer given without asking is wrong, and the "
    "candidates consistent with every mentor answer never run out. Inputs the stream did "
    "not show are not seen")


@hypothesis_check(statistic="answers given without asking that were wrong (h_realizable: "
                            "the mentor is one of the candidates)",
                  needs="0/1 columns agree and correct (per step); optional column "
                        "version_space (candidates still consistent with the mentor)",
                  settings={"detectable_margin": MARGIN}, version="2")
def agreement_implies_correct(run: Run, ctx: Context) -> CheckOutcome:
    """Realizability, through its consequences: when every candidate still consistent with
    the mentor's answers agrees, they agree with the mentor. One agreed answer that is wrong
    (or a step at which no candidate is consistent any more) refutes it — the mentor is not
    among the candidates; none certifies a bound on the rate of wrong agreed answers."""
    agree = need(run, "agree", binary=True)
    correct = need(run, "correct", binary=True)
    if agree.shape != correct.shape:
        raise NotApplicable(f"'agree' has {agree.shape[0]} values, 'correct' "
                            f"{correct.shape[0]}: they must be paired")
    space = run.column("version_space")
    if space is not None and space.shape == agree.shape and np.isfinite(space).all():
        empty = np.flatnonzero(space < 0.5)
        if empty.size:
            return CheckOutcome(
                outcome="fails", statistic="steps with no consistent candidate", n=int(
                    space.shape[0]), value=float(empty.size), threshold=0.0,
                details={"first_empty_step": int(empty[0]), "violations": int(empty.size)},
                reason=f"from step {int(empty[0])} no candidate agrees with every mentor "
                       "answer: the mentor is not one of the candidates (a counterexample "
                       "to realizability)")
    wrong = (agree == 1.0) & (correct == 0.0)
    outcome = forall_outcome(wrong[agree == 1.0].astype(float),
                             statistic="answers given without asking that were wrong",
                             items="agreed answers", what="are wrong",
                             not_seen=REALIZABILITY_NOT_SEEN,
                             margin=ctx.setting("detectable_margin"))
    if outcome.outcome == "fails":
        first = int(np.flatnonzero(wrong)[0])
        outcome = outcome.model_copy(update={
            "reason": outcome.reason + f" — at step {first} every candidate agreed and the "
                                       "mentor answered otherwise, so the mentor is not among "
                                       "them",
            "details": {**outcome.details, "first_step": first}})
    return outcome.model_copy(update={"details": {**outcome.details,
                                                  "agreement_rate": float(agree.mean())}})


@hypothesis_check(statistic="help queries against |H| − 1 (conclusion: at most |H| − 1 "
                            "queries, however long the stream)",
                  needs="0/1 per-step column queried; per-step column version_space (the "
                        "candidates consistent before the step: its first value is |H|)",
                  version="1")
def query_count(run: Run, ctx: Context) -> CheckOutcome:
    """Conclusion of mentor_queries: the agent asks at most |H| − 1 times. A count, exact:
    more queries than |H| − 1 fail it, at most that many hold (every step of the stream is
    logged, so nothing is left unseen). |H| is bound exactly by the log: the number of
    candidates consistent before the first step."""
    queried = need(run, "queried", binary=True)
    space = need(run, "version_space")
    size = float(space[0])
    if size < 1 or size != round(size) or space.shape != queried.shape:
        raise NotApplicable(f"version_space must count the candidates at every step (a whole "
                            f"number ≥ 1, one per step); its first value is {size:g}")
    total = int(queried.sum())
    limit = size - 1
    cum = np.cumsum(queried)
    over = np.flatnonzero(cum > limit)
    ci = ConfidenceInterval(low=float(total), high=float(total), method="exact (a count)")
    idx = np.unique(np.geomspace(1, queried.shape[0], min(queried.shape[0], 400))
                    .astype(np.int64)) - 1
    plot = PlotData(title="Help queries", xlabel="step", ylabel="queries so far",
                    hlines=((f"|H| − 1 = {limit:g}", limit),),
                    series=(PlotSeries(label="Q(T)", x=tuple((idx + 1.0).tolist()),
                                       y=tuple(cum[idx].astype(float).tolist())),))
    if over.size:
        return CheckOutcome(outcome="fails", statistic="help queries", value=float(total),
                            threshold=limit, ci=ci, n=int(queried.shape[0]), plot=plot,
                            details={"queries": total, "exceeded_at_step": int(over[0]),
                                     "H_size": size,
                                     "H_size_provenance": "exact: version_space at step 0"},
                            reason=f"{total} queries in {queried.shape[0]} steps, more than "
                                   f"|H| − 1 = {limit:g} (exceeded at step {int(over[0])})")
    return CheckOutcome(outcome="holds", statistic="help queries", value=float(total),
                        threshold=limit, ci=ci, n=int(queried.shape[0]), plot=plot,
                        details={"queries": total, "H_size": size,
                                 "H_size_provenance": "exact: version_space at step 0"},
                        reason=f"{total} queries in {queried.shape[0]} steps, at most "
                               f"|H| − 1 = {limit:g}")


@hypothesis_check(statistic="query-growth exponent α (Q(T) ~ T^α)",
                  needs="0/1 per-step column queried; claim setting "
                        "query_exponent_tolerance (0.1)",
                  settings={"query_exponent_tolerance": Setting(0.1, 0.0, 0.5)})
def query_rate_sublinear(run: Run, ctx: Context) -> CheckOutcome:
    """The number of help queries Q(T) is o(T).

    For Q(T) ∝ T^α, the queries in (T/4, T] are 4^α times those in (T/16, T/4]; the share
    π of the later window gives α = log₄(π/(1−π)) with a Clopper–Pearson interval.
    """
    queried = need(run, "queried", binary=True, min_n=160)
    n_steps = queried.shape[0]
    cum = np.cumsum(queried)
    total = int(cum[-1])
    sixteenth, quarter = n_steps // 16, n_steps // 4
    early = int(cum[quarter - 1] - cum[sixteenth - 1])
    late = int(cum[-1] - cum[quarter - 1])
    idx = np.unique(np.geomspace(1, n_steps, min(n_steps, 400)).astype(np.int64)) - 1
    plot = PlotData(title="Cumulative help queries", xlabel="step T", ylabel="Q(T)",
                    logx=True, logy=total > 0,
                    series=(PlotSeries(label="Q(T)", x=tuple((idx + 1.0).tolist()),
                                       y=tuple(cum[idx].astype(float).tolist())),
                            PlotSeries(label="linear reference",
                                       x=tuple((idx + 1.0).tolist()),
                                       y=tuple(((idx + 1.0) * max(total, 1) / n_steps)
                                               .tolist()))))
    tol = ctx.setting("query_exponent_tolerance")
    common = {"statistic": "query-growth exponent α", "threshold": 1.0, "plot": plot,
              "details": {"queries": total, "steps": n_steps, "window_early": early,
                          "window_late": late}}
    if late + early == 0:
        return CheckOutcome(outcome="holds", n=total, value=0.0,
                            reason=f"no queries after step {sixteenth} ({total} in all): Q(T) "
                                   "has stopped growing", **common)
    m = early + late
    # the queries are a per-step series: count the windows at their effective size
    window = queried[sixteenth:]
    shrink = stats.effective_size(window) / window.shape[0]
    m_eff = max(1, math.floor(m * shrink))
    ci_pi = stats.proportion_ci(round(late / m * m_eff), m_eff)

    def alpha(p: float) -> float:
        if p <= 0.0:
            return -math.inf
        if p >= 1.0:
            return math.inf
        return math.log(p / (1 - p), 4)

    value = alpha(late / m)
    ci = ConfidenceInterval(low=max(alpha(ci_pi.low), -50.0), high=min(alpha(ci_pi.high), 50.0),
                            method="clopper-pearson (transformed)" if m_eff == m else
                            f"clopper-pearson (transformed; effective {m_eff} of {m} queries)")
    if stats.decide(ci, 1.0, "<") == "holds":
        outcome, why = "holds", "queries grow sublinearly"
    elif stats.decide(ci, 1.0 - tol, ">=") == "holds":
        outcome, why = "fails", "the query rate does not fall: Q(T) grows linearly"
    else:
        outcome, why = "inconclusive", "the data cannot separate α from 1"
    return CheckOutcome(outcome=outcome, value=value, ci=ci, n=m,
                        reason=f"{why} (α = {value:.3g}, 95% CI [{ci.low:.3g}, {ci.high:.3g}] "
                               f"from {early} → {late} queries in (T/16,T/4] → (T/4,T])",
                        **common)


__all__ = ["agreement_implies_correct", "query_count", "query_rate_sublinear"]
