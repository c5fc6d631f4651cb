"""OpenAPI descriptions of the error answers the routes may give."""

from __future__ import annotations

from typing import Any

from pipeline.service.models import ErrorBody


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in (*codes, 413, 422)}


__all__ = ["errors"]
