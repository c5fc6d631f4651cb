from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.claims.registry import load_registry
from pipeline.evidence.evaluate import Target, applies, check_run, evaluate
from pipeline.evidence.models import HypothesisVerdict
from pipeline.evidence.store import latest_verdicts, save_verdicts, verdicts_for_run
from pipeline.settings import Settings
from pipeline.store.db import Database
from tests.evidence.helpers import P, bernoulli, make_run


def verdict(binder: str, outcome: str) -> HypothesisVerdict:
    return HypothesisVerdict(claim_id="c", binder=binder, check="m:f", run_id="r",
                             outcome=outcome, statistic="s", reason="r")  # type: ignore[arg-type]


class Status:
    def __init__(self, proved: bool) -> None:
        self.proved = proved


def test_applies_needs_the_proof_and_every_hypothesis() -> None:
    holds = [verdict("h1", "holds"), verdict("h2", "holds")]
    assert applies(Status(True), holds)
    assert not applies(Status(False), holds)
    assert not applies(True, [verdict("h1", "holds"), verdict("h2", "inconclusive")])
    assert not applies(True, holds, required=["h1", "h2", "h3"])  # h3 never checked
    assert applies(True, [verdict("h1", "fails"), verdict("h1", "holds")])  # latest counts
    assert applies(True, [], required=[])  # no empirical hypotheses: the proof suffices


def test_evaluate_runs_each_check_once_and_draws_plots(tmp_path: Path) -> None:
    run = make_run(tmp_path, samples={"liar_win": bernoulli(0.01, 500)})
    targets = [Target(claim_id="a", binder="h_eps", check=P + "debate:exploitability"),
               Target(claim_id="b", binder="h_eq", check=P + "debate:exploitability"),
               Target(claim_id="b", binder="h_x", check="unknown:thing")]
    verdicts = evaluate(run, targets, plot_dir=tmp_path / "plots")
    assert [v.outcome for v in verdicts] == ["holds", "holds", "inconclusive"]
    assert verdicts[0].plot == verdicts[1].plot and Path(verdicts[0].plot).read_bytes()[:4] == b"\x89PNG"
    assert verdicts[2].plot is None and "unknown check" in verdicts[2].reason


def test_store_keeps_the_latest_verdict_per_binder(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run = make_run(tmp_path, metrics={"loss": [1.0]})
    save_verdicts(db, run, [verdict("h1", "fails"), verdict("h2", "holds")])
    save_verdicts(db, run, [verdict("h1", "holds")])
    latest = latest_verdicts(db, "c")
    assert [(v.binder, v.outcome) for v in latest] == [("h1", "holds"), ("h2", "holds")]
    assert latest[0].recorded_at is not None
    assert len(verdicts_for_run(db, "r")) == 3 and latest_verdicts(db, "other") == []
    db.close()


def test_check_run_with_named_checks_stores_verdicts(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path, state_dir=tmp_path / "state")
    run = make_run(tmp_path, metrics={"lr": 0.5 / np.arange(1, 501)})
    verdicts = check_run(settings, None, tmp_path / "run",
                         checks=[P + "sgd:step_size_schedule"])
    assert [v.outcome for v in verdicts] == ["holds"]
    assert (tmp_path / "run" / "evidence").is_dir() and verdicts[0].plot
    db = Database(settings.db_url)
    assert latest_verdicts(db, "-")[0].run_id == run.id
    db.close()


def test_check_run_over_the_claims_registry(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    settings = Settings.load(repo, state_dir=tmp_path / "state")
    registry = load_registry(settings)
    expected = [(c.id, h.binder) for c in registry.claims for h in c.hypotheses
                if h.check and not h.assumed]
    expected = [pair for c in registry.claims for pair in
                [(i, b) for i, b in expected if i == c.id] + [(c.id, k.name) for k in c.conclusions]]
    if not expected:
        pytest.skip("the claims registry has no empirical hypotheses yet")
    make_run(tmp_path, metrics={"loss": [1.0, 0.5]})
    verdicts = check_run(settings, registry, tmp_path / "run", plots=False)
    assert [(v.claim_id, v.binder) for v in verdicts] == expected
    assert all(v.outcome == "inconclusive" for v in verdicts), [  # a loss-only run decides nothing
        (v.binder, v.reason) for v in verdicts if v.outcome != "inconclusive"]
