"""Service tables: tokens, submissions, jobs, ad-hoc checks.

Revision ID: 0001_service_tables
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.store.times import UTCDateTime

revision: str = "0001_service_tables"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "service_submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("token_id", sa.String(32), sa.ForeignKey("service_tokens.id"), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.Column("proof_sha256", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imports", sa.JSON(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_service_submissions_claim_id", "service_submissions", ["claim_id"])
    op.create_index("ix_service_submissions_token_id", "service_submissions", ["token_id"])
    op.create_index("ix_service_submissions_status", "service_submissions", ["status"])
    op.create_index(
        "ix_service_submissions_token_created", "service_submissions", ["token_id", "created_at"]
    )
    op.create_index(
        "ix_service_submissions_token_status", "service_submissions", ["token_id", "status"]
    )
    op.create_table(
        "service_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "submission_id",
            sa.String(32),
            sa.ForeignKey("service_submissions.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_service_jobs_status_id", "service_jobs", ["status", "id"])
    op.create_table(
        "service_checks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_id", sa.String(32), sa.ForeignKey("service_tokens.id"), nullable=True),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_service_checks_token_created", "service_checks", ["token_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("service_checks")
    op.drop_table("service_jobs")
    op.drop_table("service_submissions")
    op.drop_table("service_tokens")
