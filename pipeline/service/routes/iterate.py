"""The iteration path over HTTP, at parity with the MCP tools of the same names and with the
same models: ``check_proof``, ``multi_attempt``, ``check_lean``, ``goal_state``,
``minimal_hypotheses`` and ``review`` (resident Lean workers, nothing recorded; a token is
required: they spend Lean time; a busy server answers 429 with a retry hint), and the reads
``search`` and ``declarations/{name}`` (the compiled environment, no Lean process, no token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import ClaimReview
from pipeline.claims.iterate import MinimalHypotheses
from pipeline.lean.olean.lookup import DeclarationInfo, SearchResult
from pipeline.lean.resident import Goal
from pipeline.service.deps import Checks, Claims, Local, Lookups, Token
from pipeline.service.models import (
    Attempt,
    AttemptsIn,
    CheckedProof,
    CheckedSnippet,
    GoalsAtIn,
    GoalStateIn,
    ProofGoals,
    ProofIn,
    ReviewIn,
    SnippetIn,
)
from pipeline.service.routes.responses import errors

router = APIRouter(prefix="/v1", tags=["iterate"])

_ERRORS = errors(401, 404, 429, 503)


@router.post("/check_proof", responses=_ERRORS, summary="Check a proof of a claim (nothing recorded)")
def check_proof(body: ProofIn, checks: Checks, token: Token) -> CheckedProof:
    return checks.check_proof(body.claim_id, body.proof, include_file=body.include_file)


@router.post("/multi_attempt", responses=_ERRORS, summary="Check several candidate proofs side by side")
def multi_attempt(body: AttemptsIn, checks: Checks, token: Token) -> list[Attempt]:
    return checks.multi_attempt(body.claim_id, list(body.proofs))


@router.post("/check_lean", responses=_ERRORS, summary="Check a Lean snippet under a claim's imports")
def check_lean(body: SnippetIn, checks: Checks, token: Token) -> CheckedSnippet:
    return checks.check_lean(body.source, body.claim_id)


@router.post("/goal_state", responses=_ERRORS, summary="Goals before and after a line of a proof attempt")
def goal_state(body: GoalStateIn, checks: Checks, token: Token) -> ProofGoals:
    return checks.goal_state(body.claim_id, body.proof, body.line)


@router.post("/goals", responses=_ERRORS, summary="The proof state at a position of a Lean file")
def goals(body: GoalsAtIn, checks: Checks, local: Local) -> Goal:
    """What ``sequent goals FILE:LINE:COL`` shows, from the server's resident workers; only for
    the CLI on this machine (the secret of the project's state folder), 401 otherwise."""
    return checks.goals_at(body.source, body.line, body.column)


@router.post("/minimal_hypotheses", responses=_ERRORS, summary="Which named hypotheses a proof needs")
def minimal_hypotheses(body: ProofIn, checks: Checks, token: Token) -> MinimalHypotheses:
    return checks.minimal_hypotheses(body.claim_id, body.proof)


@router.get("/search", responses=errors(404, 503), summary="Constants of core and the project by name or type shape")
def search(
    lookups: Lookups,
    q: Annotated[str, Query(max_length=200, description="A substring of the name")] = "",
    mentions: Annotated[list[str] | None, Query(description="Constants the type must mention")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchResult:
    return lookups.search(q, mentions, limit)


@router.get("/declarations/{name}", responses=errors(404, 503), summary="A constant's type, docstring and source")
def declaration(name: Annotated[str, Path(min_length=1, max_length=300)], lookups: Lookups) -> DeclarationInfo:
    return lookups.declaration(name)


@router.post("/review", responses=_ERRORS, summary="Cross-family faithfulness review of a statement")
def review(body: ReviewIn, request: Request, claims: Claims, token: Token) -> ClaimReview:
    agents: AgentConfig = getattr(request.app.state, "agents", None) or AgentConfig()
    return claims.review(body.claim_id, body.drafter_family, agents, body.statement, replay=body.replay)


__all__ = ["router"]
