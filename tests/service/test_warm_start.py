"""Ready means ready (issue 27): a real ``sequent serve`` on loopback reports ``lean_ready`` only
once a resident Lean worker holds the import header most claims share, and the first
``check_proof`` after that goes to that warm worker instead of starting one. (How long each step
takes is measured by benchmarks/bench_agent_latency.py, never here.)"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.registry import load_registry
from pipeline.lean.build import discover
from pipeline.lean.buildplan import import_closure
from pipeline.lean.checker import iteration_header
from pipeline.lean.models import CheckRequest
from pipeline.service import handlers
from pipeline.service.config import ServiceConfig
from pipeline.service.deps import Local
from pipeline.service.local import (
    LOCAL_SECRET_HEADER,
    read_server_file,
    server_file,
    write_server_file,
)
from pipeline.service.services import open_services
from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import Live, start_live, with_db
from tests.service.process import run_cli, service_env


@pytest.mark.lean
@needs_lean
def test_ready_means_a_warm_worker_and_the_first_check_uses_it(service_settings: Settings,
                                                                tmp_path: Path) -> None:
    settings = with_db(service_settings, tmp_path)
    claims = load_registry(settings).claims
    headers = Counter(iteration_header(assemble_proof(c, "by\n  sorry")) for c in claims)
    shared = headers.most_common(1)[0][0]
    claim = next(c for c in claims if iteration_header(assemble_proof(c, "by\n  sorry")) == shared)
    live = start_live(settings, tmp_path, workers=0, claim_status=False, warm_headers=1)
    try:
        health = live.server.wait_ready(timeout=900)
        assert health["phase"] != "not started"
        warm = health["resident"]
        assert isinstance(warm, dict) and warm["started"] == 1 and warm["idle"] == 1, health
        assert warm["checks"] == 0  # warmed by importing the header, not by a check
        with live.client(headers=live.auth) as http:
            answer = http.post("/v1/check_proof", json={"claim_id": claim.id, "proof": "by\n  exact 0"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["verdict"] == "rejected"
            after = http.get("/v1/health").json()["resident"]
        assert after["started"] == 1 and after["checks"] == 1, after  # the warm worker answered

        # -- `sequent goals` finds the server through the state folder and asks it -------------
        found = read_server_file(settings)
        assert found is not None and found.url == live.url
        scratch = settings.state / "goals-test" / "Scratch.lean"
        scratch.parent.mkdir(exist_ok=True)
        scratch.write_text(shared + "\ntheorem scratch (n : Nat) : n + 0 = n := by\n  simp\n", encoding="utf-8")
        line = shared.count("\n") + 3
        done = run_cli(["goals", f"{scratch}:{line}:2", "--json", "--no-build"],
                       service_env(settings), settings.project_root, timeout=600)
        assert done.returncode == 0, done.stderr
        assert "n + 0 = n" in json.loads(done.stdout)["goals"][0]
        assert "POST /v1/goals HTTP/1.1\" 200" in live.server.log()
        assert http_health(live)["resident"]["started"] == 1  # the warm worker of that header
    finally:
        live.server.stop()
    assert read_server_file(settings) is None  # removed when the server stops


def http_health(live: Live) -> dict[str, Any]:
    with live.client() as http:
        return dict(http.get("/v1/health").json())


def test_a_stale_server_file_is_ignored(service_settings: Settings, tmp_path: Path) -> None:
    settings = service_settings.model_copy(update={"state_dir": tmp_path / "state"})
    assert read_server_file(settings) is None
    write_server_file(settings, "http://127.0.0.1:9", "s3cret")
    assert read_server_file(settings) is not None  # this process is alive
    assert (server_file(settings).stat().st_mode & 0o777) == 0o600  # the secret: owner only
    stale = server_file(settings).read_text().replace(f'"pid":{os.getpid()}', '"pid":999999999')
    server_file(settings).write_text(stale)
    assert read_server_file(settings) is None
    server_file(settings).write_text("{not json")
    assert read_server_file(settings) is None


def test_the_goals_route_wants_the_state_folders_secret_not_a_token() -> None:
    """The dependency ``POST /v1/goals`` declares, on a real FastAPI app with the service's
    error handlers: the state folder's secret passes; a bearer token, a wrong or no secret: 401."""
    app = FastAPI()
    app.state.local_secret = "s3cret"
    handlers.install(app)

    @app.post("/v1/goals")
    def goals(local: Local) -> dict[str, str]:
        return {"ok": "yes"}

    with TestClient(app) as http:
        assert http.post("/v1/goals", headers={LOCAL_SECRET_HEADER: "s3cret"}).json() == {"ok": "yes"}
        for headers in ({LOCAL_SECRET_HEADER: "s3creT"}, {"Authorization": "Bearer sqt_x"}, {}):
            answer = http.post("/v1/goals", headers=headers)
            assert answer.status_code == 401 and answer.json()["error"] == "unauthorized", answer.text


