"""Hypotheses of the ensemble that asks a mentor for help: agreement implies correctness,
and the number of queries grows sublinearly."""

from __future__ import annotations

import math

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, Setting, hypothesis_check, need
from pipeline.evidence.checks.proportion import MARGIN, rate_outcome
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, PlotData, PlotSeries, Run


@hypothesis_check(statistic="P(correct | members agree)",
                  needs="0/1 columns agree and correct; claim setting "
                        "agreement_accuracy (0.95)",
                  settings={"agreement_accuracy": Setting(0.95, 0.0, 1.0),
                            "detectable_margin": MARGIN},
                  kind="proxy",
                  not_covered="the theorem assumes realizability (the mentor is one of the "
                              "hypotheses); agreement accuracy is an observable consequence")
def agreement_implies_correct(run: Run, ctx: Context) -> CheckOutcome:
    """When every ensemble member agrees, the shared answer is correct (w.p. ≥ 1 − δ)."""
    agree = need(run, "agree", binary=True)
    correct = need(run, "correct", binary=True)
    if agree.shape != correct.shape:
        raise NotApplicable(f"'agree' has {agree.shape[0]} values, 'correct' "
                            f"{correct.shape[0]}: they must be paired")
    threshold = ctx.setting("agreement_accuracy")
    outcome = rate_outcome(correct[agree == 1.0], statistic="accuracy when members agree",
                           threshold=threshold, direction="at_least",
                           margin=ctx.setting("detectable_margin"),
                           meaning="answers given without asking for help were correct",
                           serial=True)
    return outcome.model_copy(update={"details": {**outcome.details,
                                                  "agreement_rate": float(agree.mean())}})


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


__all__ = ["agreement_implies_correct", "query_rate_sublinear"]
