"""Identifiers and digests of service records."""

from __future__ import annotations

import hashlib
import secrets
import time


def new_id() -> str:
    """Sortable and unguessable: milliseconds since the epoch (hex), then 64 random bits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


__all__ = ["new_id", "sha256"]
