"""``/v1/health``: liveness, queue depth and workers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from pipeline.service.deps import get_health
from pipeline.service.models import Health

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", summary="Liveness and queue depth")
def health(health: Annotated[Health, Depends(get_health)]) -> Health:
    return health


__all__ = ["router"]
