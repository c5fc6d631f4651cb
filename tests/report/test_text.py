"""Markdown and Lean highlighting."""

from __future__ import annotations

from pipeline.report.text import lean, lean_css, markdown


def test_markdown_renders_emphasis_lists_and_tables() -> None:
    html = markdown("A **bold** claim:\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert "<strong>bold</strong>" in html and "<li>one</li>" in html and "<td>2</td>" in html


def test_markdown_never_injects_html_or_script_links() -> None:
    html = markdown('<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))')
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_markdown_of_nothing_is_empty() -> None:
    assert markdown(None) == "" and markdown("") == ""


def test_lean_is_highlighted_with_keywords_marked() -> None:
    html = lean("theorem t (n : Nat) : n + 0 = n := by simp -- done\n")
    assert html.startswith('<div class="lean">')
    assert '<span class="kn">theorem</span>' in html
    assert '<span class="c1">-- done</span>' in html
    assert ".lean .kn" in lean_css()


def test_lean_escapes_markup_in_source() -> None:
    assert "<b>" not in lean('def s : String := "<b>"\n')
