"""Issue 26, classes A, B and G: no statistical parameter is chosen on the sample it tests
(each parameter says how it was bound, and an in-sample estimate is refused when the claims
load), what was logged beats what was declared, and E‖gₜ‖² ≤ G² is tested at every logged t
across seeds with heavy tails detected. Every control runs under the claim's own binding
(sgd_chung: λ exact from the logged lr, G² = 4 a claim constant) and states the verdict it
must get; the data of the PyTorch controls are real training runs (experiments/sgd.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from experiments.controls import Control
from experiments.sgd import MISLABELLED
from pipeline.claims.consistency import parameter_issues
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.errors import ClaimError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import (
    EstimateSource,
    Target,
    check_run,
    evaluate,
    run_check,
    targets_of,
)
from pipeline.evidence.groups import pool_runs
from pipeline.evidence.models import Provenance, Run
from pipeline.evidence.runs import load_run
from pipeline.settings import Settings
from tests.evidence.helpers import P

REPO = Path(__file__).resolve().parents[2]
SECOND = P + "sgd:bounded_second_moment"
G2 = 4.0  # sgd_chung's binding
CLAIM_G2 = 'G2 = 4.0\n'


def chung_project(tmp_path: Path, old: str = CLAIM_G2, new: str = CLAIM_G2) -> Settings:
    """A project whose claims folder holds sgd_chung with ``old`` replaced by ``new``."""
    (tmp_path / "claims").mkdir(parents=True)
    text = (REPO / "claims" / "sgd_chung.toml").read_text("utf-8")
    assert old in text
    (tmp_path / "claims" / "sgd_chung.toml").write_text(text.replace(old, new), "utf-8")
    return Settings.load(tmp_path, state_dir=tmp_path / "state")


def group_of(matrix: np.ndarray, name: str = "g") -> Run:
    """A run group whose seed k logged ``matrix[k]`` as ‖gₜ‖² at steps 0 … T − 1."""
    members = [Run(id=f"{name}{k}", kind="sgd", seed=k, provenance=Provenance(source="test"),
                   metrics={"step": np.arange(matrix.shape[1], dtype=float), "grad_sq": row})
               for k, row in enumerate(matrix)]
    return pool_runs(members, group_id=name)


def noise_group(tmp_path: Path, variant: str, seeds: int = 12) -> Run:
    return Control(SECOND, "sgd_noise", variant, "holds", seeds=seeds).load(
        tmp_path / variant, quick=True)


# ------------------------------------------------------------------- A: the binding model
@pytest.mark.parametrize(("new", "message"), [
    ('G2 = { estimate = "grad_second_moment_bound" }\n', "does not declare its binding"),
    ('G2 = { estimate = "grad_second_moment_bound", binding = "in_sample" }\n',
     "an in-sample estimate is refused"),
    ('G2 = { estimate = "grad_second_moment_bound", binding = "held_out" }\n',
     "names its calibration_seeds"),
    ('G2 = { derived = "G2 + 1" }\n', "derived from itself"),
])
def test_an_in_sample_or_undeclared_estimate_is_refused_when_the_claims_load(
        tmp_path: Path, new: str, message: str) -> None:
    settings = chung_project(tmp_path, new=new)
    with pytest.raises(ClaimError) as caught:
        load_registry(settings)
    text = str(caught.value)
    assert "claims/sgd_chung.toml" in text and "parameter 'G2'" in text and message in text


def test_a_statistical_estimator_under_an_exact_binding_is_refused(tmp_path: Path) -> None:
    settings = chung_project(tmp_path, new='G2 = { estimate = "grad_second_moment_bound", '
                                           'binding = "exact" }\n')
    claim = load_registry(settings).get("sgd_chung")
    issues = [i for i in parameter_issues(claim, "f", EVIDENCE_CHECKS) if i.severity == "error"]
    assert [i.field for i in issues] == ["parameters.G2.binding"]
    assert "statistical estimate" in issues[0].message
    # evaluation refuses it too (a claim that skipped `claims check`)
    target = Target(claim_id="c", binder="h", check=SECOND, estimates={
        "G2": EstimateSource(estimate="grad_second_moment_bound", binding="exact")})
    group = group_of(np.random.default_rng(0).exponential(1.0, (6, 50)))
    (verdict,) = evaluate(group, [target])
    assert verdict.outcome == "inconclusive" and "refused on the sample it tests" in verdict.reason


def test_derived_parameters_are_functions_of_claim_constants(tmp_path: Path) -> None:
    claim = load_registry(chung_project(tmp_path, new='G2 = { derived = "B/4" }\nB = 16.0\n')
                          ).get("sgd_chung")
    from pipeline.claims.registry import Registry
    from pipeline.evidence.evaluate import targets_of

    (target,) = [t for t in targets_of(Registry(claims=(claim,)), "sgd_chung")
                 if t.binder == "h_bounded_second_moment"]
    assert target.parameters == {"G2": 4.0} and target.provenance == {"G2": "derived: B/4 = 4"}
    bad = Claim.model_validate({**claim.model_dump(by_alias=True), "parameters": {
        "lam": {"estimate": "step_size_rate", "binding": "exact"},
        "G2": {"derived": "lam * 2"}}})
    assert any("a function of claim constants only" in i.message
               for i in parameter_issues(bad, "f", EVIDENCE_CHECKS))


def test_verdicts_say_where_each_parameter_came_from(tmp_path: Path) -> None:
    """sgd_chung on a 1/(μt) run (started far out: 300 steps): λ exact from the logged lr,
    G² the claim's 4."""
    from experiments.sgd import sgd_logistic

    run_dir = sgd_logistic(tmp_path / "run", 0, True, variant="far_start")
    settings = chung_project(tmp_path / "project")
    by = {v.binder: v for v in check_run(settings, load_registry(settings), run_dir,
                                         "sgd_chung", plots=False, store=False)}
    assert by["h_step_size"].provenance["lam"].startswith("exact: step_size_rate: 1/(T·η_T)")
    assert by["h_step_size"].outcome == "holds"
    assert by["h_bounded_second_moment"].provenance == {"G2": "claim"}
    assert by["h_update"].outcome == "holds" and by["h_update"].kind == "proxy"
    assert by["h_init"].outcome == "fails" and by["h_init"].provenance == {
        "lam": by["h_step_size"].provenance["lam"], "G2": "claim"}
    # one run: E‖gₜ‖² at each t needs seeds; a time average never stands in for it
    assert by["h_bounded_second_moment"].outcome == "inconclusive"
    assert "run group" in by["h_bounded_second_moment"].reason


