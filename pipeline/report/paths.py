"""Where each page, asset and plot lives inside the site (one place for every URL).

Paths are relative to the site root and use ``/``; the static site and the live server
share them, so relative links work in both.
"""

from __future__ import annotations

import hashlib
import posixpath
import re

INDEX = "index.html"
CSS = "assets/report.css"
LEAN_CSS = "assets/lean.css"

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    """A file-name-safe form of an id; ids that had to change get a short hash suffix so
    that two different ids never share a slug."""
    clean = _SAFE.sub("_", text).strip("._") or "x"
    if clean == text and len(text) <= 80:
        return text
    return f"{clean[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def claim_page(claim_id: str) -> str:
    return f"claims/{slug(claim_id)}.html"


def run_page(run_id: str) -> str:
    return f"runs/{slug(run_id)}.html"


def evidence_plot(claim_id: str, run_id: str, binder: str, suffix: str = ".png") -> str:
    return f"plots/{slug(claim_id)}/{slug(run_id)}--{slug(binder)}{suffix}"


def interval_plot(claim_id: str) -> str:
    return f"plots/{slug(claim_id)}/intervals.png"


def relative(target: str, page: str) -> str:
    """The link from ``page`` to ``target`` (both site paths)."""
    start = posixpath.dirname(page) or "."
    return posixpath.relpath(target, start)


__all__ = [
    "CSS",
    "INDEX",
    "LEAN_CSS",
    "claim_page",
    "evidence_plot",
    "interval_plot",
    "relative",
    "run_page",
    "slug",
]
