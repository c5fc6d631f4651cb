"""The store: one metadata that the owning packages register their tables on, an engine that
many processes can share (SQLite in WAL mode), sessions that commit or roll back whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from pipeline.service.schema import METADATA, TABLE_MODULES
from pipeline.store.db import Base, Database


def test_the_schema_lists_every_table_module_and_the_database_creates_their_tables(
        tmp_path: Path) -> None:
    assert METADATA is Base.metadata
    owners = {module.__name__ for module in TABLE_MODULES}
    assert owners == {"pipeline.lean.tables", "pipeline.service.tables", "pipeline.evidence.tables",
                      "pipeline.agents.tables", "pipeline.ab.tables"}
    defined_in = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert defined_in <= owners, f"tables outside pipeline/service/schema.py: {defined_in - owners}"
    db = Database(f"sqlite:///{tmp_path / 'state' / 'sequent.db'}")
    try:
        assert set(METADATA.tables) <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        db.close()


def test_a_session_that_raises_leaves_nothing_behind(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        with pytest.raises(RuntimeError), db.session() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("interrupted")
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
            session.execute(text("INSERT INTO t VALUES (2)"))
        with db.session() as session:
            assert session.execute(text("SELECT x FROM t")).scalars().all() == [2]
    finally:
        db.close()
