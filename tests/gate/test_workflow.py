"""The shipped GitHub workflow runs the gate the way docs/gate.md says."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "proofs.yml"


def test_workflow_sets_up_and_runs_the_gate() -> None:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = data["jobs"]["gate"]["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base must be in the history
    runs = [s["run"] for s in steps if "run" in s]
    assert "make setup" in runs  # the README's setup
    assert any(".venv/bin/sequent gate --base origin/main --format github" in r for r in runs)
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
