"""The report in a real browser (Debian's headless Chromium): the graph renders, a claim page
shows its verdicts and its plots, and nothing is fetched from the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from pipeline.report.site import write_site
from pipeline.report.web import LiveReport, mount_report, report_router
from tests.report.browser import browser_page, needs_chromium, screenshot
from tests.report.factories import sample_data
from tests.report.fixtures import DemoRun
from tests.report.server import serving

pytestmark = [pytest.mark.browser, needs_chromium]


def check_report(page: Any, base: str, *, claim: str, nodes: int, edges: int, rows: int,
                 images: int, shot: str) -> None:
    """Open the index, check the graph, click ``claim``'s node, check its evidence."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{base}/index.html")
    graph = page.locator("svg.claim-graph")
    box = graph.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    assert page.locator("svg.claim-graph g.node").count() == nodes
    assert page.locator("svg.claim-graph path.edge").count() == edges
    rect = page.locator(f'svg.claim-graph g.node[data-claim="{claim}"] rect')
    fill = rect.evaluate("r => getComputedStyle(r).fill")
    assert fill not in ("", "none", "rgb(0, 0, 0)")  # the stylesheet coloured it by status
    screenshot(page, f"{shot}-index.png")

    page.locator(f'svg.claim-graph g.node[data-claim="{claim}"]').click()
    page.wait_for_url(f"**/claims/{claim}.html")
    assert page.locator("#evidence table.verdicts tbody tr").count() == rows
    evidence = page.locator("#evidence").inner_text()
    assert "holds" in evidence and "%" in evidence  # outcomes and confidence levels
    assert "accepted" in page.locator("#lean").inner_text()
    imgs = page.locator("#evidence img")
    assert imgs.count() == images
    for i in range(images):
        img = imgs.nth(i)
        img.scroll_into_view_if_needed()
        assert img.evaluate("i => i.complete && i.naturalWidth > 100"), img.get_attribute("src")
    screenshot(page, f"{shot}-claim.png")
    outside = [u for u in requests if not u.startswith(base) and not u.startswith("data:")]
    assert outside == [], outside


@pytest.mark.lean
def test_the_demo_report_in_chromium(demo_run: DemoRun) -> None:
    assert demo_run.result.returncode == 0, demo_run.result.stderr
    site = demo_run.root / ".sequent" / "report"
    with browser_page() as page:
        check_report(page, site.as_uri(), claim="debate_equilibrium", nodes=2, edges=1, rows=3,
                     images=4, shot="report-demo")


@pytest.mark.lean
def test_the_live_report_in_chromium(demo_run: DemoRun) -> None:
    app = FastAPI()
    mount_report(app, demo_run.settings)
    with serving(app) as base, browser_page() as page:
        check_report(page, base, claim="debate_tree", nodes=2, edges=1, rows=4, images=5,
                     shot="report-live")


def test_a_report_with_every_section_in_chromium(tmp_path: Path) -> None:
    """Without Lean: report data built from the wire models, served live and written out."""
    data = sample_data(tmp_path)
    site = tmp_path / "site"
    write_site(data, site)
    app = FastAPI()
    app.include_router(report_router(LiveReport(lambda: data)))
    with serving(app) as base, browser_page() as page:
        check_report(page, base, claim="debate_tree", nodes=4, edges=3, rows=4, images=2,
                     shot="report-sample")
    with browser_page() as page:
        check_report(page, site.as_uri(), claim="debate_tree", nodes=4, edges=3, rows=4,
                     images=2, shot="report-sample-static")
