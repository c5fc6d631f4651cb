"""The iteration tools of the MCP server (resident Lean workers), through the SDK's own stdio
client against a real ``sequent mcp`` process: check_lean, goal_state, multi_attempt,
minimal_hypotheses, review (the recorded reviewer: the only fake is the provider's network
edge, replaced by its recording)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from pipeline.agents.models import other_family
from pipeline.agents.providers.replay import ReplayProvider
from pipeline.claims.registry import load_registry
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import with_db
from tests.service.process import CLI, service_env
from tests.service.test_mcp import _structured

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

REVIEWED = "debate_equilibrium"  # the claim with a packaged recording


def test_iteration_tools_over_stdio(service_settings: Settings, tmp_path: Path) -> None:
    # the first tool call may wait for the project's build (minutes on a loaded machine)
    settings = with_db(service_settings, tmp_path).model_copy(update={"lean_timeout_s": 1500.0})
    registry = load_registry(settings)
    claim = next(c for c in registry.claims if c.id == "bayes_surprise")
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", CLI, "mcp", "--workers", "0", "--project", str(settings.project_root)],
        env=service_env(settings, claim_status=False),
        cwd=str(settings.project_root),
    )
    good = f"by\n  exact {claim.lean.declaration}"

    async def session() -> None:
        async with Client(params, read_timeout_seconds=900) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"check_lean", "goal_state", "multi_attempt", "minimal_hypotheses", "review"} <= tools

            # -- check_lean: a helper lemma under the claim's imports and opens -------------------
            lemma = "theorem helper (l : List Rat) : listProd (l ++ []) = listProd l := by simp"
            ok = _structured(await client.call_tool("check_lean", {"source": lemma, "claim_id": claim.id}))
            assert ok["verdict"] == "accepted", ok
            assert ok["result"]["backend"].endswith("+resident")
            alone = _structured(await client.call_tool("check_lean", {"source": lemma}))  # no imports
            assert alone["verdict"] == "rejected" and "listProd" in alone["diagnostics"]
            evil = _structured(await client.call_tool(
                "check_lean", {"source": "#eval IO.println 1", "claim_id": claim.id}))
            assert evil["verdict"] == "rejected" and evil["result"]["violations"][0]["rule"] == "metaprogramming"

            # -- multi_attempt: side by side, in order; re-checks are fast ------------------------
            started = time.monotonic()
            attempts = _structured(await client.call_tool("multi_attempt", {
                "claim_id": claim.id, "proofs": [good, "by\n  sorry", "by\n  exact 0", good + " "]}))
            elapsed = time.monotonic() - started
            assert [a["verdict"] for a in attempts] == ["accepted", "rejected", "rejected", "accepted"]
            assert [a["index"] for a in attempts] == [0, 1, 2, 3]
            assert "sorry" in attempts[1]["summary"] and "error" in attempts[2]["diagnostics"]
            assert elapsed < 120, elapsed  # one worker holds the header: no process per attempt

            # -- goal_state: before and after a line of an unfinished attempt ---------------------
            attempt = "by\n  intro ξ μ w k hw hd ht hp\n  sorry"
            goals = _structured(await client.call_tool(
                "goal_state", {"claim_id": claim.id, "proof": attempt, "line": 2}))
            assert len(goals["goals_before"]) == 1 and goals["goals_before"][0].startswith("⊢ ∀")
            after = goals["goals_after"][0]
            assert "hw : 1 / 2 ^ k ≤ w" in after and after.rstrip().endswith("⊢ surprises ξ ≤ k")
            assert "sorry" in goals["diagnostics"]
            closed = _structured(await client.call_tool(
                "goal_state", {"claim_id": claim.id, "proof": good, "line": 2}))
            assert closed["goals_before"] and closed["goals_after"] == []
            outside = await client.call_tool("goal_state", {"claim_id": claim.id, "proof": good, "line": 9})
            assert outside.is_error and "outside the proof" in outside.content[0].text

            # -- minimal_hypotheses: the declaration uses every hypothesis ------------------------
            minimal = _structured(await client.call_tool(
                "minimal_hypotheses", {"claim_id": claim.id, "proof": good}))
            assert minimal["proof_verdict"] == "accepted"
            assert [h["binder"] for h in minimal["hypotheses"]] == [h.binder for h in claim.hypotheses]
            assert all(h["needed"] is True for h in minimal["hypotheses"]), minimal

            # -- review: the recorded reviewer of the other family --------------------------------
            reviewer = ReplayProvider.for_claim(REVIEWED).reviewer()
            reviewed = next(c for c in registry.claims if c.id == REVIEWED)
            verdict = _structured(await client.call_tool("review", {
                "claim_id": REVIEWED, "drafter_family": other_family(reviewer.family), "replay": True}))
            assert verdict["reviewer_family"] == reviewer.family
            assert verdict["judgement"]["verdict"] in {"faithful", "unfaithful", "uncertain"}
            assert verdict["statement"] == reviewed.lean.statement
            same = await client.call_tool("review", {
                "claim_id": REVIEWED, "drafter_family": reviewer.family, "replay": True})
            assert same.is_error and "other" in same.content[0].text

    anyio.run(session)
