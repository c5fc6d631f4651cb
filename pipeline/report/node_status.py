"""Derived status of a claim's graph node from its proof status and hypothesis verdicts
(pure logic).

* *hypotheses checked*: every empirical hypothesis (one with a check, not assumed) has a
  verdict on at least one run that held data for it (an inconclusive verdict on zero
  samples means the run could not test it);
* *applies to run R*: decided by :func:`pipeline.evidence.evaluate.application` (proved,
  every empirical hypothesis holds on R — its statistical and, when recorded, its pytest
  verdict — and no conclusion check fails), with the hypotheses that hold only through a
  proxy, pytest/statistical disagreements, crashed checks and soundness alarms.

Proved and fully proved come from :mod:`pipeline.claims.proof_status`; nothing is re-derived here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pipeline.claims.models import HypothesisSummary
from pipeline.errors import EvidenceError
from pipeline.evidence.evaluate import application, fill_guarantee
from pipeline.evidence.models import HypothesisVerdict
from pipeline.report.models import Guarantee, NodeStatus, RunEvidence, VerdictRow


def run_evidence(
    hypotheses: Sequence[HypothesisSummary],
    per_run: Mapping[str, Sequence[HypothesisVerdict]],
    *,
    proved: bool,
    plots: Mapping[tuple[str, str], str] | None = None,
    guarantees: Mapping[str, tuple[str, float | None]] | None = None,
    conclusions: Sequence[str] | None = None,
) -> list[RunEvidence]:
    """One :class:`RunEvidence` per run in ``per_run`` (``{run_id: latest verdict of each
    binder on that run}``) that has any verdict, in the order of ``per_run``.

    ``plots`` maps ``(run_id, binder)`` to the plot's path inside the site; ``guarantees``
    maps a conclusion's name to its guarantee template and the value at which it says
    nothing, filled in with the parameters its verdict on each run used; ``conclusions``
    names the claim's conclusion checks (default: those with a verdict). A run where a
    conclusion is unverified or a certified bound is vacuous is not one the claim applies to.
    """
    plots = plots or {}
    order = {h.binder: i for i, h in enumerate(hypotheses)}
    empirical = [h.binder for h in hypotheses if h.empirical]
    result: list[RunEvidence] = []
    for run_id, verdicts in per_run.items():
        if not verdicts:
            continue
        chosen = sorted(verdicts, key=lambda v: (v.role == "conclusion",
                                                 order.get(v.binder, len(order)), v.binder,
                                                 v.source))
        seen = {v.binder for v in verdicts}
        certified = _guarantees(verdicts, guarantees or {})
        found = application(proved, verdicts, required=empirical, conclusions=conclusions,
                            vacuous=[g.conclusion for g in certified if g.vacuous])
        result.append(
            RunEvidence(
                **found.model_dump(exclude={"applies"}),
                applies=bool(empirical) and found.applies,
                run_id=run_id,
                rows=tuple(VerdictRow(verdict=v, plot=plots.get((run_id, v.binder))) for v in chosen),
                missing=tuple(b for b in empirical if b not in seen),
                guarantees=certified,
            )
        )
    return result


def _guarantees(verdicts: Sequence[HypothesisVerdict],
                templates: Mapping[str, tuple[str, float | None]]) -> tuple[Guarantee, ...]:
    out = []
    for v in verdicts:
        if v.role != "conclusion" or v.binder not in templates or not v.parameters:
            continue
        template, vacuous_at = templates[v.binder]
        try:
            text, values = fill_guarantee(template, dict(v.parameters))
        except EvidenceError:
            continue
        seeds = f" ({len(v.seeds)} seeds)" if len(v.seeds) > 1 else ""
        vacuous = vacuous_at is not None and bool(values) and values[0] >= vacuous_at
        bound = ", ".join(f"{name} = {value:.4g} ({v.provenance.get(name, 'claim')})"
                          for name, value in sorted(v.parameters.items())
                          if name in set(re.findall(r"[^\W\d][\w']*", template)))
        out.append(Guarantee(conclusion=v.binder, text=text + seeds, vacuous=vacuous,
                             parameters=bound))
    return tuple(out)


def node_status(
    *,
    pinned: bool,
    proved: bool,
    fully_proved: bool,
    hypotheses: Sequence[HypothesisSummary],
    runs: Sequence[RunEvidence],
) -> NodeStatus:
    empirical = [h.binder for h in hypotheses if h.empirical]
    seen = {row.verdict.binder for r in runs for row in r.rows if not row.no_data}
    return NodeStatus(
        pinned=pinned,
        proved=proved,
        fully_proved=fully_proved,
        empirical=len(empirical),
        hypotheses_checked=all(b in seen for b in empirical),
        applies_to=tuple(r.run_id for r in runs if r.applies),
        proxy_runs=tuple(r.run_id for r in runs if r.applies and r.via_proxy),
        alarms=tuple((r.run_id, a) for r in runs for a in r.alarms),
    )


__all__ = ["node_status", "run_evidence"]
