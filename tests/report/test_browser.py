"""The report in a real browser: the graph renders, a claim page shows its verdicts and its
plots, and nothing is fetched from the network."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from pipeline.report.site import write_site
from pipeline.report.web import LiveReport, report_router
from tests.report.browser import browser_page, needs_chromium, screenshot
from tests.report.factories import sample_data
from tests.report.server import serving

pytestmark = [pytest.mark.browser, needs_chromium]


def _check_pages(page: object, base: str, requests: list[str], shot: str) -> None:
    page.goto(f"{base}/index.html")  # type: ignore[attr-defined]
    graph = page.locator("svg.claim-graph")  # type: ignore[attr-defined]
    box = graph.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    assert page.locator("svg.claim-graph g.node").count() == 4  # type: ignore[attr-defined]
    assert page.locator("svg.claim-graph path.edge").count() >= 3  # type: ignore[attr-defined]
    node = page.locator('svg.claim-graph g.node[data-claim="debate_tree"] rect')  # type: ignore[attr-defined]
    fill = node.evaluate("r => getComputedStyle(r).fill")
    assert fill not in ("", "none", "rgb(0, 0, 0)")  # the stylesheet coloured it
    screenshot(page, f"{shot}-index.png")

    page.locator('svg.claim-graph g.node[data-claim="debate_tree"]').click()  # type: ignore[attr-defined]
    page.wait_for_url("**/claims/debate_tree.html")  # type: ignore[attr-defined]
    rows = page.locator("#evidence table.verdicts tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 4  # run-a: two verdicts; run-b: one verdict, one not checked
    text = page.locator("#evidence").inner_text()  # type: ignore[attr-defined]
    assert "holds" in text and "fails" in text and "not checked" in text and "[0.91, 0.95]" in text
    assert "accepted" in page.locator("#lean").inner_text()  # type: ignore[attr-defined]
    images = page.locator("#evidence img")  # type: ignore[attr-defined]
    assert images.count() == 2
    for i in range(images.count()):
        img = images.nth(i)
        img.scroll_into_view_if_needed()
        assert img.evaluate("i => i.complete && i.naturalWidth > 100"), img.get_attribute("src")
    screenshot(page, f"{shot}-claim.png")
    outside = [u for u in requests if not u.startswith(base) and not u.startswith("data:")]
    assert outside == []


def test_static_report_in_chromium(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site(sample_data(tmp_path), site)
    with browser_page() as page:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        _check_pages(page, site.as_uri(), requests, "report-static")


def test_live_report_in_chromium(tmp_path: Path) -> None:
    data = sample_data(tmp_path)
    app = FastAPI()
    app.include_router(report_router(LiveReport(lambda: data)))
    with serving(app) as base, browser_page() as page:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        _check_pages(page, base, requests, "report-live")
