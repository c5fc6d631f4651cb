"""Dependencies the routers declare: the service core and the caller's token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.service.core import ServiceCore
from pipeline.service.errors import Unauthorized
from pipeline.service.local import LOCAL_SECRET_HEADER
from pipeline.service.models import TokenInfo

bearer = HTTPBearer(auto_error=False, description="An API token from `sequent token create`.")


def get_core(request: Request) -> ServiceCore:
    core: ServiceCore = request.app.state.core
    return core


Core = Annotated[ServiceCore, Depends(get_core)]


async def require_token(
    core: Core,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The caller's active token; raises Unauthorized (401) otherwise."""
    secret = credentials.credentials if credentials is not None else None
    cached = core.tokens.cached(secret)
    if cached is not None:
        return cached
    return await run_in_threadpool(core.tokens.authenticate, secret)


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

__all__ = ["Core", "Local", "Token", "bearer", "get_core", "require_local", "require_token"]
