"""``sequent demo`` end to end on a small real project, and its failure path."""

from __future__ import annotations

from pathlib import Path

import pytest

import experiments
from pipeline.agents.store import attempts_for, latest_review
from pipeline.demo.runner import STAGES
from pipeline.evidence.store import latest_verdicts, recorded_runs
from pipeline.store.db import Database
from tests.report.fixtures import DemoRun, sequent
from tests.report.sitecheck import broken_links

pytestmark = pytest.mark.lean


def test_demo_runs_every_stage_and_writes_the_report(demo_run: DemoRun) -> None:
    result = demo_run.result
    assert result.returncode == 0, result.stdout + result.stderr
    for stage in STAGES:
        assert f"\n{stage}\t" in result.stdout  # piped: a tab-separated row per stage
    assert "FAILED" not in result.stdout and "Traceback" not in result.stderr
    assert "2 claims: 2 proved, 2 fully proved" in result.stdout
    assert "debate_equilibrium: accepted after 2 Lean attempt(s)" in result.stdout
    index = demo_run.root / ".sequent" / "report" / "index.html"
    assert f"open the report: {index}" in result.stdout.replace("\n", "")
    assert broken_links(index.parent) == []
    db = Database(demo_run.settings.db_url)
    try:
        runs = {r.source: r.id for r in recorded_runs(db)}
        assert len(runs) == len(experiments.REFERENCE)
        hyps = [v for v in latest_verdicts(db, "debate_tree", run_id=runs["experiment:debate"])
                if v.role == "hypothesis"]
        # the protocol rules are read from the debates' transcripts
        assert [(v.binder, v.outcome) for v in hyps] == [
            ("h_alternating", "holds"), ("h_depth", "holds"), ("h_judge_leaf", "holds")]
        leaf = [v for v in hyps if v.binder == "h_judge_leaf"]
        assert leaf[0].n > 0 and leaf[0].plot and Path(leaf[0].plot).is_file()
        outcomes = [a.outcome for a in attempts_for(db, "debate_equilibrium")]
        assert outcomes == ["informal", "rejected", "accepted"]
        assert latest_review(db, "debate_equilibrium") is not None
    finally:
        db.close()


def test_demo_fails_clearly_when_a_stage_fails(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    (root / "claims").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- broken project\n")
    (root / "claims" / "oops.toml").write_text('id = "oops"\ntitle = "unterminated\n')
    result = sequent(root, "demo", timeout=300)
    assert result.returncode == 1
    assert "stage 'build' failed" in result.stderr
    assert "claims/oops.toml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "not run" in result.stdout  # the later stages are listed as not run
    assert not (root / ".sequent" / "report").exists()
