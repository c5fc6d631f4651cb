"""Admission of a write under its token's limits, inside the write's own transaction.

The token row is written first (``UPDATE … RETURNING`` its limits): on SQLite that takes
the database's write lock, on PostgreSQL the row's lock, so counting the token's usage and
inserting the new row are one atomic step across threads, processes and machines. The
decision itself is :func:`pipeline.service.limits.admit` (pure). Statements are built once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from pipeline.service.errors import Unauthorized
from pipeline.service.limits import WINDOW, Limits, Usage, admit
from pipeline.service.tables import AdhocCheckRow, ApiToken, SubmissionRow, SubmissionStatus
from pipeline.service.writelock import WriteGate
from pipeline.store.times import utcnow

_LOCK = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"), ApiToken.revoked_at.is_(None))
    .values(last_used_at=bindparam("now"))
    .returning(ApiToken.rate_per_minute, ApiToken.max_concurrent)
)

_recent_submissions = (SubmissionRow.token_id == bindparam("token_id")) & (
    SubmissionRow.created_at >= bindparam("since")
)
_recent_checks = (AdhocCheckRow.token_id == bindparam("token_id")) & (
    AdhocCheckRow.created_at >= bindparam("since")
)
_USAGE = select(
    select(func.count()).where(_recent_submissions).scalar_subquery(),
    select(func.min(SubmissionRow.created_at)).where(_recent_submissions).scalar_subquery(),
    select(func.count()).where(_recent_checks).scalar_subquery(),
    select(func.min(AdhocCheckRow.created_at)).where(_recent_checks).scalar_subquery(),
    select(func.count())
    .where(
        SubmissionRow.token_id == bindparam("token_id"),
        SubmissionRow.status.in_(SubmissionStatus.open),
    )
    .scalar_subquery(),
)


def lock_token(session: Session, token_id: str, now: datetime) -> Limits:
    """Take the token's write lock for this transaction; its limits, or Unauthorized."""
    row = session.execute(_LOCK, {"token_id": token_id, "now": now}).first()
    if row is None:
        raise Unauthorized("this API token has been revoked")
    return Limits(rate_per_minute=row[0], max_concurrent=row[1])


def usage_of(session: Session, token_id: str, now: datetime) -> Usage:
    """The token's writes in the last minute and its open submissions, in one query."""
    n_sub, first_sub, n_chk, first_chk, open_n = session.execute(
        _USAGE, {"token_id": token_id, "since": now - WINDOW}
    ).one()
    firsts = [t for t in (first_sub, first_chk) if t is not None]
    return Usage(
        writes_in_window=int(n_sub or 0) + int(n_chk or 0),
        oldest_write_in_window=min(firsts) if firsts else None,
        open_submissions=int(open_n or 0),
    )


def admit_write(session: Session, token_id: str, now: datetime, *, opens_submission: bool) -> None:
    """Lock the token, count its usage, and raise RateLimited if this write is over a limit."""
    limits = lock_token(session, token_id, now)
    admit(usage_of(session, token_id, now), limits, now=now, opens_submission=opens_submission)


@contextmanager
def admitted(gate: WriteGate, token_id: str | None, *, opens_submission: bool) -> Iterator[tuple[Session, datetime]]:
    """The one way a token's write goes in: a write transaction in which the token (if any)
    was admitted under its limits; the caller inserts its row in it. Yields the session and
    the write's time."""
    now = utcnow()
    with gate.transaction() as session:
        if token_id is not None:
            admit_write(session, token_id, now, opens_submission=opens_submission)
        yield session, now


__all__ = ["admit_write", "admitted", "lock_token", "usage_of"]
