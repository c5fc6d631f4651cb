"""Text to HTML: informal Markdown (raw HTML disabled) and highlighted Lean source."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

LEAN_CSS_CLASS = "lean"


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # CommonMark with tables; raw HTML in claims is shown as text, never injected.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


def markdown(text: str | None) -> Markup:
    """Render Markdown to safe HTML (``<script>`` and friends come out escaped)."""
    if not text:
        return Markup("")
    return Markup(_markdown().render(text))


@lru_cache(maxsize=1)
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(cssclass=LEAN_CSS_CLASS, wrapcode=True)


def lean(source: str | None) -> Markup:
    """Highlight Lean 4 source as a ``<div class="lean"><pre>…</pre></div>`` block."""
    if not source:
        return Markup("")
    return Markup(highlight(source, get_lexer_by_name("lean4"), _formatter()))


def lean_css() -> str:
    """The stylesheet of the Lean highlighting (written into the site's assets)."""
    return str(_formatter().get_style_defs(f".{LEAN_CSS_CLASS}"))


__all__ = ["LEAN_CSS_CLASS", "lean", "lean_css", "markdown"]
