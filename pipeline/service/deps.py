"""Dependencies the routers declare: the service core and the caller's token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.service.core import ServiceCore
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

__all__ = ["Core", "Token", "bearer", "get_core", "require_token"]
