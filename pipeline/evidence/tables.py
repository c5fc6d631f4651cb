"""Evidence tables: the runs that were checked and the verdicts on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.db import Base


class EvidenceRunRow(Base):
    __tablename__ = "evidence_runs"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    n_steps: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HypothesisVerdictRow(Base):
    __tablename__ = "evidence_verdicts"
    __table_args__ = (Index("ix_evidence_verdicts_claim_binder", "claim_id", "binder", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(128), index=True)
    claim_id: Mapped[str] = mapped_column(String(128))
    binder: Mapped[str] = mapped_column(String(128))
    check: Mapped[str | None] = mapped_column(String(256), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)
    """The full :class:`HypothesisVerdict` as JSON."""


__all__ = ["EvidenceRunRow", "HypothesisVerdictRow"]
