"""The frozen pydantic base shared by every boundary model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable, strict about unknown fields, snake_case in Python."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


__all__ = ["Frozen"]
