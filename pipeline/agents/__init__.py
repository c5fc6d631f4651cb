"""Drafting agents: models draft and repair Lean proofs; Lean and a cross-family review
filter them. Entry point: :func:`pipeline.agents.loop.draft`. Readers of the results:
:func:`pipeline.agents.store.attempts_for`, :func:`pipeline.agents.store.latest_review`,
:func:`pipeline.agents.store.latest_proof`."""
