module

public import Formal.Basic

/-!
# An approximate equilibrium bounds dishonesty

Buhl, Pfau, Hilton, Irving, *An alignment safety case sketch based on debate* (2025): if
honest play wins with probability at least `1 - q` and the trained debater's strategy is
`ε`-exploitable, then it answers dishonestly with probability at most `(q + ε) / (1 - q)`.
-/

public section
noncomputable section

namespace Formal.Equilibrium

/-- **Approximate equilibrium bounds dishonesty** (Buhl, Pfau, Hilton, Irving 2025, *An
alignment safety case sketch based on debate*). A debater answers dishonestly with
probability `p`. Against its best response it wins with probability `wHonest` when honest and
`wDishonest` when dishonest, so its worst-case win probability is
`(1 - p) * wHonest + p * wDishonest`. Honest play guarantees a win probability of at least
`1 - q` (`h_honest_value`), and against a dishonest answer the honest opponent wins with
probability at least `1 - q` (`h_honest_win_rate`). If the strategy is `ε`-exploitable —
its worst case is within `ε` of the value `v` (`h_exploitable`) — then
`p ≤ (q + ε) / (1 - q)`. -/
theorem dishonesty_bound (p q ε v wHonest wDishonest : Rat)
    (h_prob : 0 ≤ p ∧ p ≤ 1)
    (h_win_prob : wHonest ≤ 1)
    (h_q : q < 1)
    (h_honest_value : 1 - q ≤ v)
    (h_honest_win_rate : wDishonest ≤ q)
    (h_exploitable : v - ε ≤ (1 - p) * wHonest + p * wDishonest) :
    p ≤ (q + ε) / (1 - q) := by
  have h1 : (1 - p) * wHonest ≤ (1 - p) * 1 :=
    Rat.mul_le_mul_of_nonneg_left h_win_prob (by grind)
  have h2 : p * wDishonest ≤ p * q := Rat.mul_le_mul_of_nonneg_left h_honest_win_rate h_prob.1
  apply le_div_of_mul_le (by grind)
  grind

/-- Non-vacuity: every hypothesis of `dishonesty_bound` holds for a debater that is
dishonest 5% of the time, with `q = 1/10`, `ε = 1/100`, value `9/10`, an honest win rate of
`1` and a dishonest one of `1/10`; the bound gives `p ≤ 11/90`. -/
theorem dishonesty_bound_nonvacuous : (1 / 20 : Rat) ≤ (1 / 10 + 1 / 100) / (1 - 1 / 10) :=
  dishonesty_bound (1 / 20) (1 / 10) (1 / 100) (9 / 10) 1 (1 / 10)
    (by grind) (by grind) (by grind) (by grind) (by grind) (by grind)

end Formal.Equilibrium

end
end
