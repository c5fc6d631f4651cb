"""Dependencies the routers declare: the focused service each route needs, and the caller's
token. The services are wired once per process (:func:`pipeline.service.services.open_services`)
and kept on ``app.state.services``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.service.adhoc_checks import AdhocChecks
from pipeline.service.claim_views import ClaimViews, Declarations
from pipeline.service.errors import Unauthorized
from pipeline.service.export import ExportService
from pipeline.service.local import LOCAL_SECRET_HEADER
from pipeline.service.models import Health, TokenInfo
from pipeline.service.services import Services
from pipeline.service.submission_service import SubmissionService
from pipeline.service.tokens import TokenStore

bearer = HTTPBearer(auto_error=False, description="An API token from `sequent token create`.")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_submissions(request: Request) -> SubmissionService:
    return get_services(request).submissions


def get_checks(request: Request) -> AdhocChecks:
    return get_services(request).checks


def get_claims(request: Request) -> ClaimViews:
    return get_services(request).claims


def get_declarations(request: Request) -> Declarations:
    return get_services(request).declarations


def get_export(request: Request) -> ExportService:
    return get_services(request).export


def get_tokens(request: Request) -> TokenStore:
    return get_services(request).tokens


def get_health(request: Request) -> Health:
    return get_services(request).health()


Submissions = Annotated[SubmissionService, Depends(get_submissions)]
Checks = Annotated[AdhocChecks, Depends(get_checks)]
Claims = Annotated[ClaimViews, Depends(get_claims)]
Lookups = Annotated[Declarations, Depends(get_declarations)]
Export = Annotated[ExportService, Depends(get_export)]
Tokens = Annotated[TokenStore, Depends(get_tokens)]


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

__all__ = ["Checks", "Claims", "Export", "Local", "Lookups", "Submissions", "Token", "Tokens", "bearer",
           "get_health", "get_services", "require_local", "require_token"]
