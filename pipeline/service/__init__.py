"""The submission service: HTTP API, MCP server, persisted job queue and check workers.

``create_app(settings, config)`` (in :mod:`pipeline.service.app`) builds the FastAPI app; the
focused services (:mod:`pipeline.service.services`: submissions, ad-hoc checks, tokens, export,
claim views, the Lean engine's life) are wired once per process by
:func:`~pipeline.service.services.open_services` for the HTTP app, the MCP server and
``sequent worker`` alike.
"""
