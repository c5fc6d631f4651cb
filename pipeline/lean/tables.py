"""The engine's table: the result cache's entries (:mod:`pipeline.lean.cache` reads and writes
them), on the store's one metadata."""

from __future__ import annotations

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.db import Base


class LeanResultRow(Base):
    __tablename__ = "lean_results"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


__all__ = ["LeanResultRow"]
