from __future__ import annotations

import pytest

from pipeline.agents.parse import (
    extract_json,
    extract_lean,
    normalized,
    numbered,
    unified_diff,
    without_proof_of,
)


def test_extract_lean_prefers_the_first_lean_block() -> None:
    reply = "Reasoning...\n```python\nx = 1\n```\n```lean\nby\n  omega\n```\nmore\n```lean\nby simp\n```"
    assert extract_lean(reply) == "by\n  omega"
    assert extract_lean("```\nby rfl\n```") == "by rfl"
    assert extract_lean("  by exact h  \n") == "by exact h"


def test_extract_labelled_blocks() -> None:
    reply = ("Here:\n```lean\n-- statement\n∀ n : Nat, n + 0 = n\n```\n"
             "```lean4\n-- proof\nby\n  intro n\n  simp\n```")
    assert extract_lean(reply, label="statement") == "∀ n : Nat, n + 0 = n"
    assert extract_lean(reply, label="proof") == "by\n  intro n\n  simp"
    assert extract_lean("```lean\nby simp\n```", label="proof") == ""


def test_extract_json_variants() -> None:
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Sure.\n```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    assert extract_json('Verdict: {"a": {"b": 2}} done') == {"a": {"b": 2}}
    with pytest.raises(ValueError):
        extract_json("no json here")


def test_normalized_ignores_comments_and_layout_only() -> None:
    a = "by\n  intro n -- take n\n  omega"
    b = "by intro n\n   /- block -/ omega"
    assert normalized(a) == normalized(b)
    assert normalized(a) != normalized("by intro m\n  omega")


def test_unified_diff() -> None:
    assert unified_diff(None, "by simp") == ""
    diff = unified_diff("by\n  simp", "by\n  omega")
    assert diff.startswith("--- previous/proof\n+++ current/proof\n")
    assert "-  simp\n" in diff and "+  omega\n" in diff
    assert unified_diff("by simp", "by simp") == ""


def test_numbered() -> None:
    text = "\n".join(f"l{i}" for i in range(1, 11))
    lines = numbered(text).split("\n")
    assert lines[0] == " 1 | l1" and lines[9] == "10 | l10"


MODULE = """module
public section
namespace Formal.Toy
@[expose] def budget (n : Nat) : Nat := 2 * n + 1
theorem budget_pos (n : Nat) (h_small : n < 10) : 0 < budget n := by
  unfold budget
  omega
theorem budget_pos_nonvacuous : 0 < budget 3 := budget_pos 3 (by decide)
end Formal.Toy
end
"""


def test_without_proof_of_hides_only_the_answer() -> None:
    hidden = without_proof_of(MODULE, "Formal.Toy.budget_pos")
    assert "omega" not in hidden and "unfold budget" not in hidden
    assert "theorem budget_pos (n : Nat) (h_small : n < 10) : 0 < budget n :=" in hidden
    assert "@[expose] def budget (n : Nat) : Nat := 2 * n + 1" in hidden
    assert "theorem budget_pos_nonvacuous" in hidden
    assert without_proof_of(MODULE, "Formal.Toy.absent") == MODULE
