"""The gate's evidence suite: a soundness alarm on a registered reference run fails the gate;
one on a run nobody registered is reported and does not.

The fixture claim is given a deliberately wrong check: its hypothesis ``h_small`` (n < 100)
is "tested" by the judge-accuracy check, which holds on the runs below, and its conclusion
by the debate conclusion check, which fails on them. Every hypothesis holds and the
conclusion fails: a soundness alarm."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.evidence.evaluate import check_run
from pipeline.gate.evidence import evidence_cases
from pipeline.gate.models import GateReport, Revision, Severity, Status
from pipeline.gate.runner import GateOptions, run_gate
from pipeline.settings import Settings
from tests.conftest import lean_home, needs_lean
from tests.evidence.helpers import bernoulli, make_run

FIXTURE = Path(__file__).parent / "fixture_project"
CLAIM = "claims/doubling.toml"
WRONG_CHECK = '''
[[hypotheses]]
binder = "h_small"
meaning = "The number is below 100."
check = "pipeline.evidence.checks.debate:judge_leaf_accuracy"

[[conclusions]]
name = "doubles"
meaning = "Deliberately wrong pairing: the debate conclusion check stands in for the theorem's."
check = "pipeline.evidence.checks.debate:honest_always_wins"
'''


def wrong_claim(root: Path, references: list[str]) -> None:
    text = (FIXTURE / CLAIM).read_text()
    text = text[:text.index("[[hypotheses]]")]
    listed = ", ".join(f'"{r}"' for r in references)
    text = text.replace('depends_on = []', f'depends_on = []\nreference_runs = [{listed}]')
    (root / CLAIM).write_text(text + WRONG_CHECK)


def alarm_run(root: Path, name: str, liar: float = 0.5) -> None:
    """Judge right on every leaf (the wrong hypothesis check holds: h_judge_leaf is a ∀);
    the liar wins ``liar`` of debates."""
    make_run(root / "runs", name, samples={"leaf_correct": np.ones(2000),
                                           "liar_win": bernoulli(liar, 400, seed=2)})


def project(tmp_path: Path, references: list[str]) -> Settings:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    wrong_claim(root, references)
    return Settings.load(root, state_dir=tmp_path / "state")


def by_name(cases: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in cases}


def test_an_alarm_on_a_registered_reference_run_fails(tmp_path: Path) -> None:
    settings = project(tmp_path, ["runs/ref"])
    alarm_run(settings.project_root, "ref")
    cases = by_name(evidence_cases(settings, ""))
    case = cases["doubling: reference run runs/ref"]
    assert case.status is Status.failed and case.suite == "evidence"
    (finding,) = case.findings
    assert "SOUNDNESS ALARM" in finding.message and "doubles" in finding.message
    assert "checks or the formalization are wrong" in finding.message
    assert finding.location is not None and finding.location.file == CLAIM
    report = GateReport(project=str(settings.project_root), base=None, head=Revision(label="t"),
                        cases=tuple(cases.values()))
    assert not report.ok


def test_a_reference_run_where_the_conclusion_holds_passes(tmp_path: Path) -> None:
    settings = project(tmp_path, ["runs/ref"])
    alarm_run(settings.project_root, "ref", liar=0.0)
    case = by_name(evidence_cases(settings, ""))["doubling: reference run runs/ref"]
    assert case.status is Status.passed, case.findings


def test_a_reference_group_is_checked_as_a_group(tmp_path: Path) -> None:
    settings = project(tmp_path, ["runs/group"])
    for seed in (1, 2):
        make_run(settings.project_root / "runs" / "group", f"s{seed}", seed=seed,
                 samples={"leaf_correct": np.ones(1000),
                          "liar_win": bernoulli(0.5, 200, seed=10 + seed)})
    case = by_name(evidence_cases(settings, ""))["doubling: reference run runs/group"]
    assert case.status is Status.failed and "group:group" in case.findings[0].message


def test_a_missing_reference_run_fails(tmp_path: Path) -> None:
    settings = project(tmp_path, ["runs/nowhere"])
    case = by_name(evidence_cases(settings, ""))["doubling: reference run runs/nowhere"]
    assert case.status is Status.failed and "does not exist" in case.findings[0].message


def test_an_alarm_on_an_unregistered_run_is_reported_not_failed(tmp_path: Path) -> None:
    settings = project(tmp_path, [])
    alarm_run(settings.project_root, "other")
    verdicts = check_run(settings, load_registry(settings), settings.project_root / "runs/other",
                         plots=False)
    assert any(v.role == "conclusion" and v.outcome == "fails" for v in verdicts)
    cases = by_name(evidence_cases(settings, ""))
    case = cases["soundness alarms on other runs"]
    assert case.status is Status.warned
    assert "soundness alarm: claim doubling on run other" in case.findings[0].message
    assert not any(c.status is Status.failed for c in cases.values())


@pytest.mark.parametrize("entry", ["/abs/run", "../outside", "C:/runs", " "])
def test_reference_runs_are_paths_inside_the_project(tmp_path: Path, entry: str) -> None:
    data = {"id": "x", "title": "t", "statement": "s", "argument": "a", "source": "s",
            "lean": {"module": "Formal.Basic", "declaration": "Formal.Basic.x",
                     "statement": "True"},
            "path": tmp_path / "x.toml", "reference_runs": [entry]}
    with pytest.raises(ValidationError, match="inside the project"):
        Claim.model_validate(data)


@pytest.mark.lean
@needs_lean
def test_the_gate_fails_on_a_reference_alarm_and_passes_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end with real Lean: the same alarm fails ``run_gate`` when the run is registered,
    and is only a warning when it is not."""
    monkeypatch.setenv("SEQUENT_LEAN_HOME", str(lean_home()))
    monkeypatch.setenv("SEQUENT_POOL_SIZE", "1")
    settings = project(tmp_path, ["runs/ref"])
    alarm_run(settings.project_root, "ref")
    import subprocess

    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "p"]):
        subprocess.run(["git", *args], cwd=settings.project_root, check=True)
    report = run_gate(settings, GateOptions())
    errors = [f.message for _, f in report.findings(Severity.error)]
    assert not report.ok and any("SOUNDNESS ALARM" in e for e in errors), errors
    assert all("SOUNDNESS ALARM" in e for e in errors), errors  # nothing else fails

    wrong_claim(settings.project_root, [])  # unregistered: the stored alarm is reported only
    check_run(settings, load_registry(settings), settings.project_root / "runs/ref", plots=False)
    report = run_gate(settings, GateOptions())
    assert report.ok, [f.message for _, f in report.findings(Severity.error)]
    warnings = [f.message for _, f in report.findings(Severity.warning)]
    assert any("not a registered reference run" in w for w in warnings), warnings
