"""The live pages over real HTTP on loopback: the same bytes as the static site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pipeline.errors import ClaimError
from pipeline.report.models import ReportData
from pipeline.report.site import write_site
from pipeline.report.web import LiveReport, report_router
from tests.report.factories import sample_data
from tests.report.server import serving


class Counting:
    """A data source that counts collections and can be told to fail."""

    def __init__(self, data: ReportData) -> None:
        self.data, self.calls, self.fail = data, 0, False
        self.lock = threading.Lock()

    def __call__(self) -> ReportData:
        with self.lock:
            self.calls += 1
        if self.fail:
            raise ClaimError("claims/x.toml: field 'lean.statement': not a string")
        return self.data


@pytest.fixture
def app_and_source(tmp_path: Path) -> Iterator[tuple[str, Counting]]:
    source = Counting(sample_data(tmp_path))
    app = FastAPI()

    @app.get("/v1/health")
    def health() -> dict[str, str]:  # an API route beside the pages, as in the service
        return {"status": "ok"}

    app.include_router(report_router(LiveReport(source, ttl_s=0.0)))
    with serving(app) as base:
        yield base, source


def test_live_pages_are_the_static_pages(app_and_source: tuple[str, Counting], tmp_path: Path) -> None:
    base, source = app_and_source
    static = tmp_path / "static"
    write_site(source.data, static)
    with httpx.Client(base_url=base) as client:
        for rel in ("index.html", "claims/debate_tree.html", "runs/run-a.html",
                    "assets/report.css", "plots/debate_tree/intervals.png",
                    "plots/debate_tree/run-a--h_judge_leaf.png"):
            r = client.get("/" + rel)
            assert r.status_code == 200, rel
            assert r.content == (static / rel).read_bytes(), rel
        root = client.get("/")
        assert root.headers["content-type"].startswith("text/html")
        assert root.headers["cache-control"] == "no-store"
        assert client.get("/plots/debate_tree/intervals.png").headers["content-type"] == "image/png"
        assert client.get("/v1/health").json() == {"status": "ok"}


def test_unknown_pages_are_404_pages_not_errors(app_and_source: tuple[str, Counting]) -> None:
    base, _ = app_and_source
    with httpx.Client(base_url=base) as client:
        for path in ("/claims/nope.html", "/claims/..%2F..%2Fetc%2Fpasswd", "/plots/x/%00.png",
                     "/assets/secret.txt", "/runs/.hidden.html"):
            r = client.get(path)
            assert r.status_code == 404, path
            assert "not" in r.text.lower()


def test_a_broken_registry_is_a_clear_503_page_and_recovers(app_and_source: tuple[str, Counting]) -> None:
    base, source = app_and_source
    with httpx.Client(base_url=base) as client:
        source.fail = True
        r = client.get("/")
        assert r.status_code == 503
        assert "claims/x.toml" in r.text and "Traceback" not in r.text
        source.fail = False
        assert client.get("/").status_code == 200


def test_collections_are_shared_within_the_ttl(tmp_path: Path) -> None:
    source = Counting(sample_data(tmp_path))
    live = LiveReport(source, ttl_s=60.0)
    threads = [threading.Thread(target=live.site) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert source.calls == 1
    expired = LiveReport(source, ttl_s=0.0)
    expired.site()
    expired.site()
    assert source.calls == 3
