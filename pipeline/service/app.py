"""The FastAPI app: ``create_app(settings, config)``.

The lifespan opens the service's parts (:func:`~pipeline.service.services.open_services`:
migrations, engine, in-process workers) and puts each focused service on ``app.state`` under
its own name (:func:`provide`); each route takes the one it needs through ``Depends``
(:mod:`pipeline.service.deps`), never the container. The composition root (``sequent serve``)
mounts the report's live pages (:mod:`pipeline.report.web`) at ``/`` on the same engine
(``app.state.host``) and database (``app.state.db``); the service never imports the report.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from pipeline.agents.config import AgentConfig
from pipeline.errors import SequentError
from pipeline.service import handlers
from pipeline.service.config import ServiceConfig
from pipeline.service.deps import PROVIDED
from pipeline.service.health import package_version
from pipeline.service.middleware import BodyGuard
from pipeline.service.routes import checks, claims, health, iterate, submissions
from pipeline.service.services import Services, open_services
from pipeline.settings import Settings

API_DESCRIPTION = """\
Agents submit proofs of the claims' pinned Lean statements. The server builds the Lean file
itself, checks it under the trust policy and records the verdict. Writes need a bearer token
(`sequent token create`). Every error is a JSON body `{error, detail, retry_after_s}`.
"""


def create_app(settings: Settings, config: ServiceConfig, agents: AgentConfig | None = None,
               *, local_secret: str | None = None) -> FastAPI:
    """``agents``: the providers' settings for ``/v1/review`` (built by the command);
    ``local_secret``: what authorizes ``/v1/goals`` for the CLI (``pipeline.service.local``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(open_services, settings, config)
        try:
            await run_in_threadpool(services.start)
            provide(app, services)
            yield
        finally:
            await run_in_threadpool(services.close)

    app = FastAPI(
        title="Sequent",
        version=package_version(),
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.agents = agents
    app.state.local_secret = local_secret
    handlers.install(app)
    for module in (submissions, claims, checks, iterate, health):
        app.include_router(module.router)
    app.add_middleware(BodyGuard, max_bytes=config.max_body_bytes)
    _document_claim_ids(app)
    return app


def provide(app: FastAPI, services: Services) -> None:
    """Put on ``app.state`` each focused service a route depends on, under the name its
    dependency reads (:func:`pipeline.service.deps.provided`), and the engine's host and the
    database for what the composition root mounts beside the routes (the report's pages)."""
    for name in PROVIDED:
        setattr(app.state, name, getattr(services, name))
    app.state.host, app.state.db = services.host, services.db


def _document_claim_ids(app: FastAPI) -> None:
    """List the registry's claim ids as examples of ``claim_id`` in the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        claims = getattr(app.state, "claims", None)
        try:
            ids = [c.id for c in claims.registry.get().claims] if claims is not None else []
        except SequentError:
            ids = []
        field = schema["components"]["schemas"]["SubmissionIn"]["properties"]["claim_id"]
        if ids:
            field["examples"] = ids
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["create_app", "provide"]
