"""Migrations: the Alembic schema equals the table models; create_all'd tables get stamped."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pipeline.service.migrate import VERSION_TABLE, current_revision, head_revision, upgrade
from pipeline.service.schema import METADATA
from pipeline.service.tables import SERVICE_TABLES
from pipeline.store.db import Database


def _service_only(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table":
        return name in SERVICE_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in SERVICE_TABLES


def test_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": _service_only, "compare_type": True}
        )
        diff = compare_metadata(ctx, METADATA)
        assert current_revision(conn) == head_revision()
    assert diff == []


def test_tables_made_by_create_all_are_stamped_not_recreated(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}", create=True)
    try:
        assert set(SERVICE_TABLES) <= set(inspect(db.engine).get_table_names())
        assert upgrade(db.engine) == head_revision()
        assert VERSION_TABLE in inspect(db.engine).get_table_names()
        assert upgrade(db.engine) == head_revision()  # idempotent
    finally:
        db.close()
