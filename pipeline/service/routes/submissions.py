"""``/v1/submissions``: submit a proof, read its verdict, export an accepted one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from pipeline.service.deps import Export, Submissions, Token
from pipeline.service.models import (
    SUBMISSION_ID_PATTERN,
    ExportView,
    SubmissionAccepted,
    SubmissionIn,
    SubmissionPage,
    SubmissionView,
)
from pipeline.service.routes.responses import errors

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

SubmissionId = Annotated[str, Path(min_length=1, max_length=64, pattern=SUBMISSION_ID_PATTERN)]


@router.get("", responses=errors(404), summary="Submissions, newest first, filtered and paged")
def list_submissions(
    submissions: Submissions,
    claim: Annotated[str | None, Query(max_length=200, description="Only this claim's")] = None,
    agent: Annotated[str | None, Query(max_length=200, description="Only this agent's")] = None,
    verdict: Annotated[str | None, Query(
        description="accepted, rejected, error (or the open states queued, running)")] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="The previous page's next_cursor")] = None,
) -> SubmissionPage:
    return submissions.page(claim_id=claim, agent=agent, verdict=verdict, since=since, limit=limit, cursor=cursor)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(400, 401, 404, 429),
    summary="Submit a proof of a claim's pinned statement",
)
def submit(sub: SubmissionIn, submissions: Submissions, token: Token, response: Response) -> SubmissionAccepted:
    accepted = submissions.submit(sub, token_id=token.id, channel="http")
    response.headers["Location"] = accepted.url
    return accepted


@router.get("/{submission_id}", responses=errors(404), summary="A submission and its verdict")
async def get_submission(
    submission_id: SubmissionId,
    submissions: Submissions,
    wait: Annotated[float, Query(ge=0, le=600, description="Seconds to wait for a verdict")] = 0,
) -> SubmissionView:
    # the one loop that waits for a verdict, awaited: no thread is held while it waits
    return await submissions.await_verdict(submission_id, min(wait, submissions.wait_max_s), poll_s=0.2)


@router.post(
    "/{submission_id}/export",
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 404, 409),
    summary="Commit an accepted proof on the review branch sequent/review/<id>",
)
def export(submission_id: SubmissionId, export: Export, token: Token) -> ExportView:
    return export.export(submission_id)


__all__ = ["router"]
