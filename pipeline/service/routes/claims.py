"""``/v1/claims``: pinned statements, proof status, hypotheses with their latest verdicts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from pipeline.service.deps import Claims
from pipeline.service.models import ClaimSummary, ClaimView
from pipeline.service.routes.responses import errors

router = APIRouter(prefix="/v1/claims", tags=["claims"])

ClaimId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]


@router.get("", summary="Every claim with its proof status")
def list_claims(claims: Claims) -> list[ClaimSummary]:
    return claims.claims()


@router.get("/{claim_id}", responses=errors(404), summary="One claim in full")
def get_claim(claim_id: ClaimId, claims: Claims) -> ClaimView:
    return claims.claim(claim_id)


__all__ = ["router"]
