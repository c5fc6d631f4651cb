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
from pipeline.service.mcp_server import PROGRESS_EVERY_S
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import with_db
from tests.service.helpers import BAYES, bayes_proof
from tests.service.process import CLI, service_env
from tests.service.test_mcp import _structured

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

REVIEWED = "debate_equilibrium"  # the claim with a packaged recording


def test_iteration_tools_over_stdio(service_settings: Settings, tmp_path: Path) -> None:
    # the first tool call may wait for the project's build (minutes on a loaded machine)
    settings = with_db(service_settings, tmp_path).model_copy(update={"lean_timeout_s": 1500.0})
    registry = load_registry(settings)
    claim = next(c for c in registry.claims if c.id == BAYES)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", CLI, "mcp", "--workers", "0", "--project", str(settings.project_root)],
        env=service_env(settings, claim_status=False),
        cwd=str(settings.project_root),
    )
    good = bayes_proof(settings.project_root)  # the library's own proof, not citing the declaration

    async def session() -> None:
        async with Client(params, read_timeout_seconds=900) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"check_lean", "goal_state", "multi_attempt", "minimal_hypotheses", "review"} <= tools

            # -- check_lean: a helper lemma under the claim's imports and opens -------------------
            lemma = "theorem helper (l : List Rat) : listProd (l ++ []) = listProd l := by simp"
            progress: list[tuple[float, str | None]] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append((value, message))

            started = time.monotonic()  # the first call waits for the engine and the build
            ok = _structured(await client.call_tool("check_lean", {"source": lemma, "claim_id": claim.id},
                                                    progress_callback=on_progress))
            assert ok["verdict"] == "accepted", ok
            if time.monotonic() - started > 3 * PROGRESS_EVERY_S:  # a slow call says what it waits for
                assert progress and all(m for _, m in progress), progress
                assert [v for v, _ in progress] == sorted(v for v, _ in progress)
            assert ok["result"]["backend"].endswith("+resident")
            alone = _structured(await client.call_tool("check_lean", {"source": lemma}))  # no imports
            assert alone["verdict"] == "rejected" and "listProd" in alone["diagnostics"]
            evil = _structured(await client.call_tool(
                "check_lean", {"source": "#eval IO.println 1", "claim_id": claim.id}))
            assert evil["verdict"] == "rejected" and evil["result"]["violations"][0]["rule"] == "metaprogramming"

            # -- multi_attempt: side by side, in order (each on the resident path, as check_proof:
            # one worker per header, counted in tests/lean/test_resident.py; how fast:
            # benchmarks/bench_agent_latency.py, not asserted here) -----------------------------
            attempts = _structured(await client.call_tool("multi_attempt", {
                "claim_id": claim.id, "proofs": [good, "by\n  sorry", "by\n  exact 0", good + " "]}))
            assert [a["verdict"] for a in attempts] == ["accepted", "rejected", "rejected", "accepted"]
            assert [a["index"] for a in attempts] == [0, 1, 2, 3]
            assert "sorry" in attempts[1]["summary"] and "error" in attempts[2]["diagnostics"]

            # -- goal_state: before and after a line of an unfinished attempt ---------------------
            attempt = "by\n  intro ξ μ w k hw hd ht hp\n  sorry"
            goals = _structured(await client.call_tool(
                "goal_state", {"claim_id": claim.id, "proof": attempt, "line": 2}))
            assert len(goals["goals_before"]) == 1 and goals["goals_before"][0].startswith("⊢ ∀")
            after = goals["goals_after"][0]
            assert "hw : 1 / 2 ^ k ≤ w" in after and after.rstrip().endswith("⊢ surprises ξ ≤ k")
            assert "sorry" in goals["diagnostics"]
            closed = _structured(await client.call_tool(
                "goal_state", {"claim_id": claim.id, "proof": good, "line": len(good.split("\n"))}))
            assert closed["goals_before"] and closed["goals_after"] == []  # the last `grind` closes it
            outside = await client.call_tool("goal_state", {"claim_id": claim.id, "proof": good, "line": 99})
            assert outside.is_error and "outside the proof" in outside.content[0].text

            # -- minimal_hypotheses: a proof that opens with `intro` of every binder ------------
            minimal = _structured(await client.call_tool(
                "minimal_hypotheses", {"claim_id": claim.id, "proof": good}))
            assert minimal["proof_verdict"] == "accepted" and "weakened to True" in minimal["method"]
            assert [h["binder"] for h in minimal["hypotheses"]] == [h.binder for h in claim.hypotheses]
            assert all(h["decided_by"] != "undecided" for h in minimal["hypotheses"]), minimal
            # -- positions count in the proof sent, never in the assembled Submission.lean ------
            diag = _structured(await client.call_tool(
                "check_proof", {"claim_id": claim.id, "proof": "by\n  intro ξ\n  exact nope"}))
            assert "proof:3:8: error" in diag["diagnostics"] and "Submission.lean" not in diag["diagnostics"]

            # -- search and declaration: the compiled environment, no Lean process -------------
            found = _structured(await client.call_tool("search", {"query": "succ_le_succ"}))
            assert "Nat.succ_le_succ" in [h["name"] for h in found["hits"]]
            decl = _structured(await client.call_tool("declaration", {"name": claim.lean.declaration}))
            where = decl["location"]
            assert decl["origin"] == "project" and where["file"] == "Formal/Bayes.lean" and where["line"] > 1
            missing = await client.call_tool("declaration", {"name": "No.such"})
            assert missing.is_error and "no constant" in missing.content[0].text
            listed = _structured(await client.call_tool("list_submissions", {"claim_id": claim.id}))
            assert listed["items"] == [] and listed["next_cursor"] is None  # nothing recorded

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
