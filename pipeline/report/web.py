"""The report's pages served live (``sequent serve`` includes them at ``/``).

The pages are the static site's (:class:`~pipeline.report.site.Site`), rendered on request
from report data that :class:`LiveReport` collects at most once every ``ttl_s`` seconds, so
a page reflects new verdicts, attempts and proofs without rewriting files. Paths mirror the
site's layout (``/``, ``/claims/<id>.html``, ``/runs/<id>.html``, ``/assets/…``,
``/plots/…``); the API lives under ``/v1`` and does not collide.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from html import escape

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response

from pipeline.errors import NotFoundError, SequentError
from pipeline.lean.checker import Checker
from pipeline.report.models import ReportData
from pipeline.report.site import Site, media_type
from pipeline.settings import Settings
from pipeline.store.db import Database

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class LiveReport:
    """Report data for the live pages, re-collected at most once every ``ttl_s`` seconds
    (one collection at a time; concurrent requests share it)."""

    def __init__(self, source: Callable[[], ReportData], *, ttl_s: float = 5.0) -> None:
        self._source = source
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._site: Site | None = None
        self._at = 0.0

    def site(self) -> Site:
        with self._lock:
            if self._site is None or time.monotonic() - self._at > self._ttl_s:
                self._site = Site(self._source())
                self._at = time.monotonic()
            return self._site


def collecting(
    settings: Settings,
    checker: Callable[[], Checker] | None = None,
    db: Callable[[], Database] | None = None,
) -> Callable[[], ReportData]:
    """The live data source: :func:`pipeline.report.collect.collect` with the service's
    checker and database (``checker()``, ``db()``, called per collection), or with a
    checker and database of its own for each collection."""
    from pipeline.report.collect import collect

    def source() -> ReportData:
        database = db() if db is not None else None
        if checker is not None:
            return collect(settings, checker(), db=database)
        with Checker(settings, warm=False, db=database) as own:
            return collect(settings, own, db=database)

    return source


def _page(title: str, message: str, status: int) -> HTMLResponse:
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<link rel="stylesheet" href="/assets/report.css"></head><body><main>'
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p><p><a href=\"/\">Report home</a></p>"
        f"</main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def report_router(live: LiveReport) -> APIRouter:
    router = APIRouter(tags=["report"], include_in_schema=False)

    def serve(path: str) -> Response:
        try:
            content = live.site().render(path)
        except NotFoundError:
            return _page("Not found", f"/{path} is not a page of the report.", 404)
        except SequentError as err:
            return _page("The report cannot be shown", str(err), 503)
        headers = {"Cache-Control": "no-store"} if path.endswith(".html") else {}
        return Response(content, media_type=media_type(path), headers=headers)

    def named(folder: str, *names: str) -> Response:
        if not all(_NAME.match(n) for n in names):
            return _page("Not found", "no such page", 404)
        return serve("/".join((folder, *names)))

    @router.get("/")
    def index() -> Response:
        return serve("index.html")

    @router.get("/index.html")
    def index_html() -> Response:
        return serve("index.html")

    @router.get("/claims/{name}")
    def claim(name: str) -> Response:
        return named("claims", name)

    @router.get("/runs/{name}")
    def run(name: str) -> Response:
        return named("runs", name)

    @router.get("/assets/{name}")
    def asset(name: str) -> Response:
        return named("assets", name)

    @router.get("/plots/{claim_id}/{name}")
    def plot(claim_id: str, name: str) -> Response:
        return named("plots", claim_id, name)

    return router


def mount_report(
    app: FastAPI,
    settings: Settings,
    *,
    checker: Callable[[], Checker] | None = None,
    db: Callable[[], Database] | None = None,
    ttl_s: float = 5.0,
) -> LiveReport:
    """Serve the report's pages at ``/`` of ``app``. Pass the service's checker and database
    (e.g. ``checker=lambda: app.state.host.checker(), db=lambda: app.state.db``) so
    no second Lean engine is started; they are looked up at request time."""
    live = LiveReport(collecting(settings, checker, db), ttl_s=ttl_s)
    app.include_router(report_router(live))
    return live


__all__ = ["LiveReport", "collecting", "mount_report", "report_router"]
