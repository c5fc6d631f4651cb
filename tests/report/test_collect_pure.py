"""The small pure helpers of report collection and rendering."""

from __future__ import annotations

from pipeline.report.collect import without_trailing_comments
from pipeline.report.paths import claim_page, evidence_plot, relative, slug
from pipeline.report.site import short_version


def test_a_declaration_loses_the_next_ones_doc_comment_but_keeps_its_own_code() -> None:
    text = "theorem t : 1 = 1 := rfl -- fine\n\n/-- The next theorem.\n  More. -/\n"
    assert without_trailing_comments(text) == "theorem t : 1 = 1 := rfl -- fine"
    assert without_trailing_comments('def s := "-/"\n') == 'def s := "-/"'
    assert without_trailing_comments('def s := "a\n-- b"\n') == 'def s := "a\n-- b"'
    assert without_trailing_comments("def n := 1\n-- note\n") == "def n := 1"


def test_lean_version_is_shortened_for_display() -> None:
    full = "Lean (version 4.28.0-pre, wasm32-unknown-emscripten, commit 38f3c0c4, Release)"
    assert short_version(full) == "4.28.0-pre"
    assert short_version("4.28.0") == "4.28.0"
    assert short_version("unknown") == "unknown"


def test_slugs_are_safe_and_distinct() -> None:
    assert slug("debate_tree") == "debate_tree"
    odd = [slug(s) for s in ("a/b", "a b", "a?b", "../x", "")]
    assert all("/" not in s and " " not in s and not s.startswith(".") for s in odd)
    assert len(set(odd)) == len(odd)
    assert slug("x" * 200) != slug("x" * 201) and len(slug("x" * 200)) < 80
    assert evidence_plot("c", "run/1", "h_a").startswith("plots/c/run_1-")


def test_relative_links_between_pages() -> None:
    assert relative(claim_page("b"), claim_page("a")) == "b.html"
    assert relative("index.html", claim_page("a")) == "../index.html"
    assert relative(claim_page("a"), "index.html") == "claims/a.html"
