"""Bring the service tables to the newest schema, programmatically, at start.

Tables may already exist without a recorded version (another component's
``Database(create=True)`` ran ``create_all`` first): they then match the newest schema and
are stamped instead of created. Concurrent starts (a server and workers sharing one
database) are serialised by an advisory lock on PostgreSQL and by a retry on SQLite.
"""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import SetupError
from pipeline.service.tables import SERVICE_TABLES

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "service_alembic_version"
_PG_LOCK_ID = 0x5E0E47  # any constant shared by every process of the service


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise SetupError(f"{MIGRATIONS} holds no migration")
    return head


def current_revision(conn: Connection) -> str | None:
    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def _upgrade_on(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in names and set(SERVICE_TABLES) <= names:
        command.stamp(cfg, "head")
    else:
        command.upgrade(cfg, "head")


def upgrade(engine: Engine, *, attempts: int = 5) -> str:
    """Migrate to head; returns the revision now current. Raises SetupError on failure."""
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
                if current_revision(conn) != head_revision():
                    _upgrade_on(conn)
            with engine.connect() as conn:
                revision = current_revision(conn)
            if revision == head_revision():
                return revision
        except SQLAlchemyError as exc:  # a concurrent start raced us: look again
            last = exc
        time.sleep(0.2 * (attempt + 1))
    raise SetupError(
        f"could not migrate the service tables in {engine.url.render_as_string(hide_password=True)}: {last}"
    ) from last


__all__ = ["VERSION_TABLE", "current_revision", "head_revision", "upgrade"]
