"""``/v1/health``: liveness, queue depth and workers."""

from __future__ import annotations

from fastapi import APIRouter

from pipeline.service.deps import HealthCheck
from pipeline.service.models import Health

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", summary="Liveness and queue depth")
def health(health: HealthCheck) -> Health:
    return health.health()


__all__ = ["router"]
