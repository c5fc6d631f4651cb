"""``/v1/check``: an ad-hoc check of a draft file. It never counts as a proof."""

from __future__ import annotations

from fastapi import APIRouter

from pipeline.service.deps import Checks, Token
from pipeline.service.models import CheckIn, CheckOut
from pipeline.service.routes.responses import errors

router = APIRouter(prefix="/v1", tags=["checks"])


@router.post("/check", responses=errors(400, 401, 429, 503), summary="Check a draft Lean file")
def check(draft: CheckIn, checks: Checks, token: Token) -> CheckOut:
    return checks.check(draft, token_id=token.id)


__all__ = ["router"]
