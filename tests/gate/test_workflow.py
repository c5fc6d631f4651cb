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


def test_the_workflow_never_caches_build_outputs() -> None:
    """A cache key is something the branch controls: only the integrity-pinned Lean install may
    be restored; the gate compiles the branch's sources on every run (issue 25, item 1)."""
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    caches = [s for s in data["jobs"]["gate"]["steps"] if str(s.get("uses", "")).startswith("actions/cache")]
    paths = [p.strip() for s in caches for p in str(s["with"]["path"]).splitlines() if p.strip()]
    assert paths == [".sequent/lean"]
    assert not any("restore-keys" in s["with"] for s in caches)
