"""Database tables of A/B runs (on :class:`pipeline.store.db.Base`); read them through
:mod:`pipeline.ab.store`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.db import Base


class ABRunRow(Base):
    """One A/B run: a suite (by digest), its variants (with digests) and the seeds."""

    __tablename__ = "ab_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    suite_name: Mapped[str] = mapped_column(String(200))
    suite_version: Mapped[str] = mapped_column(String(40))
    suite_digest: Mapped[str] = mapped_column(String(64))
    task_ids: Mapped[list[str]] = mapped_column(JSON)
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Each variant's configuration and its digest, in the order given."""
    seeds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")
    """``running`` | ``complete`` | ``stopped`` (the sequential test decided early)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ABTrialRow(Base):
    """One (task, variant, seed) of a run: its verdict, attempts, times, tokens, cost."""

    __tablename__ = "ab_trials"
    __table_args__ = (UniqueConstraint("run_id", "task_id", "variant", "seed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("ab_runs.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(300))
    variant: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))
    success: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)
    lean_s: Mapped[float] = mapped_column(Float)
    wall_s: Mapped[float] = mapped_column(Float)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    reviewer_agrees: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


__all__ = ["ABRunRow", "ABTrialRow"]
