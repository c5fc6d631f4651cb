"""Schemathesis against the live server's /openapi.json: no input makes it answer 5xx.

Bounded: few examples per operation, two time budgets (90 s for the examples, coverage and
fuzzing phases, which must reach every operation; 30 s for the stateful phase, on its own so that
added operations cannot crowd it out, as one shared 120 s budget did once the schema grew; at
240 s the test was the suite's most expensive, ~250 s of CPU), a
token limited to a few writes a minute
(so only a handful of generated drafts reach Lean; the rest get 4xx, 429 included), and a
0.1 s cap on ``GET /v1/submissions/{id}?wait=`` (the long poll is clamped, not refused, so the
generated values still exercise it; at the default 60 s the long polls took ~190 s of the
240 s budget and the stateful phase was never reached, and at 1 s still ~100 s).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from pipeline.settings import Settings
from tests.conftest import needs_lean
from tests.service.fixtures import Live, new_token, start_live, with_db

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]


@pytest.fixture
def fuzzed(service_settings: Settings, tmp_path: Path) -> Iterator[Live]:
    live = start_live(with_db(service_settings, tmp_path), tmp_path, workers=0,
                      max_body_bytes=16 * 1024, max_proof_bytes=2048, max_check_bytes=4096,
                      check_timeout_s=60, adhoc_concurrency=1, claim_status=False,
                      wait_max_s=0.1)  # a generated ?wait= is clamped to this (else 60 s per request)
    yield live
    live.server.stop()


def fuzz(live: Live, secret: str, report: Path, *, phases: str, max_time: int) -> set[str]:
    """One schemathesis run over ``phases``; the names of the cases its JUnit report holds."""
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{live.url}/openapi.json",
        "--checks", "not_a_server_error",
        "--phases", phases,
        "--max-examples", "12",
        "--max-time", str(max_time),
        "--seed", "7",
        "--request-timeout", "120",
        "--header", f"Authorization: Bearer {secret}",
        "--report", "junit", "--report-dir", str(report),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    tail = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"{tail}\n--- server log ---\n{live.server.log()}"
    assert "Test cases" in run.stdout and "passed" in run.stdout
    (xml,) = report.glob("*.xml")
    return {case.get("name") or "" for case in ElementTree.parse(xml).getroot().iter("testcase")}


def test_no_generated_request_gets_a_server_error(fuzzed: Live, tmp_path: Path) -> None:
    secret = new_token(fuzzed.settings, "fuzzer", rate_per_minute=4, max_concurrent=20)
    # two budgets, so that a schema with more operations cannot crowd the stateful phase out
    reached = fuzz(fuzzed, secret, tmp_path / "single", phases="examples,coverage,fuzzing",
                   max_time=90)
    reached |= fuzz(fuzzed, secret, tmp_path / "stateful", phases="stateful", max_time=30)
    # the budget reached every operation of the schema, and the stateful phase ran
    with httpx.Client(base_url=fuzzed.url) as http:
        schema = http.get("/openapi.json").json()
    operations = {f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item}
    assert operations <= reached and "Stateful tests" in reached, sorted(operations - reached)
    assert "internal error" not in fuzzed.server.log().lower()
