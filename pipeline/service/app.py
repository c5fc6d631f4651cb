"""The FastAPI app: ``create_app(settings, config)``.

The lifespan opens the service's parts (:func:`~pipeline.service.services.open_services`:
migrations, engine, in-process workers) onto ``app.state.services``; each router takes the
focused service it needs through ``Depends`` (:mod:`pipeline.service.deps`). The
composition root (``sequent serve``) mounts the report's live pages (:mod:`pipeline.report.web`)
at ``/`` on the same engine and database; the service never imports the report.
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
from pipeline.service.middleware import BodyGuard
from pipeline.service.routes import checks, claims, health, iterate, submissions
from pipeline.service.services import open_services, package_version
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
            app.state.services = services
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


def _document_claim_ids(app: FastAPI) -> None:
    """List the registry's claim ids as examples of ``claim_id`` in the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        services = getattr(app.state, "services", None)
        try:
            ids = [c.id for c in services.claims.registry.get().claims] if services is not None else []
        except SequentError:
            ids = []
        field = schema["components"]["schemas"]["SubmissionIn"]["properties"]["claim_id"]
        if ids:
            field["examples"] = ids
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["create_app"]
