"""The service's wiring (issue 29): the composition root hands each front end the focused
services it uses, never the container, and nothing outside the engine reaches into a
``Checker``'s parts. No Lean runs here: the routes below read the registry and the database."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.service.app import create_app, provide
from pipeline.service.config import ServiceConfig
from pipeline.service.services import open_services
from pipeline.settings import Settings
from tests.conftest import REPO
from tests.imports import imported
from tests.service.fixtures import with_db

PIPELINE = REPO / "pipeline"
ENGINE_PARTS = re.compile(r"checker(\(\))?\.(builds|iteration|compiler|batched|replayer|results|cache|provenance|auditor)\b")


def test_only_the_composition_takes_the_container_and_only_the_engine_its_parts() -> None:
    service = PIPELINE / "service"
    takers = {p.relative_to(PIPELINE).as_posix() for p in service.rglob("*.py")
              if "pipeline.service.services" in imported(p)}
    assert takers == {"service/app.py"}, takers  # the lifespan; routes, deps, MCP tools get one service each
    reaches = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
               for p in PIPELINE.rglob("*.py") if "lean" not in p.relative_to(PIPELINE).parts[:1]
               for n, line in enumerate(p.read_text().splitlines(), 1) if ENGINE_PARTS.search(line)]
    assert not reaches, reaches
    assert ENGINE_PARTS.search("env = checker.auditor.project(checker.builds.closure(mods))")  # the rule can fail


def test_each_route_gets_its_own_service(service_settings: Settings, tmp_path: Path) -> None:
    """A real app and real services (no check workers, the engine not started): each route
    group answers from the one service its dependency gives it."""
    settings = with_db(service_settings, tmp_path)
    app = create_app(settings, ServiceConfig(workers=0))
    with open_services(settings, ServiceConfig(workers=0), worker_threads=0) as services:
        provide(app, services)  # what the lifespan does once the services started
        secret = services.tokens.create("wiring").secret
        http = TestClient(app)  # not entered: the lifespan would open services of its own
        health = http.get("/v1/health").json()
        assert health["status"] == "ok" and health["database"] == "sqlite" and health["workers"] == 0
        assert health["lean_ready"] is False and health["resident"] is None and health["lean_backend"] is None
        assert health["phase"] == "not started" and health["queue"].get("queued", 0) == 0
        ids = [c["id"] for c in http.get("/v1/claims").json()]
        assert ids and ids == [c.id for c in services.claims.claims()]
        assert http.post("/v1/submissions", json={"claim_id": ids[0], "proof": "by\n  sorry", "agent": "a"}
                         ).status_code == 401  # the token dependency reads the token store
        posted = http.post("/v1/submissions", json={"claim_id": ids[0], "proof": "by\n  sorry", "agent": "a"},
                           headers={"Authorization": f"Bearer {secret}"})
        assert posted.status_code == 202, posted.text
        sub = posted.json()["id"]
        assert http.get(f"/v1/submissions/{sub}").json()["status"] == "queued"  # no worker: queued
        assert [v["id"] for v in http.get("/v1/submissions").json()["items"]] == [sub]
        assert http.get("/v1/health").json()["queue"]["queued"] == 1
        examples = app.openapi()["components"]["schemas"]["SubmissionIn"]["properties"]["claim_id"]["examples"]
        assert examples == ids
