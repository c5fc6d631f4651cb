"""Persistence: one SQLAlchemy metadata for the whole pipeline (SQLite default, PostgreSQL by URL)."""
