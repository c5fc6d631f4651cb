"""PostgreSQL end to end: a real server that only accepts, and a separate ``sequent worker``
process that checks, sharing one real PostgreSQL database (as on two machines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.claims.registry import load_registry
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.postgres import PostgresCluster
from tests.service.fixtures import start_live
from tests.service.process import CLI, service_env
from tests.service.proofs import EQUILIBRIUM, EQUILIBRIUM_PROOF

pytestmark = [pytest.mark.lean, needs_lean]


def test_a_worker_process_checks_jobs_accepted_by_the_server(
    service_settings: Settings, postgres: PostgresCluster, tmp_path: Path
) -> None:
    with postgres.fresh_database() as url:
        settings = service_settings.model_copy(update={"database_url": url})
        claim = load_registry(settings).get(EQUILIBRIUM)
        live = start_live(settings, tmp_path, workers=0, claim_status=False)
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-c", CLI, "worker", "--threads", "1", "--project", str(settings.project_root)],
            env=service_env(settings, claim_status=False), cwd=settings.project_root,
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            with live.client() as http:
                ids = {}
                for name, proof in (("good", f"{EQUILIBRIUM_PROOF}\n  -- pg"),
                                    ("sorry", "by\n  sorry")):
                    r = http.post("/v1/submissions", headers=live.auth,
                                  json={"claim_id": claim.id, "proof": proof, "agent": "pg"})
                    assert r.status_code == 202, r.text
                    ids[name] = r.json()["id"]
            good = live.wait_verdict(ids["good"], timeout=1800)
            assert good["status"] == "accepted", (good, (tmp_path / "worker.log").read_text())
            bad = live.wait_verdict(ids["sorry"], timeout=600)
            assert bad["status"] == "rejected" and "sorry" in bad["reasons"]  # type: ignore[operator]
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            log.close()
            live.server.stop()
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
    assert "stopping after 2 job(s)" in (tmp_path / "worker.log").read_text()
