"""Genuine proofs of the repository's claims for the service tests: they prove the pinned
statement without citing the claim's own declaration (issue 25, item 4: the audit rejects a
submission whose proof term reaches it)."""

from __future__ import annotations

EQUILIBRIUM = "debate_equilibrium"
EQUILIBRIUM_TARGET = "Formal.Equilibrium.dishonesty_bound"
EQUILIBRIUM_BINDERS = "p q ε v wHonest wDishonest h_prob h_win_prob h_q h_honest_value h_honest_win_rate h_exploitable"
EQUILIBRIUM_PROOF = f"""by
  intro {EQUILIBRIUM_BINDERS}
  have h1 : (1 - p) * wHonest ≤ (1 - p) * 1 :=
    Rat.mul_le_mul_of_nonneg_left h_win_prob (by grind)
  have h2 : p * wDishonest ≤ p * q :=
    Rat.mul_le_mul_of_nonneg_left h_honest_win_rate h_prob.1
  apply Formal.le_div_of_mul_le (by grind)
  grind"""
"""The proof the recorded drafter (pipeline/agents/recordings) wrote: through the library's
``Formal.le_div_of_mul_le``, not the claim's declaration."""
