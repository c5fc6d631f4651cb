"""No accepted submission is lost: SIGKILL the server during a check, restart it, the job
completes; verdicts survive restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from pipeline.claims.registry import load_registry
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import start_live, with_db
from tests.service.process import ServerProcess, service_env
from tests.service.proofs import EQUILIBRIUM, EQUILIBRIUM_PROOF
from tests.waiting import wait_until

pytestmark = [pytest.mark.lean, needs_lean]


def _job(settings: Settings, submission_id: str) -> tuple[str, int]:
    path = str(settings.database_url).removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        row = conn.execute("select status, attempts from service_jobs where submission_id = ?",
                           (submission_id,)).fetchone()
    return str(row[0]), int(row[1])


def test_sigkill_during_a_check_then_restart_completes_the_job(
    service_settings: Settings, tmp_path: Path
) -> None:
    settings = with_db(service_settings, tmp_path)
    claim = load_registry(settings).get(EQUILIBRIUM)
    live = start_live(settings, tmp_path, workers=1, claim_status=False)
    try:
        live.server.wait_ready(timeout=1800)
        with live.client() as http:
            r = http.post("/v1/submissions", headers=live.auth, json={
                "claim_id": claim.id, "proof": f"{EQUILIBRIUM_PROOF}\n  -- durability",
                "agent": "durability"})
            assert r.status_code == 202
            sid = r.json()["id"]
            wait_until(lambda: http.get(f"/v1/submissions/{sid}").json()["status"] == "running",
                       timeout_s=120, what="the worker starting the check")
        live.server.kill()  # SIGKILL mid-check: no cleanup runs in the server
        assert _job(settings, sid) == ("running", 1)

        restarted = ServerProcess(settings.project_root, service_env(settings, claim_status=False),
                                  tmp_path / "server2.log", workers=1).start()
        live.server = restarted
        # (reads get a minute: httpx's default 5 s read timeout failed here once at load ~10, while
        # the restarted server was starting its engine)
        view = httpx.get(f"{restarted.url}/v1/submissions/{sid}", params={"wait": 1}, timeout=60).json()
        assert view["id"] == sid and view["statement"] == claim.lean.statement
        live.url = restarted.url
        done = live.wait_verdict(sid)
        assert done["status"] == "accepted", done
        assert _job(settings, sid) == ("done", 2)  # picked up again after the restart

        restarted.stop()
        again = ServerProcess(settings.project_root, service_env(settings, claim_status=False),
                              tmp_path / "server3.log", workers=0).start()
        live.server = again
        kept = httpx.get(f"{again.url}/v1/submissions/{sid}", timeout=60).json()
        assert kept["status"] == "accepted" and kept["finished_at"] == done["finished_at"]
    finally:
        live.server.stop()
