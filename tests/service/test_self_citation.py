"""A submission may not cite its own target (issue 25, item 4), through the real HTTP API on
loopback and the real MCP client: the audit reads the constants the compiled proof term reaches
(through the project's modules) and names the cited declaration and the path; a genuine proof
through other lemmas is accepted. The class, on a small module, is in tests/lean/test_citation.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import Live, start_live, with_db
from tests.service.process import CLI, service_env
from tests.service.proofs import (
    EQUILIBRIUM,
    EQUILIBRIUM_BINDERS,
    EQUILIBRIUM_PROOF,
    EQUILIBRIUM_TARGET,
)
from tests.service.test_mcp import _structured

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

WITNESS = "Formal.Equilibrium.dishonesty_bound_nonvacuous"
ARGS = EQUILIBRIUM_BINDERS
CITING = {
    "direct": (f"@{EQUILIBRIUM_TARGET}", ["sequent_submission", EQUILIBRIUM_TARGET]),
    "exact?": (f"by\n  intro {ARGS}\n  exact?", [EQUILIBRIUM_TARGET]),
    "lambda": (f"fun {ARGS} => (fun x => x) ({EQUILIBRIUM_TARGET} {ARGS})", [EQUILIBRIUM_TARGET]),
    "subst": (f"by\n  intro {ARGS}\n  exact (rfl : p = p) ▸ {EQUILIBRIUM_TARGET} {ARGS}", [EQUILIBRIUM_TARGET]),
    # a project lemma whose proof uses the target: the witness applies it
    "lemma": (f"by\n  have _w := {WITNESS}\n" + EQUILIBRIUM_PROOF.removeprefix("by\n"),
              [WITNESS, EQUILIBRIUM_TARGET]),
}


@pytest.fixture(scope="module")
def live(service_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("cite")
    server = start_live(with_db(service_settings, folder), folder, workers=1, claim_status=False)
    server.server.wait_ready(timeout=1800)
    yield server
    server.server.stop()


def _cited(view: dict[str, object], path: list[str]) -> None:
    assert view["status"] == "rejected" and "forbidden" in view["reasons"], view  # type: ignore[operator]
    text = str(view)
    assert f"the proof uses {EQUILIBRIUM_TARGET}" in text, text
    assert " → ".join(path) in text, (path, text)


@pytest.mark.parametrize("way", list(CITING))
def test_a_submission_citing_its_target_is_rejected_over_http(live: Live, way: str) -> None:
    proof, path = CITING[way]
    with live.client() as http:
        r = http.post("/v1/submissions", headers=live.auth,
                      json={"claim_id": EQUILIBRIUM, "proof": proof, "agent": "citer"})
        assert r.status_code == 202, r.text
    _cited(live.wait_verdict(str(r.json()["id"])), path)


def test_a_genuine_proof_through_other_lemmas_is_accepted_over_http(live: Live) -> None:
    with live.client() as http:
        r = http.post("/v1/submissions", headers=live.auth,
                      json={"claim_id": EQUILIBRIUM, "proof": EQUILIBRIUM_PROOF, "agent": "prover"})
        assert r.status_code == 202, r.text
    view = live.wait_verdict(str(r.json()["id"]))
    assert view["status"] == "accepted", view


def test_mcp_submit_check_and_multi_attempt_refuse_a_citation(service_settings: Settings, tmp_path: Path) -> None:
    settings = with_db(service_settings, tmp_path).model_copy(update={"lean_timeout_s": 1500.0})
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", CLI, "mcp", "--workers", "1", "--project", str(settings.project_root)],
        env=service_env(settings, claim_status=False),
        cwd=str(settings.project_root),
    )
    direct, direct_path = CITING["direct"]
    search, search_path = CITING["exact?"]

    async def session() -> None:
        async with Client(params, read_timeout_seconds=1500) as client:
            done = _structured(await client.call_tool("submit_proof", {
                "claim_id": EQUILIBRIUM, "proof": direct, "agent": "mcp-citer", "wait_s": 900}))
            _cited(done, direct_path)

            checked = _structured(await client.call_tool("check_proof", {"claim_id": EQUILIBRIUM, "proof": search}))
            assert checked["verdict"] == "rejected", checked
            assert f"the proof uses {EQUILIBRIUM_TARGET}" in str(checked), checked
            assert " → ".join(search_path) in str(checked)

            attempts = _structured(await client.call_tool("multi_attempt", {
                "claim_id": EQUILIBRIUM, "proofs": [EQUILIBRIUM_PROOF, CITING["lambda"][0]]}))
            assert [a["verdict"] for a in attempts] == ["accepted", "rejected"], attempts
            assert f"the proof uses {EQUILIBRIUM_TARGET}" in str(attempts[1]), attempts[1]

    anyio.run(session)
