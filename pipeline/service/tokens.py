"""API tokens: created with a secret shown once, stored as its SHA-256, checked per request."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.errors import InputError, NotFoundError
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import Unauthorized
from pipeline.service.ids import sha256
from pipeline.service.models import NewToken, TokenInfo
from pipeline.service.tables import ApiToken
from pipeline.store.db import Database
from pipeline.store.times import utcnow

SECRET_PREFIX = "sqt_"
_MAX_SECRET_CHARS = 128


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def token_info(row: ApiToken) -> TokenInfo:
    """The row's columns of the same names, and ``revoked`` from ``revoked_at``."""
    info = TokenInfo.model_validate(row, from_attributes=True)
    return info.model_copy(update={"revoked": row.revoked_at is not None})


AUTH_CACHE_S = 5.0
"""How long a successful authentication is reused without reading the database. Writes
that open work (submissions, checks) re-check revocation inside their own transaction, so
a revoked token can at most read or export for this long."""


class TokenStore:
    """Creates, lists, revokes and authenticates tokens in the service database."""

    def __init__(self, db: Database, config: ServiceConfig) -> None:
        self._db, self._config = db, config
        self._cache: dict[str, tuple[TokenInfo, float]] = {}

    def create(
        self, name: str, *, rate_per_minute: int | None = None, max_concurrent: int | None = None
    ) -> NewToken:
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError("a token name must have 1 to 200 characters")
        rate = rate_per_minute if rate_per_minute is not None else self._config.rate_per_minute
        cap = max_concurrent if max_concurrent is not None else self._config.max_concurrent
        if rate < 1 or cap < 1:
            raise InputError("a token's rate limit and concurrency cap must be at least 1")
        secret = new_secret()
        row = ApiToken(
            id="tok_" + secrets.token_hex(8),
            name=name,
            secret_sha256=sha256(secret),
            rate_per_minute=rate,
            max_concurrent=cap,
            created_at=utcnow(),
        )
        try:
            with self._db.session() as session:
                session.add(row)
        except IntegrityError as exc:
            raise InputError(f"a token named {name!r} already exists") from exc
        return NewToken(token=token_info(row), secret=secret)

    def list(self) -> list[TokenInfo]:
        with self._db.session() as session:
            rows = session.scalars(select(ApiToken).order_by(ApiToken.created_at)).all()
            return [token_info(r) for r in rows]

    def revoke(self, name_or_id: str) -> TokenInfo:
        with self._db.session() as session:
            row = session.scalars(
                select(ApiToken).where((ApiToken.name == name_or_id) | (ApiToken.id == name_or_id))
            ).first()
            if row is None:
                raise NotFoundError(f"no token named {name_or_id!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            self._cache.clear()
            return token_info(row)

    def cached(self, secret: str | None) -> TokenInfo | None:
        """The token authenticated with this secret in the last few seconds, without I/O."""
        hit = self._cache.get(sha256(secret)) if secret else None
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def authenticate(self, secret: str | None) -> TokenInfo:
        """The active token with this secret; raises Unauthorized otherwise."""
        hit = self.cached(secret)
        if hit is not None:
            return hit
        key = sha256(secret) if secret else ""
        with self._db.session() as session:
            info = token_info(lookup(session, secret))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (info, time.monotonic() + AUTH_CACHE_S)
        return info


def lookup(session: Session, secret: str | None) -> ApiToken:
    """The active token row with this secret, inside ``session``; raises Unauthorized."""
    if not secret or len(secret) > _MAX_SECRET_CHARS or not secret.startswith(SECRET_PREFIX):
        raise Unauthorized("a valid API token is required (Authorization: Bearer sqt_...)")
    row = session.scalars(
        select(ApiToken).where(ApiToken.secret_sha256 == sha256(secret))
    ).first()
    if row is None:
        raise Unauthorized("unknown API token")
    if row.revoked_at is not None:
        raise Unauthorized("this API token has been revoked")
    return row


__all__ = ["SECRET_PREFIX", "TokenStore", "lookup", "new_secret", "token_info"]
