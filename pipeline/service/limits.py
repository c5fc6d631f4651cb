"""Admission of a write under a token's limits: pure logic, no I/O.

The caller counts, inside one serialised transaction, the token's writes in the last
:data:`WINDOW` and its open submissions, then asks :func:`admit`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.models import Frozen
from pipeline.service.errors import RateLimited

WINDOW = timedelta(minutes=1)


class Usage(Frozen):
    """What a token has in flight and has done recently."""

    writes_in_window: int
    oldest_write_in_window: datetime | None
    open_submissions: int


class Limits(Frozen):
    rate_per_minute: int
    max_concurrent: int


def admit(usage: Usage, limits: Limits, *, now: datetime, opens_submission: bool) -> None:
    """Raise :class:`RateLimited` (with a retry hint) if one more write would break a limit."""
    if usage.writes_in_window >= limits.rate_per_minute:
        oldest = usage.oldest_write_in_window or now
        retry = max((oldest + WINDOW - now).total_seconds(), 0.1)
        raise RateLimited(
            f"rate limit: at most {limits.rate_per_minute} writes per minute for this token",
            retry_after_s=round(retry, 3),
        )
    if opens_submission and usage.open_submissions >= limits.max_concurrent:
        raise RateLimited(
            f"concurrency limit: at most {limits.max_concurrent} submissions of this token "
            "may be queued or running at once",
            retry_after_s=1.0,
        )


__all__ = ["WINDOW", "Limits", "Usage", "admit"]
