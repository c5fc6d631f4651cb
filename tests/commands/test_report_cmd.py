"""``sequent report`` on a real project state, and its bad-input paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from pipeline.report.web import mount_report
from tests.report.fixtures import DemoRun, sequent
from tests.report.server import serving
from tests.report.sitecheck import broken_links

pytestmark = pytest.mark.lean


def test_report_writes_the_site_from_the_store(demo_run: DemoRun, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = sequent(demo_run.root, "report", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"report: {out / 'index.html'}" in result.stdout
    assert broken_links(out) == []
    index = (out / "index.html").read_text()
    assert 'class="node fully_proved" data-claim="debate_tree"' in index
    assert 'data-from="debate_tree" data-to="debate_equilibrium"' in index
    # debate_tree: h_judge_leaf, h_alternating, h_depth (transcripts) and its conclusion;
    # debate_equilibrium: h_honest_win_rate, h_exploitable and its conclusion (dishonesty);
    # all hold on the demo's debate run
    assert index.count("✓ 4/4") == 1 and index.count("✓ 3/3") == 1
    page = (out / "claims" / "debate_equilibrium.html").read_text()
    assert page.count('<span class="outcome holds">holds</span>') == 3
    assert "clopper-pearson" in page or "wilson" in page
    assert '<span class="outcome rejected">rejected</span>' in page
    assert '<span class="outcome accepted">accepted</span>' in page
    assert 'class="review uncertain"' in page or 'class="review faithful"' in page
    assert 'class="verdict accepted"' in page and "embedded" in page
    assert '<span class="kn">theorem</span>' in page
    plots = sorted(p.relative_to(out).as_posix() for p in (out / "plots").rglob("*.png"))
    assert "plots/debate_equilibrium/intervals.png" in plots
    # one evidence plot per tested hypothesis (3 + 2) and per checked conclusion (1 + 1)
    assert len([p for p in plots if "--h_" in p]) == 5
    assert "plots/debate_equilibrium/" in str([p for p in plots if p.endswith("--dishonesty.png")])
    for p in plots:
        assert (out / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_refuses_bad_output_folders(demo_run: DemoRun, tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = sequent(demo_run.root, "report", "--out", str(a_file), timeout=600)
    assert result.returncode == 2 and "not a folder" in result.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.md").write_text("keep")
    result = sequent(demo_run.root, "report", "--out", str(mine), timeout=600)
    assert result.returncode == 2 and "not a previous report" in result.stderr
    assert (mine / "notes.md").read_text() == "keep" and "Traceback" not in result.stderr


def test_a_broken_claim_file_is_reported_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "claims").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test\n")
    (root / "claims" / "bad.toml").write_bytes(b'id = "bad"\ntitle = "\xff\xfe"\n')
    result = sequent(root, "report", timeout=300)
    assert result.returncode == 0, result.stderr
    index = (root / ".sequent" / "report" / "index.html").read_text()
    assert "claims/bad.toml" in index and "Consistency issues" in index


def test_live_pages_under_the_service_collect_from_the_store(demo_run: DemoRun) -> None:
    import httpx

    app = FastAPI()
    mount_report(app, demo_run.settings)
    with serving(app) as base, httpx.Client(base_url=base, timeout=600) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert 'data-claim="debate_equilibrium"' in index.text
        page = client.get("/claims/debate_equilibrium.html")
        assert page.status_code == 200 and "claim applies" in page.text
        chart = client.get("/plots/debate_equilibrium/intervals.png")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert client.get("/claims/unknown.html").status_code == 404