def test_a_held_out_estimate_never_sees_the_seeds_it_is_tested_on() -> None:
    rng = np.random.default_rng(1)
    group = group_of(2.0 * rng.chisquare(8, (10, 200)) / 8)
    target = Target(claim_id="c", binder="h", check=SECOND, estimates={"G2": EstimateSource(
        estimate="grad_second_moment_bound", binding="held_out", calibration_seeds=(0, 1, 2, 3),
        factor=1.5)})
    (verdict,) = evaluate(group, [target])
    assert verdict.provenance["G2"].startswith(
        "held_out: grad_second_moment_bound on calibration seeds 0, 1, 2, 3")
    assert verdict.details["tested_seeds"] == "4,5,6,7,8,9" and verdict.seeds == (4, 5, 6, 7, 8, 9)
    assert verdict.outcome == "holds", verdict.reason
    # a single run that is one of the calibration seeds is refused
    (alone,) = evaluate(group.members[2], [target])
    assert alone.outcome == "inconclusive" and "is one of the calibration seeds" in alone.reason
    # a copy of a calibration run under another seed number is not held out
    copied = pool_runs([*group.members[:4], group.members[0].model_copy(update={"seed": 10}),
                        *group.members[5:]], group_id="copied")
    (verdict,) = evaluate(copied, [target])
    assert verdict.outcome == "inconclusive" and "same data" in verdict.reason
    # negative control under the held-out binding: infinite variance fails at every G²
    heavy = group_of((rng.standard_t(1.5, (10, 200, 4)) ** 2).sum(-1))
    (verdict,) = evaluate(heavy, [target])
    assert verdict.outcome != "holds", verdict.reason


# ------------------------------------------------------------- G: ∀ t, E‖gₜ‖² ≤ G² as written
def test_infinite_variance_gradient_noise_never_holds(tmp_path: Path) -> None:
    """SGD with Student-t (1.5 dof) label noise: E‖gₜ‖² = ∞, no G² exists."""
    heavy = noise_group(tmp_path, "heavy")
    out = run_check(SECOND, heavy, Bound(parameters={"G2": G2}))
    assert out.outcome != "holds" and "heavy tail" in out.reason, out.reason
    assert out.details["tail_index"] < 2
    single = run_check(SECOND, heavy.members[0], Bound(parameters={"G2": G2}))
    assert single.outcome != "holds"


def test_a_spike_of_eight_times_g2_at_one_step_fails(tmp_path: Path) -> None:
    """A corrupted batch at t = 7 in every seed: E‖g₇‖² ≈ 8·G²; block means hid it."""
    out = run_check(SECOND, noise_group(tmp_path, "spike"), Bound(parameters={"G2": G2}))
    assert out.outcome == "fails" and "t = 7" in out.reason, out.reason
    assert out.value is not None and out.value > 5 * G2


