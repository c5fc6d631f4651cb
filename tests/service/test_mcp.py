"""The MCP server, driven through the official SDK's own stdio client."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from pipeline.claims.registry import load_registry
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import with_db
from tests.service.process import CLI, service_env
from tests.service.proofs import EQUILIBRIUM, EQUILIBRIUM_PROOF

pytestmark = [pytest.mark.lean, needs_lean]


def _structured(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        data = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return json.loads(result.content[0].text)


def test_mcp_tools_over_stdio(service_settings: Settings, tmp_path: Path) -> None:
    settings = with_db(service_settings, tmp_path)
    registry = load_registry(settings)
    claim = registry.get(EQUILIBRIUM)
    log = tmp_path / "mcp.log"
    command = shlex.join([sys.executable, "-c", CLI, "mcp", "--workers", "1",
                          "--project", str(settings.project_root)])
    params = StdioServerParameters(  # its log in a file, to see what came before initialize's answer
        command="sh", args=["-c", f"exec {command} 2>>{shlex.quote(str(log))}"],
        env=service_env(settings, claim_status=False, mcp_ready_wait_s=600),
        cwd=str(settings.project_root),
    )

    async def session() -> None:
        async with Client(params, read_timeout_seconds=900) as client:
            # "ready" means ready: initialize was answered once the engine was (issue 27)
            assert "the Lean engine is ready" in log.read_text(), log.read_text()
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"check_proof", "submit_proof", "list_claims", "get_claim",
                    "hypothesis_status"} <= tools

            listed = _structured(await client.call_tool("list_claims", {}))
            assert [c["id"] for c in listed] == [c.id for c in registry.claims]

            view = _structured(await client.call_tool("get_claim", {"claim_id": claim.id}))
            assert view["lean_statement"] == claim.lean.statement

            hyps = _structured(await client.call_tool("hypothesis_status", {"claim_id": claim.id}))
            assert [h["binder"] for h in hyps] == [h.binder for h in claim.hypotheses]

            proof = EQUILIBRIUM_PROOF  # citing claim.lean.declaration is rejected (test_self_citation)
            checked = _structured(await client.call_tool(
                "check_proof", {"claim_id": claim.id, "proof": proof}))
            assert checked["verdict"] == "accepted", checked

            bad = _structured(await client.call_tool(
                "check_proof", {"claim_id": claim.id, "proof": "by\n  sorry"}))
            assert bad["verdict"] == "rejected" and "sorry" in bad["result"]["reasons"]

            done = _structured(await client.call_tool(
                "submit_proof", {"claim_id": claim.id, "proof": proof, "agent": "mcp-test",
                                 "wait_s": 600}))
            assert done["status"] == "accepted", done
            fetched = _structured(await client.call_tool(
                "get_submission", {"submission_id": done["id"]}))
            assert fetched["verdict"] == "accepted"

            missing = await client.call_tool("get_claim", {"claim_id": "no_such_claim"})
            assert missing.is_error and "no_such_claim" in missing.content[0].text
            smuggle = await client.call_tool("submit_proof", {
                "claim_id": claim.id, "proof": "by trivial\ntheorem x : True := trivial"})
            assert smuggle.is_error

    anyio.run(session)