def test_a_call_before_ready_goes_ahead_once_its_own_imports_are_built(service_settings: Settings,
                                                                       tmp_path: Path) -> None:
    """From nothing built (issue 27): an iteration call made while the server still builds
    waits for the modules it imports (asking the build for them first), not for all of
    ``Formal/``; a module still missing from its imports keeps it waiting. (The build's order
    itself runs in every server start; the Lean build is not repeated here.)"""
    settings = with_db(service_settings, tmp_path)
    with open_services(settings, ServiceConfig(), worker_threads=0) as services:
        core = services.host
        preparing = threading.Thread(target=lambda: None)
        preparing.start()
        preparing.join()
        core._preparing = preparing  # the engine is preparing: not ready
        source = "import Formal.Bayes\ntheorem t : True := trivial\n"
        assert core._wait_library(0.1, source) is False  # nothing known to be built yet
        assert "Formal.Bayes" in core._wanted  # the build is asked for it before the rest
        core._modules = discover(settings)
        assert import_closure(core._modules, ["Formal.Bayes"]) == {"Formal.Basic", "Formal.Bayes"}
        core._considered |= {"Formal.Bayes"}
        assert core._wait_library(0.1, source) is False  # its own import Formal.Basic is not built
        with ThreadPoolExecutor(1) as ex:
            waiter = ex.submit(core._wait_library, 60.0, source)
            assert not wait([waiter], timeout=0.3).done  # still waiting for Formal.Basic
            with core._library:
                core._considered |= {"Formal.Basic"}
                core._library.notify_all()
            assert waiter.result(timeout=10) is True
        assert not core.ready.is_set()  # the rest of Formal/ is not built, and need not be
        assert core._wait_library(0.1, "import Formal.Debate\n") is False
        core.prepare_error = "the build failed"
        assert core._wait_library(5.0, "import Formal.Debate\n") is False  # at once, not after 5 s


def test_the_library_status_waits_for_the_first_calls_to_finish(service_settings: Settings,
                                                               tmp_path: Path) -> None:
    """After ready, the claims' library status (a compile per claim) starts only once no
    ad-hoc call has run for a while (bounded), so that it does not share the cores with an
    agent's first calls: the quiet counts from ready, and past its bound it still never
    starts while a call runs."""
    settings = with_db(service_settings, tmp_path)
    with open_services(settings, ServiceConfig(), worker_threads=0) as services:
        core = services.host
        core._last_call = time.monotonic() - 600  # the service started long before it was ready
        core._mark_ready()
        assert core._wait_quiet(0.3, 0.05) is False  # no quiet since ready: bounded, no call runs
        with ThreadPoolExecutor(1) as ex:
            with core._library:
                core._inflight = 1  # a call is running
            waiter = ex.submit(core._wait_quiet, 0.05, 0.1)
            assert not wait([waiter], timeout=0.5).done  # past the bound, but the call runs
            with core._library:  # the call ends
                core._inflight = 0
                core._last_call = time.monotonic()
                core._library.notify_all()
            assert waiter.result(timeout=10) is False  # went ahead at once: the bound had passed
        with ThreadPoolExecutor(1) as ex:
            with core._library:
                core._inflight = 1
            waiter = ex.submit(core._wait_quiet, 0.2, 30.0)
            assert not wait([waiter], timeout=0.3).done  # still waiting: the call runs
            with core._library:  # the call ends
                core._inflight = 0
                core._last_call = time.monotonic()
                core._library.notify_all()
            assert waiter.result(timeout=10) is True


def test_the_library_status_checks_one_claim_at_a_time_between_calls(service_settings: Settings,
                                                                    tmp_path: Path) -> None:
    """The library's Lean checks go one by one, each once the calls are quiet again: a call
    that comes while the status is evaluated waits for one claim's check at most."""
    settings = with_db(service_settings, tmp_path)
    checked: list[str] = []

    with open_services(settings, ServiceConfig(), worker_threads=0) as services:
        host = services.host

        class Recording:  # the engine's audited verdict, recorded (the scheduling is under test)
            def check(self, request: CheckRequest) -> str:
                checked.append(request.source)
                with host._library:
                    host._inflight = 1  # an agent's call comes during this claim's check
                return request.source

        with host._library:
            host._last_call = time.monotonic() - 60  # quiet since ready
        requests = [CheckRequest(source=f"theorem t{i} : True := trivial") for i in range(2)]
        with ThreadPoolExecutor(1) as ex:
            done = ex.submit(host._one_at_a_time, Recording(), requests)  # type: ignore[arg-type]
            assert not wait([done], timeout=0.5).done
            assert checked == [requests[0].source]  # the second waits for the call
            with host._library:  # the call ends; quiet long enough
                host._inflight = 0
                host._last_call = time.monotonic() - 60
                host._library.notify_all()
            assert done.result(timeout=10) == [r.source for r in requests]
