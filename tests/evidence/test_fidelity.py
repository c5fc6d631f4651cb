"""Evidence that means what the theorem says: claim-bound parameters, hypotheses as written,
conclusion checks and the soundness alarm, provenance, run groups. The regression cases are
the false "applies" the evidence used to give."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from experiments.debate import transcript_samples
from pipeline.claims.consistency import parameter_issues
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.evidence.checks import Bound, Context, hypothesis_check
from pipeline.evidence.evaluate import (
    EstimateSource,
    Target,
    application,
    applies,
    check_run,
    evaluate,
    run_check,
    soundness_alarms,
    targets_of,
)
from pipeline.evidence.groups import load_group
from pipeline.evidence.models import CheckOutcome, HypothesisVerdict, Run, Snapshot
from pipeline.evidence.runs import write_run
from pipeline.evidence.store import latest_verdicts, save_verdicts
from pipeline.settings import Settings
from pipeline.store.db import Database
from tests.evidence.helpers import P, bernoulli, make_run

REPO = Path(__file__).resolve().parents[2]


def registry() -> object:
    return load_registry(Settings.load(REPO))


def verdict(binder: str, outcome: str, *, source: str = "check", role: str = "hypothesis",
            kind: str = "direct") -> HypothesisVerdict:
    return HypothesisVerdict(claim_id="c", binder=binder, check="m:f", run_id="r",
                             outcome=outcome, statistic="s", reason="r", source=source,  # type: ignore[arg-type]
                             role=role, kind=kind)  # type: ignore[arg-type]


# ------------------------------------------------------------------ what "applies" needs
def test_pytest_and_statistical_verdicts_are_both_needed() -> None:
    both = [verdict("h1", "holds"), verdict("h1", "holds", source="pytest")]
    assert applies(True, both, required=["h1"])
    split = [verdict("h1", "fails"), verdict("h1", "holds", source="pytest")]  # pytest later
    result = application(True, split, required=["h1"])
    assert not result.applies and result.disagreements == ("h1",)
    assert not applies(True, [verdict("h1", "holds", source="pytest")], required=["h1"])


def test_proxies_errors_and_the_alarm_are_reported() -> None:
    result = application(True, [verdict("h1", "holds", kind="proxy"), verdict("h2", "holds")],
                         required=["h1", "h2"])
    assert result.applies and result.via_proxy == ("h1",) and result.label == "applies through proxies"
    crashed = application(True, [verdict("h1", "error")], required=["h1"])
    assert not crashed.applies and crashed.errors == ("h1",)
    alarm = application(True, [verdict("h1", "holds"), verdict("rate", "fails", role="conclusion")],
                        required=["h1"])
    assert not alarm.applies and alarm.alarms == ("rate",) and alarm.label == "soundness alarm"
    quiet = application(True, [verdict("h1", "fails"), verdict("rate", "fails", role="conclusion")],
                        required=["h1"])
    assert quiet.alarms == ()  # a hypothesis fails: a failing conclusion is no surprise


@hypothesis_check(statistic="always holds", needs="nothing")
def wrong_check(run: Run, ctx: Context) -> CheckOutcome:
    """A deliberately wrong check: it says the hypothesis holds whatever the run."""
    return CheckOutcome(outcome="holds", statistic="nothing", reason="always")


def test_a_deliberately_wrong_check_raises_the_soundness_alarm(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"liar_win": bernoulli(0.48, 1000)})
    targets = [Target(claim_id="debate_tree", binder="h_judge_leaf",
                      check="tests.evidence.test_fidelity:wrong_check"),
               Target(claim_id="debate_tree", binder="honest_wins", role="conclusion",
                      check=P + "debate:honest_always_wins")]
    verdicts = evaluate(run, targets)
    assert [v.outcome for v in verdicts] == ["holds", "fails"]
    assert soundness_alarms(verdicts) == [("debate_tree", run.id, "honest_wins")]


# ------------------------------------------------------------- the old false "applies"
def test_debate_tree_with_a_92_percent_judge_no_longer_applies(tmp_path: Path) -> None:
    """A judge 92 % right on the leaves used to pass h_judge_leaf (an accuracy bar of 0.9);
    the hypothesis is a ∀ over the leaves, so its wrong leaves are counterexamples: fails,
    direct, and the claim does not apply (no alarm: a hypothesis is false)."""
    protocol = [(i, int(i % 2 == 0), int(i % 2 == 0)) for i in range(8)] * 2000  # rules kept
    make_run(tmp_path, samples={"leaf_correct": bernoulli(0.92, 4000, seed=1),
                                "liar_win": bernoulli(0.48, 2000, seed=2),
                                **transcript_samples(protocol)})
    settings = Settings.load(REPO, state_dir=tmp_path / "state")
    verdicts = check_run(settings, registry(), tmp_path / "run", "debate_tree", plots=False)
    by = {v.binder: v for v in verdicts}
    assert by["h_judge_leaf"].outcome == "fails" and by["h_judge_leaf"].kind == "direct"
    assert "counterexample" in by["h_judge_leaf"].reason
    assert by["honest_wins"].role == "conclusion" and by["honest_wins"].outcome == "fails"
    assert all(by[b].outcome == "holds" for b in ("h_alternating", "h_depth"))
    result = application(True, verdicts, required=["h_judge_leaf", "h_alternating", "h_depth"])
    assert not result.applies and result.alarms == () and result.label == "does not apply"


def chung_run(tmp_path: Path, name: str, schedule: str, mu: float = 0.5, t0: float = 0.0,
              seed: int = 0, steps: int = 400) -> Run:
    """SGD on f(w) = μ/2‖w‖² + noise, logged as the tracker would (lr, grad_sq, snapshots)."""
    rng = np.random.default_rng(seed)
    w = np.array([2.0, -1.0])
    lr_of = {"exact": lambda t: 1 / (mu * t), "offset": lambda t: 1 / (mu * (t + t0))}[schedule]
    lrs, g2s, snaps = [], [], []
    for t in range(1, steps + 1):
        if t % 20 == 1:
            snaps.append(Snapshot(step=t - 1, params=w.copy(), grad=mu * w, grad_kind="full"))
        g = mu * w + rng.normal(0, 0.3, 2)
        lrs.append(lr_of(t))
        g2s.append(float(g @ g))
        w = w - lr_of(t) * g
    config = {"lr_schedule": "1/(mu*t)" if schedule == "exact" else "1/(mu*(t+t0))",
              "mu": mu, "t0": t0}
    return make_run(tmp_path, name, metrics={"step": np.arange(steps, dtype=float),
                                             "lr": lrs, "grad_sq": g2s},
                    samples={"w_star": np.zeros(2)}, snapshots=snaps, config=config, seed=seed)


def test_sgd_chung_needs_the_step_size_of_the_theorem(tmp_path: Path) -> None:
    """ηₜ = 1/(μ(t + t₀)) used to "hold" (Robbins–Monro); h_step_size says 1/(λt) exactly."""
    settings = Settings.load(REPO, state_dir=tmp_path / "state")
    reg = registry()
    offset = chung_run(tmp_path, "offset", "offset", t0=20.0)
    exact = chung_run(tmp_path, "exact", "exact")
    v_off = {v.binder: v for v in check_run(settings, reg, offset.path, "sgd_chung", plots=False)}
    v_ex = {v.binder: v for v in check_run(settings, reg, exact.path, "sgd_chung", plots=False)}
    assert v_off["h_step_size"].outcome == "fails" and "t = 1" in v_off["h_step_size"].reason
    assert v_ex["h_step_size"].outcome == "holds"
    # one λ for both hypotheses: estimated once from the step sizes, 1/lim tηₜ = μ
    assert v_ex["h_step_size"].parameters["lam"] == v_ex["h_strong_convexity"].parameters["lam"] == 0.5
    assert v_ex["h_strong_convexity"].outcome == "holds"
    assert not applies(True, list(v_off.values()), required=["h_step_size"])
    for name in ("10/t", "t**-0.75"):
        run = make_run(tmp_path, name.replace("/", "_").replace("*", ""),
                       metrics={"lr": np.ones(100)}, config={"lr_schedule": name})
        out = run_check(P + "sgd:step_size_exact", run, Bound(parameters={"lam": 0.5}))
        assert out.outcome == "fails", (name, out.reason)


def test_strong_convexity_is_not_shown_by_three_snapshots_with_an_estimated_optimum(
        tmp_path: Path) -> None:
    h = np.diag([1.0, 2.0])
    snaps = [Snapshot(step=i, params=p, grad=h @ p, grad_kind="full")
             for i, p in enumerate([np.array([1.0, 1.0]), np.array([0.5, 0.2]), np.array([0.01, 0.0])])]
    run = make_run(tmp_path, snapshots=snaps)
    out = run_check(P + "sgd:strong_convexity", run, Bound(parameters={"lam": 0.9}))
    assert out.outcome == "inconclusive" and "away from w*" in out.reason


def test_failure_independence_on_a_zero_failure_run(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    margin = rng.normal(3.0, 0.5, 3000)
    zero = make_run(tmp_path, "z", samples={"failure": np.zeros(3000), "margin": margin})
    out = run_check(P + "certificate:failure_independence", zero)
    assert out.outcome == "holds" and out.kind == "proxy" and "margin" in out.statistic
    ar = np.zeros(3000)
    for i in range(1, 3000):
        ar[i] = 0.7 * ar[i - 1] + rng.normal(0, 0.3)
    sticky = make_run(tmp_path, "s", samples={"failure": np.zeros(3000), "margin": 3.0 + ar})
    assert run_check(P + "certificate:failure_independence", sticky).outcome == "fails"
    bare = make_run(tmp_path, "b", samples={"failure": np.zeros(3000)})
    out = run_check(P + "certificate:failure_independence", bare)
    assert out.outcome == "inconclusive" and "margin" in out.reason


# ------------------------------------------------------------------------- provenance
def test_verdicts_carry_their_provenance_and_both_sources_are_kept(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"liar_win": bernoulli(0.02, 500)})
    target = Target(claim_id="c", binder="h1", check=P + "debate:exploitability",
                    parameters={"ε": 0.1})
    (v,) = evaluate(run, [target])
    assert v.check_version == "1" and v.parameters == {"ε": 0.1, "detectable_margin": 0.1}
    assert v.data_hash and len(v.data_hash) == 64
    other = make_run(tmp_path, "o", samples={"liar_win": bernoulli(0.02, 500, seed=9)})
    assert evaluate(other, [target])[0].data_hash != v.data_hash
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    pytest_v = v.model_copy(update={"source": "pytest", "outcome": "fails", "check": None})
    save_verdicts(db, run, [v])
    save_verdicts(db, run, [pytest_v])
    kept = latest_verdicts(db, "c")
    assert sorted((x.source, x.outcome) for x in kept) == [("check", "holds"), ("pytest", "fails")]
    assert application(True, kept, required=["h1"]).disagreements == ("h1",)
    db.close()


# ------------------------------------------------------------------------- claims table
def claim_from(tmp_path: Path, edit: str = "", old: str = "", new: str = "") -> Claim:
    text = (REPO / "claims" / "sgd_chung.toml").read_text("utf-8")
    text = text.replace(old, new) if old else text
    data = tomllib.loads(text + edit)
    return Claim.model_validate({**data, "path": tmp_path / "sgd_chung.toml"})


def test_claims_check_validates_parameters_against_the_statement(tmp_path: Path) -> None:
    assert [i for i in parameter_issues(claim_from(tmp_path), "f", EVIDENCE_CHECKS) if i.severity == "error"] == []
    wrong = claim_from(tmp_path, old="G2 = 4.0", new="G3 = 1.0\nG2 = 4.0")
    assert any("G3 is not a variable of the pinned statement" in i.message
               for i in parameter_issues(wrong, "f", EVIDENCE_CHECKS))
    unbound = claim_from(tmp_path, old='lam = { estimate = "step_size_rate", binding = "exact" }\n',
                         new="")
    messages = [i.message for i in parameter_issues(unbound, "f", EVIDENCE_CHECKS)]
    assert any("uses the theorem variable 'lam'" in m for m in messages)
    step_check = 'check = "pipeline.evidence.checks.sgd:step_size_exact"\n'
    bad = claim_from(tmp_path, old=step_check,
                     new=step_check + "settings = { step_tolerance = 0.01, nope = 1 }\n")
    assert any("has no setting 'nope'" in i.message for i in parameter_issues(bad, "f", EVIDENCE_CHECKS))
    unknown = claim_from(tmp_path, old='"step_size_rate"', new='"guess"')
    assert any("unknown estimator" in i.message for i in parameter_issues(unknown, "f", EVIDENCE_CHECKS))
    with pytest.raises(ValueError, match="one value per variable"):
        claim_from(tmp_path, old=step_check,
                   new=step_check + "settings = { step_tolerance = 0.01, lam = 2 }\n")


def test_targets_bind_one_value_per_variable() -> None:
    targets = {t.binder: t for t in targets_of(registry(), "sgd_chung")}
    assert targets["h_step_size"].estimates == targets["h_strong_convexity"].estimates == {
        "lam": EstimateSource(estimate="step_size_rate", binding="exact")}
    assert targets["h_bounded_second_moment"].parameters == {"G2": 4.0}
    assert targets["h_bounded_second_moment"].provenance == {"G2": "claim"}
    assert targets["h_step_size"].settings == {}  # the check's default: float rounding
    assert targets["distance_rate"].role == "conclusion"


# ---------------------------------------------------------------------------- groups
def test_a_run_group_decides_an_expectation_a_single_run_cannot(tmp_path: Path) -> None:
    group = tmp_path / "group"
    for seed in range(8):
        run = chung_run(tmp_path / "single", f"s{seed}", "exact", seed=seed)
        write_run(run.model_copy(update={"path": None}), group / f"seed{seed}")
    pooled = load_group(group)
    assert len(pooled.members) == 8 and pooled.seeds() == list(range(8))
    bound = Bound(parameters={"lam": 0.5, "G2": 5.0})
    single = run_check(P + "sgd:distance_rate", pooled.members[0], bound)
    assert single.outcome == "inconclusive" and "run group" in single.reason
    out = run_check(P + "sgd:distance_rate", pooled, bound)
    assert out.outcome == "holds" and out.details["seeds"] == 8, out.reason
    tight = run_check(P + "sgd:distance_rate", pooled, Bound(parameters={"lam": 0.5, "G2": 1e-4}))
    assert tight.outcome == "fails"
    (group / "seed1" / "run.json").write_text(
        (group / "seed1" / "run.json").read_text().replace('"mu": 0.5', '"mu": 0.25'))
    with pytest.raises(Exception, match="differs"):
        load_group(group)


# ------------------------------------------------------- hypotheses that used to be assumed
def test_h_init_from_the_first_snapshot(tmp_path: Path) -> None:
    bound = Bound(parameters={"lam": 0.5, "G2": 1.0})  # radius 4G²/λ² = 16
    near = make_run(tmp_path, "n", samples={"w_star": np.zeros(2)},
                    snapshots=[Snapshot(step=0, params=np.array([3.0, 2.0]), grad=np.ones(2),
                                        grad_kind="full")])
    far = make_run(tmp_path, "f", samples={"w_star": np.zeros(2)},
                   snapshots=[Snapshot(step=0, params=np.array([4.0, 1.0]), grad=np.ones(2),
                                       grad_kind="full")])
    assert run_check(P + "sgd:initial_radius", near, bound).outcome == "holds"  # 13 ≤ 16
    assert run_check(P + "sgd:initial_radius", far, bound).outcome == "fails"   # 17 > 16
    edge = make_run(tmp_path, "e", samples={"w_star": np.zeros(2)},
                    snapshots=[Snapshot(step=0, params=np.array([4.0, 0.0]), grad_kind="none")])
    assert run_check(P + "sgd:initial_radius", edge, bound).outcome == "holds"  # exactly 16
    by_gradient = make_run(tmp_path, "g", snapshots=[
        Snapshot(step=0, params=np.array([9.0, 9.0]), grad=np.array([1.0, 1.0]), grad_kind="full")])
    out = run_check(P + "sgd:initial_radius", by_gradient, bound)
    assert out.outcome == "holds" and out.kind == "proxy"


def test_h_leaf_error_at_every_leaf(tmp_path: Path) -> None:
    exact = np.linspace(0.1, 0.9, 50)
    good = make_run(tmp_path, "g", samples={"leaf_exact": exact, "leaf_estimate": exact + 0.04})
    one_bad = exact + 0.01
    one_bad[17] += 0.2
    bad = make_run(tmp_path, "b", samples={"leaf_exact": exact, "leaf_estimate": one_bad})
    bound = Bound(parameters={"δ": 0.05})
    assert run_check(P + "composition:leaf_error", good, bound).outcome == "holds"
    out = run_check(P + "composition:leaf_error", bad, bound)
    assert out.outcome == "fails" and "leaf 17" in out.reason  # "for all": one leaf fails it


def test_hypotheses_check_on_a_group_from_the_command_line(tmp_path: Path) -> None:
    for seed in range(3):
        run = chung_run(tmp_path / "single", f"s{seed}", "exact", seed=seed)
        write_run(run.model_copy(update={"path": None}), tmp_path / "group" / f"seed{seed}")
    env = {**os.environ, "SEQUENT_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200",
           "PYTHONPATH": str(REPO)}

    def sequent(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", "hypotheses", "check", *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, check=False)

    res = sequent("--group", "group", "--check", P + "sgd:step_size_schedule", "--no-plots")
    assert res.returncode == 0 and "holds" in res.stdout
    assert "group:group" in res.stdout + res.stderr  # the table's title (stderr when piped)
    both = sequent("--group", "group", "--run", "group/seed0", "--check", "a:b")
    assert both.returncode == 2 and "exactly one of" in both.stderr
    assert "Traceback" not in both.stderr


def test_guarantees_are_filled_in_with_the_claims_numbers(tmp_path: Path) -> None:
    from pipeline.claims.models import HypothesisSummary
    from pipeline.evidence.evaluate import fill_guarantee
    from pipeline.report.node_status import run_evidence

    text, values = fill_guarantee("eₜ ≤ {4*G2/lam^2}/t for t ≥ 1", {"G2": 1.0, "lam": 2.0})
    assert text == "eₜ ≤ 1/t for t ≥ 1" and values == [1.0]
    with pytest.raises(Exception, match="unbound"):
        fill_guarantee("{4*G3}", {"G2": 1.0})
    bad = claim_from(tmp_path, old='guarantee = "eₜ ≤ {4*G2/lam^2}/t', new='guarantee = "eₜ ≤ {4*G3/lam^2}/t')
    assert any(i.field == "conclusions[0].guarantee" for i in parameter_issues(bad, "f", EVIDENCE_CHECKS))
    hyps = (HypothesisSummary(binder="h_a", meaning="a", check="m:a"),)
    concl = verdict("p_fail", "holds", role="conclusion").model_copy(
        update={"parameters": {"j": 0.0}, "seeds": (1, 2, 3)})
    (ev,) = run_evidence(hyps, {"r": [verdict("h_a", "holds"), concl]}, proved=True,
                         guarantees={"p_fail": ("P(pass) ≤ {1/2^j}", 1.0)})
    assert ev.guarantees[0].text == "P(pass) ≤ 1 (3 seeds)" and ev.guarantees[0].vacuous
    assert not ev.applies and ev.vacuous == ("p_fail",)  # a vacuous bound certifies nothing
    assert ev.label == "hypotheses hold; certified bound vacuous"
    assert ev.guarantees[0].parameters == "j = 0 (claim)"
