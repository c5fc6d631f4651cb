"""Derived status of a claim's graph node from its proof status and hypothesis verdicts
(pure logic).

* *hypotheses checked*: every empirical hypothesis (one with a check, not assumed) has a
  verdict on at least one run that held data for it (an inconclusive verdict on zero
  samples means the run could not test it);
* *applies to run R*: decided by :func:`pipeline.evidence.evaluate.applies` (proved, and
  every empirical hypothesis holds on R, by its latest verdict there).

Proved and fully proved come from :mod:`pipeline.claims.status`; nothing is re-derived here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.evidence.evaluate import applies
from pipeline.evidence.models import HypothesisVerdict
from pipeline.report.models import HypothesisRow, NodeStatus, RunEvidence, VerdictRow


def run_evidence(
    hypotheses: Sequence[HypothesisRow],
    per_run: Mapping[str, Sequence[HypothesisVerdict]],
    *,
    proved: bool,
    plots: Mapping[tuple[str, str], str] | None = None,
) -> list[RunEvidence]:
    """One :class:`RunEvidence` per run in ``per_run`` (``{run_id: latest verdict of each
    binder on that run}``) that has any verdict, in the order of ``per_run``.

    ``plots`` maps ``(run_id, binder)`` to the plot's path inside the site.
    """
    plots = plots or {}
    order = {h.binder: i for i, h in enumerate(hypotheses)}
    empirical = [h.binder for h in hypotheses if h.empirical]
    result: list[RunEvidence] = []
    for run_id, verdicts in per_run.items():
        if not verdicts:
            continue
        chosen = sorted(verdicts, key=lambda v: (order.get(v.binder, len(order)), v.binder))
        seen = {v.binder for v in verdicts}
        result.append(
            RunEvidence(
                run_id=run_id,
                rows=tuple(VerdictRow(verdict=v, plot=plots.get((run_id, v.binder))) for v in chosen),
                missing=tuple(b for b in empirical if b not in seen),
                applies=bool(empirical) and applies(proved, verdicts, required=empirical),
            )
        )
    return result


def node_status(
    *,
    pinned: bool,
    proved: bool,
    fully_proved: bool,
    hypotheses: Sequence[HypothesisRow],
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
    )


__all__ = ["node_status", "run_evidence"]
