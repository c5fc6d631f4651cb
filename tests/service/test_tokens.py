"""API tokens: stored hashed, shown once, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pipeline.errors import InputError, NotFoundError
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import Unauthorized
from pipeline.service.ids import sha256
from pipeline.service.tables import ApiToken
from pipeline.service.tokens import TokenStore
from pipeline.store.db import Database


def test_secret_is_stored_only_as_its_hash(db: Database) -> None:
    store = TokenStore(db, ServiceConfig())
    new = store.create("agent-1", rate_per_minute=7, max_concurrent=2)
    assert new.secret.startswith("sqt_") and len(new.secret) > 40
    with db.session() as s:
        row = s.scalars(select(ApiToken)).one()
        stored = [str(v) for v in vars(row).values()]
    assert new.secret not in stored
    assert row.secret_sha256 == sha256(new.secret)
    info = store.authenticate(new.secret)
    assert (info.name, info.rate_per_minute, info.max_concurrent) == ("agent-1", 7, 2)


def test_bad_tokens_are_unauthorized(db: Database) -> None:
    store = TokenStore(db, ServiceConfig())
    new = store.create("agent-1")
    for bad in (None, "", "Bearer x", new.secret + "x", "sqt_" + "a" * 500):
        with pytest.raises(Unauthorized):
            store.authenticate(bad)
    store.revoke("agent-1")
    with pytest.raises(Unauthorized, match="revoked"):
        store.authenticate(new.secret)
    assert store.list()[0].revoked


def test_duplicate_and_unknown_names(db: Database) -> None:
    store = TokenStore(db, ServiceConfig(rate_per_minute=5))
    assert store.create("a").token.rate_per_minute == 5
    with pytest.raises(InputError, match="already exists"):
        store.create("a")
    with pytest.raises(InputError):
        store.create("   ")
    with pytest.raises(NotFoundError):
        store.revoke("nobody")
