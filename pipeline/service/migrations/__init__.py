"""Alembic migrations of the service tables (run by :func:`pipeline.service.migrate.upgrade`)."""
