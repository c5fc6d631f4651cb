"""Derived node status: hypotheses checked, applies to run R, thin evidence."""

from __future__ import annotations

from pipeline.claims.models import HypothesisSummary
from pipeline.report.models import Level, NodeStatus, VerdictRow
from pipeline.report.node_status import node_status, run_evidence
from tests.report.factories import verdict

HYPS = (
    HypothesisSummary(binder="h_a", meaning="a", check="m:a"),
    HypothesisSummary(binder="h_b", meaning="b", check="m:b"),
    HypothesisSummary(binder="h_assumed", meaning="c", check="m:c", assumed=True, justification="j"),
    HypothesisSummary(binder="h_formal", meaning="d"),
)


def test_applies_only_where_every_empirical_hypothesis_holds_and_the_claim_is_proved() -> None:
    per_run = {
        "r1": [verdict("h_b", "r1"), verdict("h_a", "r1")],
        "r2": [verdict("h_a", "r2"), verdict("h_b", "r2", "fails")],
        "r3": [verdict("h_a", "r3")],
        "r4": [verdict("h_a", "r4"), verdict("h_b", "r4", "inconclusive")],
        "r5": [],
    }
    runs = run_evidence(HYPS, per_run, proved=True)
    assert [r.run_id for r in runs] == ["r1", "r2", "r3", "r4"]
    assert [r.applies for r in runs] == [True, False, False, False]
    assert [row.verdict.binder for row in runs[0].rows] == ["h_a", "h_b"]  # claim's order
    assert runs[2].missing == ("h_b",)  # the assumed and formal ones are never "missing"
    unproved = run_evidence(HYPS, per_run, proved=False)
    assert not any(r.applies for r in unproved)


def test_node_status_levels_and_hypotheses_checked() -> None:
    runs = run_evidence(HYPS, {"r1": [verdict("h_a", "r1")], "r2": [verdict("h_b", "r2", "fails")]},
                        proved=True)
    st = node_status(pinned=True, proved=True, fully_proved=False, hypotheses=HYPS, runs=runs)
    assert st.empirical == 2 and st.hypotheses_checked and st.applies_to == ()
    assert st.level is Level.proved and st.label == "proved"
    partial = node_status(pinned=True, proved=True, fully_proved=True, hypotheses=HYPS, runs=runs[:1])
    assert not partial.hypotheses_checked and partial.level is Level.fully_proved
    assert NodeStatus(pinned=True, proved=False, fully_proved=False, empirical=0,
                      hypotheses_checked=True).level is Level.pinned
    assert NodeStatus(pinned=False, proved=False, fully_proved=False, empirical=0,
                      hypotheses_checked=True).level is Level.unstated


def test_a_run_without_data_does_not_count_as_checking_a_hypothesis() -> None:
    hyps = HYPS[:1]
    empty = verdict("h_a", "r1", "inconclusive", value=None, ci=None, n=0)
    runs = run_evidence(hyps, {"r1": [empty]}, proved=True)
    assert runs[0].no_data and runs[0].rows[0].no_data
    st = node_status(pinned=True, proved=True, fully_proved=True, hypotheses=hyps, runs=runs)
    assert not st.hypotheses_checked
    thin_but_tested = verdict("h_a", "r2", "inconclusive", n=5)
    runs = run_evidence(hyps, {"r1": [empty], "r2": [thin_but_tested]}, proved=True)
    st = node_status(pinned=True, proved=True, fully_proved=True, hypotheses=hyps, runs=runs)
    assert st.hypotheses_checked and not runs[1].no_data and st.applies_to == ()


def test_a_claim_without_empirical_hypotheses_applies_to_no_particular_run() -> None:
    only_formal = (HypothesisSummary(binder="h", meaning="m"),)
    runs = run_evidence(only_formal, {"r1": [verdict("h", "r1")]}, proved=True)
    assert [r.applies for r in runs] == [False]
    assert runs[0].label == "does not apply"  # the label reads the same ``applies``


def test_thin_evidence() -> None:
    def thin(**kw: object) -> bool:
        return VerdictRow(verdict=verdict("h", "r", **kw)).thin  # type: ignore[arg-type]

    assert not thin()
    assert thin(outcome="inconclusive")
    assert thin(n=12)
    assert thin(ci=(0.85, 0.95))  # straddles the 0.9 threshold
    assert not thin(ci=None)


def test_plots_are_attached_by_run_and_binder() -> None:
    runs = run_evidence(HYPS, {"r1": [verdict("h_a", "r1"), verdict("h_b", "r1")]}, proved=True,
                        plots={("r1", "h_b"): "plots/c/r1--h_b.png"})
    assert [row.plot for row in runs[0].rows] == [None, "plots/c/r1--h_b.png"]


def test_alarms_proxies_and_disagreements_are_carried_to_the_status() -> None:
    proxy = verdict("h_a", "r1").model_copy(update={"kind": "proxy"})
    concl = verdict("rate", "r1", "fails").model_copy(update={"role": "conclusion"})
    per_run = {
        "r1": [proxy, verdict("h_b", "r1"), concl],
        "r2": [proxy.model_copy(update={"run_id": "r2"}), verdict("h_b", "r2")],
        "r3": [verdict("h_a", "r3"), verdict("h_b", "r3"),
               verdict("h_b", "r3", "fails").model_copy(update={"source": "pytest"})],
    }
    runs = run_evidence(HYPS, per_run, proved=True)
    assert [r.applies for r in runs] == [False, True, False]
    assert runs[0].alarms == ("rate",) and runs[0].rows[-1].verdict.role == "conclusion"
    assert runs[1].via_proxy == ("h_a",) and runs[2].disagreements == ("h_b",)
    st = node_status(pinned=True, proved=True, fully_proved=True, hypotheses=HYPS, runs=runs)
    assert st.alarms == (("r1", "rate"),) and st.applies_to == ("r2",) and st.proxy_runs == ("r2",)
