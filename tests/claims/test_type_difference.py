"""The statement-mismatch message of ``claims check`` and the gate shows where the declaration's
type and the pinned statement differ, however long the types (it was cut off before it)."""

from __future__ import annotations

from pipeline.claims.consistency import type_difference

LONG = "∀ (p q ε v wHonest wDishonest : Rat), " + " → ".join(f"0 ≤ p + {i}" for i in range(40))


def test_the_difference_is_shown_even_after_a_long_common_prefix() -> None:
    text = (f"type mismatch\n  @Formal.foo\nhas type\n  {LONG} → x ≤ 2 * ε : Prop\n"
            f"but is expected to have type\n  {LONG} → x ≤ 3 * ε : Prop")
    diff = type_difference(text)
    assert diff is not None and len(diff) < 200
    assert "⟨declaration: 2⟩ vs ⟨pinned: 3⟩" in diff and diff.startswith("…")


def test_an_extra_hypothesis_is_named() -> None:
    text = ("Type mismatch\n  @f\nhas type\n  ∀ (n : Nat), 0 < n → n = n\n"
            "but is expected to have type\n  ∀ (n : Nat), n = n")
    assert type_difference(text) == "… ( n : Nat ) , ⟨declaration: 0 < n →⟩ vs ⟨pinned: (nothing)⟩ n = n"


def test_other_messages_are_not_a_difference() -> None:
    assert type_difference("unknown identifier 'foo'") is None
