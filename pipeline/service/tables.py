"""Tables of the service: API tokens, submissions, the job queue and ad-hoc checks.

The schema is created and upgraded by the Alembic migrations in
``pipeline/service/migrations`` (run programmatically by :func:`pipeline.service.migrate.upgrade`).
Times are stored as naive UTC and read back as aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.db import Base
from pipeline.store.times import UTCDateTime


class SubmissionStatus:
    queued = "queued"
    running = "running"
    accepted = "accepted"
    rejected = "rejected"
    error = "error"

    open = (queued, running)
    final = (accepted, rejected, error)


class JobStatus:
    queued = "queued"
    running = "running"
    done = "done"


class ApiToken(Base):
    __tablename__ = "service_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    max_concurrent: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SubmissionRow(Base):
    __tablename__ = "service_submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    agent: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_tokens.id"), nullable=True, index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    """``http`` or ``mcp``."""
    proof: Mapped[str] = mapped_column(Text)
    proof_sha256: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    """The claim's pinned Lean statement when the submission was accepted."""
    source: Mapped[str] = mapped_column(Text)
    """The Lean file the server assembled (and Lean checked)."""
    imports: Mapped[list[str]] = mapped_column(JSON)
    file_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The engine's ``CheckResult`` as JSON, once checked."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_service_submissions_token_created", "token_id", "created_at"),
        Index("ix_service_submissions_token_status", "token_id", "status"),
    )


class JobRow(Base):
    __tablename__ = "service_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("service_submissions.id"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    """The Lean request (``CheckRequest``) built at acceptance; the worker checks it as is."""

    __table_args__ = (Index("ix_service_jobs_status_id", "status", "id"),)


class AdhocCheckRow(Base):
    __tablename__ = "service_checks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_tokens.id"), nullable=True
    )
    file_name: Mapped[str] = mapped_column(String(200))
    source_sha256: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    elapsed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_service_checks_token_created", "token_id", "created_at"),)


SERVICE_TABLES: tuple[str, ...] = (
    ApiToken.__tablename__,
    SubmissionRow.__tablename__,
    JobRow.__tablename__,
    AdhocCheckRow.__tablename__,
)

__all__ = [
    "SERVICE_TABLES",
    "AdhocCheckRow",
    "ApiToken",
    "JobRow",
    "JobStatus",
    "SubmissionRow",
    "SubmissionStatus",
]
