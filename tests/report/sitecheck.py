"""Reading a written site back: every link and image must resolve inside it."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src"} and value:
                self.refs.append(value)


def links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.refs


def broken_links(site: Path) -> list[str]:
    """``page -> ref`` for every local link or image that does not resolve to a file;
    and any reference that would leave the machine (http:, //host)."""
    bad: list[str] = []
    for page in site.rglob("*.html"):
        rel_page = page.relative_to(site).as_posix()
        for ref in links(page.read_text(encoding="utf-8")):
            if ref.startswith(("http:", "https:", "//")):
                bad.append(f"{rel_page} -> {ref} (network)")
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), ref.split("#")[0]))
            if target.startswith("..") or not (site / target).is_file():
                bad.append(f"{rel_page} -> {ref}")
    return bad
