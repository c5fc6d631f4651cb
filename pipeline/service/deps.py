"""Dependencies the routers declare: the focused service each route needs, and the caller's
token. The services are wired once per process (:func:`pipeline.service.services.open_services`);
the app's lifespan puts each on ``app.state`` under its own name (:func:`pipeline.service.app.provide`),
and each dependency gives a route that one service, never the container."""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal, get_args

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.service.adhoc_checks import AdhocChecks
from pipeline.service.claim_views import ClaimViews, Declarations
from pipeline.service.errors import Unauthorized
from pipeline.service.export import ExportService
from pipeline.service.health import HealthService
from pipeline.service.local import LOCAL_SECRET_HEADER
from pipeline.service.models import TokenInfo
from pipeline.service.submission_service import SubmissionService
from pipeline.service.tokens import TokenStore

bearer = HTTPBearer(auto_error=False, description="An API token from `sequent token create`.")


ServiceName = Literal["submissions", "checks", "claims", "declarations", "export", "tokens", "health"]
PROVIDED: tuple[ServiceName, ...] = get_args(ServiceName)
"""The services the routes depend on: each is put on ``app.state`` under its name, the name of
its field of :class:`~pipeline.service.services.Services`."""


def provided(name: ServiceName) -> Any:
    """The dependency that gives a route the service the lifespan put on ``app.state.<name>``."""

    def service(request: Request) -> object:
        return getattr(request.app.state, name)

    return Depends(service)


Submissions = Annotated[SubmissionService, provided("submissions")]
Checks = Annotated[AdhocChecks, provided("checks")]
Claims = Annotated[ClaimViews, provided("claims")]
Lookups = Annotated[Declarations, provided("declarations")]
Export = Annotated[ExportService, provided("export")]
Tokens = Annotated[TokenStore, provided("tokens")]
HealthCheck = Annotated[HealthService, provided("health")]


async def require_token(
    tokens: Tokens,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The caller's active token; raises Unauthorized (401) otherwise."""
    secret = credentials.credentials if credentials is not None else None
    cached = tokens.cached(secret)
    if cached is not None:
        return cached
    return await run_in_threadpool(tokens.authenticate, secret)


Token = Annotated[TokenInfo, Depends(require_token)]


def require_local(request: Request) -> None:
    """The secret this server wrote to the project's state folder (the CLI on this machine,
    ``pipeline.service.local``); an API token is not enough: the route starts Lean workers for
    whatever imports the file names."""
    local: str | None = getattr(request.app.state, "local_secret", None)
    given = request.headers.get(LOCAL_SECRET_HEADER)
    if not (local and given and hmac.compare_digest(local.encode(), given.encode())):
        raise Unauthorized(f"this route is for the sequent CLI on the server's machine ({LOCAL_SECRET_HEADER})")


Local = Annotated[None, Depends(require_local)]

__all__ = ["PROVIDED", "Checks", "Claims", "Export", "HealthCheck", "Local", "Lookups", "ServiceName", "Submissions",
           "Token", "Tokens", "bearer", "provided", "require_local", "require_token"]