def test_an_early_peak_is_not_averaged_away() -> None:
    """A group whose pooled E‖gₜ‖² reaches ~500 early against G² = 6.68."""
    rng = np.random.default_rng(2)
    scale = np.where(np.arange(2000) < 20, 500.0, 1.0)
    out = run_check(SECOND, group_of(rng.chisquare(8, (16, 2000)) / 8 * scale),
                    Bound(parameters={"G2": 6.68}))
    assert out.outcome == "fails" and out.details["steps"] == 2000, out.reason


def test_near_threshold_positives_hold_and_intervals_stay_non_negative(tmp_path: Path) -> None:
    real = run_check(SECOND, noise_group(tmp_path, "gaussian"), Bound(parameters={"G2": G2}))
    assert real.outcome == "holds" and real.details["seeds"] == 12, real.reason
    rng = np.random.default_rng(3)
    near = group_of(2.0 * rng.chisquare(8, (40, 100)) / 8)  # E‖gₜ‖² = 2 at every t
    out = run_check(SECOND, near, Bound(parameters={"G2": 3.5}))
    assert out.outcome == "holds", out.reason
    just_above = run_check(SECOND, near, Bound(parameters={"G2": 1.9}))
    assert just_above.outcome != "holds"
    tiny = run_check(SECOND, group_of(rng.exponential(1e-3, (3, 100))), Bound(parameters={"G2": G2}))
    assert tiny.ci is not None and tiny.ci.low >= 0.0


# ------------------------------------------------------------------ B: the log beats the config
def test_a_logged_lr_that_contradicts_the_declared_schedule_fails(tmp_path: Path) -> None:
    """Declares lr_schedule = "1/(mu*t)", runs at 0.05 every step (real PyTorch)."""
    from experiments.sgd import sgd_logistic

    run_dir = sgd_logistic(tmp_path / "run", 0, True, variant="mislabelled_lr")
    settings = chung_project(tmp_path / "project")
    by = {v.binder: v for v in check_run(settings, load_registry(settings), run_dir,
                                         "sgd_chung", plots=False, store=False)}
    verdict = by["h_step_size"]
    assert verdict.outcome == "fails" and "0.05" in verdict.reason and "1/(mu*t)" in verdict.reason
    run = load_run(run_dir)
    no_log = Run(id="no-log", config=run.config,
                 metrics={k: v for k, v in run.metrics.items() if k != "lr"})
    out = run_check(P + "sgd:step_size_exact", no_log, Bound(parameters={"lam": 0.05}))
    assert out.outcome == "inconclusive" and "declaration is not evidence" in out.reason
    shutil.rmtree(tmp_path / "run")


@pytest.mark.parametrize(("where", "factor", "outcome"), [
    (None, 1.0, "holds"), (1234, 1.005, "fails"), (4999, 1.005, "fails"), (7, 1 + 1e-6, "fails")])
def test_h_step_size_is_the_equality_to_rounding_under_the_claims_binding(
        where: int | None, factor: float, outcome: str) -> None:
    """sgd_chung's own target for h_step_size (λ exact from the logged lr, the check's default
    tolerance: float rounding): ηₜ = 1/(μt) holds, computed and logged in float32 too; one
    step 0.5 % (or 10⁻⁶) off fails, also when it is the last step λ is read from."""
    (target,) = [t for t in targets_of(load_registry(Settings.load(REPO)), "sgd_chung")
                 if t.binder == "h_step_size"]
    t = np.arange(1, 5001, dtype=float)
    mu = 0.37
    for lr in (1 / (mu * t), (np.float32(1) / (np.float32(mu) * t.astype(np.float32))
                              ).astype(np.float64)):
        if where is not None:
            lr[where] *= factor
        run = Run(id="lr", kind="sgd", provenance=Provenance(source="test"),
                  metrics={"step": t - 1, "lr": lr})
        (verdict,) = evaluate(run, [target])
        assert verdict.outcome == outcome, verdict.reason
        assert verdict.provenance["lam"].startswith("exact")
        assert verdict.kind == "direct" and verdict.parameters["step_tolerance"] < 1e-6
    if where is not None:
        assert f"t = {where + 1}" in verdict.reason or where == 4999, verdict.reason
    loose = run_check(P + "sgd:step_size_exact", run,
                      Bound(parameters={"lam": mu}, settings={"step_tolerance": 0.01}))
    assert loose.kind == "proxy" and "not ηₜ = 1/(λt)" in (loose.not_covered or "")
    if where is None:  # a run group: two members 0.5 % off in opposite directions at one
        members = []   # step average to the exact schedule; each member is tested, not the mean
        for seed, off in enumerate((1.0, 1.005, 0.995)):
            lr = 1 / (mu * t)
            lr[100] *= off
            members.append(Run(id=f"m{seed}", kind="sgd", seed=seed,
                               provenance=Provenance(source="test"),
                               metrics={"step": t - 1, "lr": lr}))
        (verdict,) = evaluate(pool_runs(members, group_id="lr-group"), [target])
        assert verdict.outcome == "fails" and "t = 101 of run m" in verdict.reason, verdict.reason
        assert "2 of 15000 logged steps of 3 runs" in verdict.reason
        twin = members[0].model_copy(update={"id": "m9", "seed": 9})
        (verdict,) = evaluate(pool_runs([members[0], twin], group_id="ok"), [target])
        assert verdict.outcome == "holds" and "of 2 runs" in verdict.reason, verdict.reason


