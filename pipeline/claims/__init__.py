"""The claims registry: ``claims/*.toml`` linked to the Lean theorems of ``Formal/``.

* :mod:`pipeline.claims.models` — ``Claim``, ``LeanRef``, ``Hypothesis``, ``Issue``;
* :mod:`pipeline.claims.registry` — ``load_registry`` / ``read_registry``;
* :mod:`pipeline.claims.assemble` — ``assemble_proof`` and the claim's check file;
* :mod:`pipeline.claims.library` — the Lean sources: binders, definitions, pins;
* :mod:`pipeline.claims.consistency` — the rules, as pure functions;
* :mod:`pipeline.claims.proof_status` — ``evaluate``: derived status with its Lean results;
* :mod:`pipeline.claims.pin` — rewriting ``[lean.definitions]``;
* :mod:`pipeline.claims.graph` — the dependency graph.
"""
