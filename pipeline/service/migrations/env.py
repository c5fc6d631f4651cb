"""Alembic environment of the service tables.

Run programmatically by :func:`pipeline.service.migrate.upgrade`, which hands over an open
connection in ``config.attributes["connection"]``. Only the service's own tables are
compared and migrated; the version is kept in ``service_alembic_version`` so other teams'
migrations (if any) never collide with it.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from pipeline.service.schema import METADATA
from pipeline.service.tables import SERVICE_TABLES

VERSION_TABLE = "service_alembic_version"

config = context.config


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return name in SERVICE_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name in SERVICE_TABLES


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table=VERSION_TABLE,
        include_object=_include,
        render_as_batch=True,
        compare_type=True,
    )


connection = config.attributes.get("connection")
if connection is not None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()
else:  # the ``alembic`` command line, with sqlalchemy.url set in the config
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
