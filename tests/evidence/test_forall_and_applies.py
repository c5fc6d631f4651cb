"""Issue 26, classes C, E and F, each as a control with the verdict it must get:

* C — a ∀ is tested as a ∀: one counterexample fails it (a 92 %-accurate judge on 100
  debates, 4 liar wins in 100); none holds only as a proxy stating its certified bound;
* E — conformal coverage is tested in its own probability space: exchangeable runs raise the
  soundness alarm on at most 5 % of them;
* F — "applies" certifies a number: an unverified conclusion (an SGD group above the bound)
  or a vacuous certified bound (debate_equilibrium at q = 0.5, ε = 0.1) is not "applies".
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from experiments.debate import transcript_samples
from experiments.near_threshold import _distance
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import application, evaluate, run_check, targets_of
from pipeline.evidence.models import HypothesisVerdict, Provenance, Run
from pipeline.settings import Settings
from tests.evidence.helpers import P, bernoulli

REPO = Path(__file__).resolve().parents[2]


def claim(claim_id: str, **parameters: float) -> Claim:
    found: Claim = load_registry(Settings.load(REPO)).get(claim_id)
    if parameters:
        found = found.model_copy(update={"parameters": {**found.parameters, **parameters}})
    return found


def verdicts_on(found: Claim, run: Run) -> list[HypothesisVerdict]:
    registry = SimpleNamespace(claims=[found], get=lambda _id: found)
    return evaluate(run, targets_of(registry, found.id))


def run_of(**samples: object) -> Run:
    return Run(id="r", kind="test", seed=0, samples=samples,  # type: ignore[arg-type]
               provenance=Provenance(source="test"))


# ------------------------------------------------------------------------ C: ∀ as ∀
def test_a_92_percent_judge_on_100_debates_fails() -> None:
    leaves = bernoulli(0.92, 100 * 16, seed=11)  # the judge on the 16 leaves of 100 trees
    out = run_check(P + "debate:judge_leaf_accuracy", run_of(leaf_correct=leaves))
    assert out.outcome == "fails" and out.kind == "direct"
    assert out.details["violations"] == int((leaves == 0).sum()) > 0
    assert "counterexample" in out.reason


def test_4_liar_wins_in_100_debates_fail_the_conclusion() -> None:
    wins = np.zeros(100)
    wins[[3, 40, 41, 90]] = 1.0
    out = run_check(P + "debate:honest_always_wins", run_of(liar_win=wins))
    assert out.outcome == "fails" and out.kind == "direct" and out.details["violations"] == 4
    assert out.reason.startswith("4 of 100 debates")


def test_no_counterexample_holds_as_a_proxy_with_its_certified_bound() -> None:
    out = run_check(P + "debate:judge_leaf_accuracy", run_of(leaf_correct=np.ones(1000)))
    assert out.outcome == "holds" and out.kind == "proxy" and out.n == 1000
    bound = 1 - 0.05 ** (1 / 1000)  # exact one-sided Clopper–Pearson, ≈ 3/n
    assert out.ci is not None and out.ci.high == pytest.approx(bound, rel=1e-9)
    assert out.details["violation_rate_bound"] == pytest.approx(bound, rel=1e-9)
    assert "1000 leaves seen" in (out.not_covered or "")
    assert "trees no debate was held on" in (out.not_covered or "")  # what was not seen
    few = run_check(P + "debate:judge_leaf_accuracy", run_of(leaf_correct=np.ones(20)))
    assert few.outcome == "inconclusive" and few.details["needed"] == 29


def test_realizability_fails_on_one_wrong_agreed_answer_or_an_empty_version_space() -> None:
    n = 3000
    agree, correct = np.ones(n), np.ones(n)
    space = np.full(n, 5.0)
    ok = Run(id="m", metrics={"agree": agree, "correct": correct, "version_space": space})
    assert run_check(P + "ensemble:agreement_implies_correct", ok).outcome == "holds"
    wrong = correct.copy()
    wrong[1234] = 0.0
    out = run_check(P + "ensemble:agreement_implies_correct",
                    Run(id="w", metrics={"agree": agree, "correct": wrong}))
    assert out.outcome == "fails" and out.details["first_step"] == 1234
    empty = space.copy()
    empty[2000:] = 0.0
    out = run_check(P + "ensemble:agreement_implies_correct",
                    Run(id="e", metrics={"agree": agree, "correct": correct,
                                         "version_space": empty}))
    assert out.outcome == "fails" and "not one of the candidates" in out.reason


def test_query_count_against_the_logged_class_size() -> None:
    queried = np.zeros(500)
    queried[:7] = 1.0
    space = np.maximum(1.0, 8.0 - np.concatenate([[0.0], np.cumsum(queried)[:-1]]))
    out = run_check(P + "ensemble:query_count", Run(id="q", metrics={
        "queried": queried, "version_space": space}))
    assert out.outcome == "holds" and out.value == 7 and out.threshold == 7
    assert out.details["H_size_provenance"] == "exact: version_space at step 0"
    queried[100] = 1.0
    out = run_check(P + "ensemble:query_count", Run(id="q2", metrics={
        "queried": queried, "version_space": space}))
    assert out.outcome == "fails" and out.details["exceeded_at_step"] == 100


# --------------------------------------------------- E: coverage in its own space
def test_exchangeable_conformal_runs_raise_the_alarm_on_at_most_5_percent() -> None:
    """200 exchangeable runs (2,500 calibration and 2,500 test scores each, the size of the
    project's conformal experiment) under the
    claim's own binding: the soundness alarm (every hypothesis holds, coverage fails) fires
    on at most 5 % of them; the exact law's design rate is 2.5 %."""
    found = claim("conformal_coverage")
    alarms = holds = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        run = run_of(calibration_scores=np.abs(rng.normal(size=2500)),
                     test_scores=np.abs(rng.normal(size=2500)))
        result = application(True, verdicts_on(found, run),
                             required=["h_exchangeable"], conclusions=["coverage"])
        alarms += bool(result.alarms)
        holds += result.applies
    assert alarms <= 10, alarms
    assert holds >= 160, holds


def test_undercoverage_fails_against_the_exact_law() -> None:
    rng = np.random.default_rng(3)
    run = run_of(calibration_scores=rng.normal(size=5000), test_scores=rng.normal(0.155, 1, 5000))
    out = run_check(P + "conformal:coverage", run, Bound(parameters={"α": 0.1}))
    assert out.outcome == "fails" and out.details["p_value"] < 0.025
    assert str(out.details["law"]).startswith("betabinom(5000, 4501, 500)")


# ----------------------------------------------------- F: "applies" certifies a number
def test_an_sgd_group_above_the_certified_bound_does_not_apply() -> None:
    """A group of 20 seeds whose mean ‖wₜ − w*‖² is 1.33× the bound 4G²/(λ²t): the
    conclusion does not hold, so with every hypothesis holding the claim is not "applies"
    (a soundness alarm when it fails, "conclusion unverified" when it is inconclusive)."""
    mean_above, bound = _distance(1.33)(0)
    concl = run_check(P + "sgd:distance_rate", mean_above, bound)
    assert concl.outcome != "holds", concl.reason
    hyps = [HypothesisVerdict(claim_id="sgd_chung", binder=b, check="m:f", run_id="g",
                              outcome="holds", statistic="s", reason="r")
            for b in ("h_strong_convexity", "h_bounded_second_moment", "h_step_size", "h_init")]
    rate = HypothesisVerdict.from_outcome(concl, claim_id="sgd_chung", binder="distance_rate",
                                          check=P + "sgd:distance_rate", run_id="g",
                                          role="conclusion")
    result = application(True, [*hyps, rate], required=[h.binder for h in hyps],
                         conclusions=["distance_rate"])
    assert not result.applies
    assert result.label in ("soundness alarm", "hypotheses hold; conclusion unverified")
    unverified = rate.model_copy(update={"outcome": "inconclusive"})
    result = application(True, [*hyps, unverified], required=[h.binder for h in hyps],
                         conclusions=["distance_rate"])
    assert not result.applies and result.label == "hypotheses hold; conclusion unverified"
    missing = application(True, hyps, required=[h.binder for h in hyps],
                          conclusions=["distance_rate"])
    assert not missing.applies and missing.unverified == ("distance_rate",)


def debate_run(p_liar: float = 0.0) -> Run:
    rng = np.random.default_rng(0)
    protocol = [(i, int(i % 2 == 0), int(i % 2 == 0)) for i in range(8)] * 500
    liar = (rng.random(500) < p_liar).astype(float)
    return run_of(honest_win=np.ones(500), liar_win=liar, dishonest_answer=liar,
                  leaf_correct=np.ones(8000), **transcript_samples(protocol))


def test_a_vacuous_certified_bound_is_flagged_and_does_not_apply() -> None:
    vacuous = claim("debate_equilibrium", q=0.5, ε=0.1)  # (q + ε)/(1 − q) = 1.2
    verdicts = verdicts_on(vacuous, debate_run())
    by = {v.binder: v for v in verdicts}
    assert by["h_honest_win_rate"].holds and by["h_exploitable"].holds
    assert by["dishonesty"].outcome == "inconclusive" and "says nothing" in by["dishonesty"].reason
    result = application(SimpleNamespace(proved=True, claim=vacuous), verdicts)
    assert not result.applies and result.vacuous == ("dishonesty",)
    assert result.label == "hypotheses hold; certified bound vacuous"
    # the registry's own constants certify a number: (0.05 + 0.05)/(1 − 0.05) ≈ 0.105
    found = claim("debate_equilibrium")
    verdicts = verdicts_on(found, debate_run())
    result = application(SimpleNamespace(proved=True, claim=found), verdicts)
    assert result.applies and result.vacuous == () and result.label.startswith("applies")


def test_what_a_zero_failure_run_certifies_and_j_times_m_trials() -> None:
    found = claim("zero_failure_certificate")
    assert found.parameters["m"] == 1000 and found.parameters["j"] == 3
    bound = Bound(parameters={"m": 1000.0, "j": 3.0})
    out = run_check(P + "certificate:trial_count", run_of(failure=np.zeros(3000)), bound)
    assert out.outcome == "holds" and out.threshold == 3000
    assert "below 1/m = 0.001 with confidence 1 − 2^−3 = 0.875" in out.reason
    assert "0.0009981" in out.reason  # 0 in 3,000: p < 10⁻³ at 95 % (exact)
    short = run_check(P + "certificate:trial_count", run_of(failure=np.zeros(2999)), bound)
    assert short.outcome == "fails"
    block = run_check(P + "certificate:block_pass_rate", run_of(failure=np.zeros(3000)), bound)
    assert block.outcome == "inconclusive" and "certify" in block.reason


def test_the_report_labels_a_run_whose_conclusion_is_unverified() -> None:
    from pipeline.claims.models import HypothesisSummary
    from pipeline.report.node_status import run_evidence

    hyps = (HypothesisSummary(binder="h_a", meaning="a", check="m:a"),)
    held = HypothesisVerdict(claim_id="c", binder="h_a", check="m:a", run_id="r",
                             outcome="holds", statistic="s", reason="r")
    (ev,) = run_evidence(hyps, {"r": [held]}, proved=True, conclusions=["rate"])
    assert not ev.applies and ev.unverified == ("rate",)
    assert ev.label == "hypotheses hold; conclusion unverified"
    concl = held.model_copy(update={"binder": "rate", "role": "conclusion",
                                    "parameters": {"q": 0.05, "ε": 0.05},
                                    "provenance": {"q": "claim", "ε": "claim"}})
    (ev,) = run_evidence(hyps, {"r": [held, concl]}, proved=True, conclusions=["rate"],
                         guarantees={"rate": ("P(dishonest) ≤ {(q+ε)/(1-q)}", 1.0)})
    assert ev.applies and ev.label == "applies" and not ev.guarantees[0].vacuous
    assert ev.guarantees[0].text == "P(dishonest) ≤ 0.1053"
    assert ev.guarantees[0].parameters == "q = 0.05 (claim), ε = 0.05 (claim)"


def test_claims_check_warns_of_a_vacuous_certified_bound() -> None:
    from pipeline.claims.consistency import parameter_issues
    from pipeline.evidence.catalog import EVIDENCE_CHECKS

    vacuous = claim("debate_equilibrium", q=0.5, ε=0.1)
    (issue,) = [i for i in parameter_issues(vacuous, "f", EVIDENCE_CHECKS)
                if i.field == "conclusions[0].guarantee"]
    assert issue.severity == "warning" and "1.2 with the claim's numbers" in issue.message
    assert not [i for i in parameter_issues(claim("debate_equilibrium"), "f", EVIDENCE_CHECKS)
                if i.field == "conclusions[0].guarantee"]