def test_strong_convexity_tests_every_member_of_a_group() -> None:
    """A group's own snapshots are its first member's; with w* known each member's snapshots
    are tested: a second seed whose curvature towards w* is 0.5 < λ = 0.9 fails the group."""
    from pipeline.evidence.models import Snapshot

    h = np.diag([1.0, 2.0])
    points = [np.array([2.0, 1.0]) * 0.7**k for k in range(6)]

    def member(seed: int, scale: float) -> Run:
        snaps = tuple(Snapshot(step=10 * k, params=w, grad=scale * (h @ w), grad_kind="full")
                      for k, w in enumerate(points))
        return Run(id=f"c{seed}", kind="sgd", seed=seed, provenance=Provenance(source="test"),
                   metrics={"step": np.arange(60, dtype=float)},
                   samples={"w_star": np.zeros(2)}, snapshots=snaps)

    check, bound = P + "sgd:strong_convexity", Bound(parameters={"lam": 0.9})
    good = run_check(check, pool_runs([member(0, 1.0), member(1, 1.0)], group_id="g"), bound)
    assert good.outcome == "holds" and "of 2 runs" in good.reason and good.n == 12, good.reason
    bad = run_check(check, pool_runs([member(0, 1.0), member(1, 0.5)], group_id="b"), bound)
    assert bad.outcome == "fails", bad.reason


@pytest.mark.parametrize("variant", [v for v in MISLABELLED if v != "mislabelled_lr"])
def test_an_optimiser_labelled_plain_sgd_fails_h_update(tmp_path: Path, variant: str) -> None:
    """Adam, momentum, weight decay and clipping, each with config optimizer = "SGD"."""
    control = Control(P + "sgd:plain_update", "sgd_logistic", variant, "fails")
    run = control.load(tmp_path / variant, quick=True)
    out = run_check(P + "sgd:plain_update", run, control.bound(run))
    assert out.outcome == "fails" and "'SGD'" in out.reason, out.reason
    if variant == "adam":
        assert "Adam" in out.reason


def test_clipping_before_the_hook_is_seen_as_a_cap() -> None:
    rng = np.random.default_rng(4)
    norms = np.minimum(rng.exponential(1.0, 500), 0.8)
    probes = {"update_probe_step": [100.0], "update_residual": [0.0], "update_rounding": [1e-15],
              "update_plain_sgd": [1.0], "update_momentum": [0.0], "update_weight_decay": [0.0]}
    run = Run(id="clip", metrics={"grad_norm": norms, "grad_sq": norms**2}, samples=probes)
    out = run_check(P + "sgd:plain_update", run)
    assert out.outcome == "fails" and "clipped before the hook" in out.reason
    free = Run(id="free", metrics={"grad_norm": rng.exponential(1.0, 500)}, samples=probes)
    assert run_check(P + "sgd:plain_update", free).outcome == "holds"


def test_the_probe_follows_each_parameter_group_and_needs_the_optimiser(tmp_path: Path) -> None:
    """Plain SGD with two parameter groups at different lr holds; a tracker that was not given
    the optimiser cannot say what the update was (inconclusive, never holds)."""
    import torch

    from pipeline.tracking import Tracker

    gen = torch.Generator().manual_seed(0)
    a = torch.nn.Parameter(torch.randn(3, generator=gen, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(2, generator=gen, dtype=torch.float64))
    opt = torch.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}])
    for name, given in (("groups", opt), ("blind", None)):
        with Tracker(tmp_path / name, [a, b], given, update_check_every=3) as track:
            for _ in range(12):
                opt.zero_grad()
                loss = (a**2).sum() + (b**4).sum() + 0.1 * torch.randn(1, generator=gen,
                                                                        dtype=torch.float64)
                loss.sum().backward()
                track.step(loss.sum())
                opt.step()
        out = run_check(P + "sgd:plain_update", load_run(tmp_path / name))
        assert out.outcome == ("holds" if given is not None else "inconclusive"), out.reason
