"""Database tables of the drafting agents (on :class:`pipeline.store.db.Base`).

Rows hold the pydantic wire models as JSON where the shape is nested (Lean's CheckResult,
a review's discrepancies); the columns others filter on (claim id, outcome, times) are real
columns. Read them through :mod:`pipeline.agents.store`, not directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.db import Base


class DraftSessionRow(Base):
    """One run of the drafting loop for one claim."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    family: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    rounds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")
    """``running`` until the loop ends, then ``accepted`` | ``exhausted`` | ``repeated`` |
    ``failed`` (a provider or Lean transport error stopped it) | ``interrupted``."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    argument: Mapped[str] = mapped_column(Text, default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AttemptRow(Base):
    """One step of a session (the informal argument, or one Lean attempt)."""

    __tablename__ = "agent_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("agent_sessions.id", ondelete="CASCADE"), index=True
    )
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    family: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(Text)
    proof: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    diff: Mapped[str] = mapped_column(Text, default="")
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_s: Mapped[float] = mapped_column(Float, default=0.0)
    check_s: Mapped[float] = mapped_column(Float, default=0.0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ToolCallRow(Base):
    """One tool call a drafting step made, and the result the pipeline sent back."""

    __tablename__ = "agent_tool_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("agent_sessions.id", ondelete="CASCADE"), index=True
    )
    attempt_index: Mapped[int] = mapped_column(Integer)
    """The :class:`AttemptRow` ``index`` of the step that made the call."""
    round: Mapped[int] = mapped_column(Integer)
    call: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The :class:`pipeline.agents.models.ToolCall` (id, name, arguments)."""
    result: Mapped[str] = mapped_column(Text)
    is_error: Mapped[bool]


class ProofRow(Base):
    """A proof Lean accepted for a claim (the file is also in ``<state>/proofs``)."""

    __tablename__ = "agent_proofs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("agent_sessions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    proof: Mapped[str] = mapped_column(Text)
    statement: Mapped[str] = mapped_column(Text)
    statement_pinned: Mapped[bool]
    provider: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    cache_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewRow(Base):
    """A cross-family faithfulness review, stored with the claim."""

    __tablename__ = "agent_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("agent_sessions.id", ondelete="SET NULL"), nullable=True
    )
    verdict: Mapped[str] = mapped_column(String(20))
    flagged: Mapped[bool]
    judgement: Mapped[dict[str, Any]] = mapped_column(JSON)
    statement: Mapped[str] = mapped_column(Text)
    reviewer_provider: Mapped[str] = mapped_column(String(20))
    reviewer_family: Mapped[str] = mapped_column(String(20))
    reviewer_model: Mapped[str] = mapped_column(String(200))
    drafter_family: Mapped[str] = mapped_column(String(20))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = ["AttemptRow", "DraftSessionRow", "ProofRow", "ReviewRow", "ToolCallRow"]
