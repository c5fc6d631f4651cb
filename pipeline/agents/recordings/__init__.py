"""Replay recordings shipped with the package: ``<claim_id>.json`` (see docs/agents.md)."""
