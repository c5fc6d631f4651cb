"""The submission service: HTTP API, MCP server, persisted job queue and check workers.

``create_app(settings, config)`` (in :mod:`pipeline.service.app`) builds the FastAPI app; the
:class:`~pipeline.service.core.ServiceCore` owns the database, the registry and the Lean
checker for the HTTP app, the MCP server and ``sequent worker`` alike.
"""
