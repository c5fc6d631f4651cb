"""A one-claim project for the loop tests. Its claim lives in the core module ``Init``, so
checking a proof needs no build of ``Formal/`` (each Lean call costs seconds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TOY_TOML = '''id = "toy_budget"
title = "A step budget is positive"
source = "Sequent test suite"
statement = """
For every number of steps **n below ten**, the budget **2n + 1** is positive.
"""
argument = """
2n + 1 ≥ 1 > 0 for every n; the bound on n is not even needed.
"""

[lean]
module = "Init"
declaration = "toy_budget_pos"
witness = "toy_budget_pos_nonvacuous"
statement = """
∀ (n : Nat) (h_small : n < 10), 0 < 2 * n + 1
"""

[[hypotheses]]
binder = "h_small"
meaning = "The number of steps is below ten."
assumed = true
justification = "The toy claim only concerns small step counts."
'''

FAILING = "```lean\nby\n  intro n h_small\n  exact Nat.zero_lt_one\n```"
"""Rejected by Lean: a type mismatch (``0 < 1`` is not ``0 < 2 * n + 1``)."""
PASSING = "```lean\nby\n  intro n h_small\n  omega\n```"
ARGUMENT = "1. Introduce n and h_small.\n2. The goal 0 < 2 * n + 1 is linear: `omega`."


def make_toy_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "lakefile.lean").write_text("-- toy project\n")
    (root / "claims").mkdir(exist_ok=True)
    (root / "claims" / "toy_budget.toml").write_text(TOY_TOML, encoding="utf-8")
    return root


def write_recording(folder: Path, drafter_replies: list[tuple[str, str]],
                    review: dict[str, Any] | None = None, claim_id: str = "toy_budget") -> Path:
    """A replay recording: the drafter (anthropic) replies ``(kind, text)``, then a review."""
    exchanges: list[dict[str, Any]] = [
        {"role": "drafter", "kind": kind, "output": text} for kind, text in drafter_replies
    ]
    if review is not None:
        exchanges.append({"role": "reviewer", "kind": "review", "output": json.dumps(review)})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{claim_id}.json"
    path.write_text(json.dumps({
        "claim_id": claim_id,
        "drafter": {"family": "anthropic", "model": "claude-sonnet-4-6"},
        "reviewer": {"family": "openai", "model": "gpt-5"},
        "exchanges": exchanges,
    }), encoding="utf-8")
    return path
