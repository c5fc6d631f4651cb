"""Every table of the pipeline, on one metadata: the service's database holds them all.

The store (:mod:`pipeline.store.db`) knows no table; each owning package defines its tables
on :class:`~pipeline.store.db.Base`, and this module imports every one of them, so that
``create_all`` and the Alembic environment see the complete schema.
"""

from __future__ import annotations

from types import ModuleType

from sqlalchemy import MetaData

from pipeline.ab import tables as ab_tables
from pipeline.agents import tables as agent_tables
from pipeline.evidence import tables as evidence_tables
from pipeline.lean import tables as lean_tables
from pipeline.service import tables as service_tables
from pipeline.store.db import Base

TABLE_MODULES: tuple[ModuleType, ...] = (lean_tables, service_tables, evidence_tables, agent_tables,
                                          ab_tables)
"""Every module that defines tables."""

METADATA: MetaData = Base.metadata
"""The complete metadata (every module of :data:`TABLE_MODULES` is imported above)."""

__all__ = ["METADATA", "TABLE_MODULES"]
