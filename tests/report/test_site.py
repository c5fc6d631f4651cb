"""Rendering and writing the static site from report data."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image
import pytest

from pipeline.errors import InputError, NotFoundError
from pipeline.report import paths
from pipeline.report.site import Site, graph_svg, media_type, write_site
from tests.report.factories import sample_data
from tests.report.sitecheck import broken_links


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    out = tmp_path / "site"
    index = write_site(sample_data(tmp_path), out)
    assert index == out / "index.html"
    return out


def test_every_page_exists_and_every_link_resolves_offline(site_dir: Path) -> None:
    files = {p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*") if p.is_file()}
    assert {"index.html", "assets/report.css", "assets/lean.css", "claims/debate_tree.html",
            "claims/sgd_chung.html", "runs/run-a.html", "runs/run-b.html",
            "plots/debate_tree/intervals.png", "plots/debate_tree/run-a--h_judge_leaf.png"} <= files
    assert broken_links(site_dir) == []
    assert "<script" not in "".join(p.read_text() for p in site_dir.rglob("*.html"))


def test_index_shows_graph_status_and_the_run_matrix(site_dir: Path) -> None:
    html = (site_dir / "index.html").read_text()
    assert html.count('class="node ') == 4
    assert 'class="node fully_proved" data-claim="debate_tree"' in html
    assert 'class="node pinned" data-claim="debate_equilibrium"' in html
    assert 'class="node unstated" data-claim="mentor_queries"' in html
    assert 'data-from="debate_tree" data-to="debate_equilibrium"' in html
    assert "claims/ghost.toml: missing" in html
    # debate_tree: both hypotheses hold on run-a (applies), the leaf one fails on run-b
    row = html[html.index('<tr data-claim="debate_tree">', html.index('id="runs"')):]
    row = row[: row.index("</tr>")]
    assert "cell applies" in row and "✓ 2/2" in row and "cell fails" in row and "thin" in row
    # run-c held no data for any claim: not a column, but named below the matrix
    assert '<code>debate · run-a</code>' in html and "run-c" not in html[:html.index("Runs with no data")]
    assert '<code>sgd · run-c</code>' in html[html.index("Runs with no data"):]


def test_claim_page_shows_verdicts_intervals_plots_attempts_and_review(site_dir: Path) -> None:
    html = (site_dir / "claims" / "debate_tree.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the statement's raw HTML is text
    assert "<strong>wins</strong>" in html
    assert 'verdict accepted' in html and "embedded" in html and "4.28.0" in html
    assert '<span class="kn">theorem</span>' in html
    assert '<img src="../plots/debate_tree/intervals.png"' in html
    assert '<img class="thumb" src="../plots/debate_tree/run-a--h_judge_leaf.png"' in html
    assert "[0.91, 0.95]" in html and "95% wilson" in html
    assert "h_honest" in html and "by construction" in html
    assert "unsolved goals" in html and "Submission.lean:3:2" in html  # rejected attempt
    assert "depth bound is implicit" in html and "uncertain" in html
    assert 'Used by: <a href="debate_equilibrium.html">' in html
    assert "No data for this claim's hypotheses in 1 other run(s)" in html
    assert html.count('class="run"') == 2  # run-a and run-b get tables, run-c does not
    # the API and MCP submissions of the claim: verdict, agent, channel, time
    assert 'data-submission="0190a1b2c3d4e5f60718293a4b5c"' in html and "claude-agent" in html
    assert "Submissions (API and MCP)" in html
    other = (site_dir / "claims" / "debate_equilibrium.html").read_text()
    assert "No proof of this claim has been submitted through the API or MCP." in other


def test_a_dependency_that_is_not_a_claim_is_named_not_linked(site_dir: Path) -> None:
    html = (site_dir / "claims" / "mentor_queries.html").read_text()
    assert "ghost (unknown)" in html and "ghost.html" not in html
    assert "lean.statement: not pinned" in html


def test_the_interval_chart_is_a_real_png(site_dir: Path) -> None:
    img = matplotlib.image.imread(io.BytesIO((site_dir / "plots/debate_tree/intervals.png").read_bytes()),
                                  format="png")
    assert img.shape[0] > 100 and img.shape[1] > 300


def test_site_render_and_media_types(tmp_path: Path) -> None:
    site = Site(sample_data(tmp_path))
    assert site.render("/") == site.render("index.html")
    with pytest.raises(NotFoundError):
        site.render("claims/nope.html")
    with pytest.raises(NotFoundError):
        site.render("../../etc/passwd")
    assert media_type("a/b.png") == "image/png" and media_type("x.html").startswith("text/html")
    assert 'href="claims/sgd_chung.html"' in graph_svg(site.data)
    assert 'href="../claims/sgd_chung.html"' in graph_svg(site.data, page=paths.run_page("x"))


def test_rewriting_replaces_the_previous_report(tmp_path: Path, site_dir: Path) -> None:
    stale = site_dir / "claims" / "removed_claim.html"
    stale.write_text("old")
    write_site(sample_data(tmp_path), site_dir)
    assert not stale.exists() and (site_dir / "index.html").is_file()
    assert not [p for p in site_dir.parent.iterdir() if p.name.startswith(".")]


def test_refuses_to_overwrite_a_folder_that_is_not_a_report(tmp_path: Path) -> None:
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    with pytest.raises(InputError, match="not a previous report"):
        write_site(sample_data(tmp_path), precious)
    assert (precious / "thesis.tex").read_text() == "do not delete"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        write_site(sample_data(tmp_path), a_file)


def test_a_missing_plot_file_is_left_out_not_linked_to_a_crash(tmp_path: Path) -> None:
    data = sample_data(tmp_path)
    data.plots[0].source.unlink()
    out = tmp_path / "site2"
    write_site(data, out)
    assert not (out / data.plots[0].name).exists()


def test_a_soundness_alarm_is_shown_first_with_proxies_and_conclusions(tmp_path: Path) -> None:
    from pipeline.report.node_status import node_status, run_evidence
    from tests.report.factories import verdict

    data = sample_data(tmp_path)
    claim = data.claims[0]
    proxy = verdict("h_judge_leaf", "run-a", claim_id="debate_tree").model_copy(
        update={"kind": "proxy", "not_covered": "every leaf of the tree"})
    concl = verdict("honest_wins", "run-a", "fails", claim_id="debate_tree").model_copy(
        update={"role": "conclusion"})
    runs = run_evidence(claim.hypotheses, {"run-a": [proxy, verdict("h_honest", "run-a",
                                                                    claim_id="debate_tree"),
                                                     concl]}, proved=True)
    status = node_status(pinned=True, proved=True, fully_proved=True,
                         hypotheses=claim.hypotheses, runs=runs)
    alarmed = claim.model_copy(update={"runs": tuple(runs), "status": status})
    out = tmp_path / "alarm-site"
    write_site(data.model_copy(update={"claims": (alarmed, *data.claims[1:])}), out)
    index = (out / "index.html").read_text()
    page = (out / paths.claim_page("debate_tree")).read_text()
    assert "Soundness alarm" in index and index.index("Soundness alarm") < index.index("Dependency graph")
    assert page.index("Soundness alarm") < page.index("Statement")
    assert "Not covered: every leaf of the tree" in page and "(conclusion)" in page
    assert "claim applies" not in page and broken_links(out) == []
