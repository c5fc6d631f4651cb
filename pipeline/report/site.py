"""Rendering :class:`ReportData` to the files of the site. :class:`Site` renders any one path
to bytes; :func:`write_site` writes them all (``sequent report``), the live server renders
them on request (``web.py``), so both show the same pages."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pipeline.errors import InputError, NotFoundError
from pipeline.report import paths
from pipeline.report.ab_page import AB_PAGE, ab_chart, ab_plot
from pipeline.report.graph import GraphNode, render_svg
from pipeline.report.models import ClaimEntry, Level, ReportData
from pipeline.report.plots import has_intervals, interval_chart
from pipeline.report.text import lean, lean_css, markdown

_VERSION = re.compile(r"(\d+\.\d+\.\d+[\w.+-]*)")

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(Path(path).suffix, "application/octet-stream")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["lean"] = lean
    env.filters["num"] = _num
    env.filters["when"] = _when
    env.filters["lean_version"] = short_version
    return env


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def short_version(text: str) -> str:
    """``4.28.0-pre`` out of ``Lean (version 4.28.0-pre, wasm32-…, commit …, Release)``."""
    found = _VERSION.search(text)
    return found.group(1) if found else text


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"


def _sublabel(claim: ClaimEntry) -> str:
    parts = [claim.status.label]
    if claim.status.empirical:
        if claim.status.applies_to:
            n = len(claim.status.applies_to)
            parts.append(f"applies to {n} run{'s' if n != 1 else ''}")
        elif claim.status.hypotheses_checked:
            parts.append("hypotheses checked")
        else:
            parts.append("hypotheses unchecked")
    return " · ".join(parts)


def graph_svg(data: ReportData, *, page: str = paths.INDEX) -> str:
    """The dependency graph of every claim, links relative to ``page``."""
    nodes = [
        GraphNode(
            id=c.id,
            label=c.id,
            sublabel=_sublabel(c),
            css_class=c.status.level.value,
            href=paths.relative(paths.claim_page(c.id), page),
            tooltip=f"{c.title} — {_sublabel(c)}",
        )
        for c in data.claims
    ]
    edges = [(dep, c.id) for c in data.claims for dep in c.depends_on]
    return render_svg(nodes, edges)


class Site:
    """Every file of the report for one :class:`ReportData`."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self._env = _environment()
        self._plots = {p.name: p.source for p in data.plots}
        self._claims = {paths.claim_page(c.id): c for c in data.claims}
        self._runs = {paths.run_page(r.id): r.id for r in data.runs}
        self._intervals = {
            paths.interval_plot(c.id): c for c in data.claims if has_intervals(c.runs)
        }
        self._ab_plots = {ab_plot(r.run_id): r for r in data.ab if r.variants}

    # -- what exists -------------------------------------------------------------------------
    def paths(self) -> list[str]:
        return [
            paths.INDEX,
            paths.CSS,
            paths.LEAN_CSS,
            *self._claims,
            *self._runs,
            *self._intervals,
            *([AB_PAGE, *self._ab_plots] if self.data.ab else []),
            *(name for name, src in self._plots.items() if src.is_file()),
        ]

    def ab_plot(self, run_id: str) -> str:
        return ab_plot(run_id)

    def interval_plot(self, claim: ClaimEntry) -> str | None:
        name = paths.interval_plot(claim.id)
        return name if name in self._intervals else None

    # -- rendering -----------------------------------------------------------------------------
    def render(self, path: str) -> bytes:
        """The bytes of one file of the site; NotFoundError for a path that is not in it."""
        path = path.lstrip("/") or paths.INDEX
        if path == paths.INDEX:
            return self._page("index.html", path).encode()
        if path == paths.CSS:
            return resources.files("pipeline.report").joinpath("static/report.css").read_bytes()
        if path == paths.LEAN_CSS:
            return lean_css().encode()
        if path in self._claims:
            return self._page("claim.html", path, claim=self._claims[path]).encode()
        if path in self._runs:
            return self._page("run.html", path, run_id=self._runs[path]).encode()
        if path == AB_PAGE and self.data.ab:
            return self._page("ab.html", path).encode()
        if path in self._ab_plots:
            return ab_chart(self._ab_plots[path])
        if path in self._intervals:
            c = self._intervals[path]
            return interval_chart(c.runs, title=c.id,
                                  labels={r.id: r.label for r in self.data.runs})
        source = self._plots.get(path)
        if source is not None and source.is_file():
            return source.read_bytes()
        raise NotFoundError(f"{path}: not a page of the report")

    def _page(self, template: str, page: str, **extra: object) -> str:
        def url(target: str) -> str:
            return paths.relative(target, page)

        return self._env.get_template(template).render(
            data=self.data,
            site=self,
            page=page,
            url=url,
            paths=paths,
            Level=Level,
            graph=graph_svg(self.data, page=page) if template == "index.html" else "",
            **extra,
        )


def write_site(data: ReportData, out_dir: Path, *,
               progress: Callable[[str], None] | None = None) -> Path:
    """Write the whole site into ``out_dir`` (replacing what a previous report left there)
    and return the path of ``index.html``. Files are written to a temporary folder first, so
    a failure leaves the previous report intact."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / paths.INDEX).is_file():
        raise InputError(
            f"{out_dir}: not empty and not a previous report; choose an empty folder for --out"
        )
    site = Site(data)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir.parent))
    try:
        for name in site.paths():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(site.render(name))
            if progress is not None:
                progress(name)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(staging, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir / paths.INDEX


__all__ = ["MEDIA_TYPES", "Site", "graph_svg", "media_type", "write_site"]
