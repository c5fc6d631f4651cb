"""The job carries its Lean request (built once, at acceptance; the worker checks it as is).

Revision ID: 0002_job_request
Revises: 0001_service_tables
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_job_request"
down_revision: str | Sequence[str] | None = "0001_service_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for the jobs an older version queued: filled at start from their submission
    # (pipeline.service.submission_service.SubmissionService.fill_requests)
    op.add_column("service_jobs", sa.Column("request", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("service_jobs", "request")
