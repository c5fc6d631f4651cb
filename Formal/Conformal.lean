module

public import Formal.Basic

/-!
# Split-conformal coverage by rank counting

Lei, G'Sell, Rinaldo, Tibshirani, Wasserman, *Distribution-free predictive inference for
regression*, JASA 113 (2018), Theorem 2.1: with `n` calibration scores and the conformal
quantile at rank `k ≥ (1 - α)(n + 1)`, the split-conformal prediction set covers a new
exchangeable point with probability at least `1 - α`. The probability comes from counting
ranks: among any `n + 1` scores, ties included, at least `min k (n + 1)` positions are
covered.
-/

public section
noncomputable section

namespace Formal.Conformal

/-- The number of scores strictly below `x`. -/
@[expose] def rankBelow (scores : List Rat) (x : Rat) : Nat :=
  scores.countP (fun y => decide (y < x))

/-- Whether the score `x`, taken as the test score, is in the split-conformal set at rank
`k`: `x` is at most the `k`-th smallest of the other scores exactly when fewer than `k` of
them lie strictly below `x` (and `x` is never strictly below itself). -/
@[expose] def covered (scores : List Rat) (k : Nat) (x : Rat) : Bool :=
  decide (rankBelow scores x < k)

/-- The number of positions that are covered when taken as the test point. -/
@[expose] def coveredCount (scores : List Rat) (k : Nat) : Nat :=
  scores.countP (covered scores k)

theorem exists_min : ∀ l : List Rat, l ≠ [] → ∃ m ∈ l, ∀ y ∈ l, m ≤ y := by
  intro l
  induction l with
  | nil => intro h; exact absurd rfl h
  | cons x xs ih =>
    intro _
    by_cases hxs : xs = []
    · subst hxs; exact ⟨x, by simp, by simp; grind⟩
    · obtain ⟨m, hm, hmin⟩ := ih hxs
      by_cases hxm : x ≤ m
      · refine ⟨x, by simp, ?_⟩
        intro y hy
        simp only [List.mem_cons] at hy
        rcases hy with rfl | hy
        · grind
        · have := hmin y hy; grind
      · refine ⟨m, by simp [hm], ?_⟩
        intro y hy
        simp only [List.mem_cons] at hy
        rcases hy with rfl | hy
        · grind
        · exact hmin y hy

/-- **Rank counting.** Among any list of scores, ties included, at least `min k N` positions
are covered at rank `k`. -/
theorem min_le_coveredCount (scores : List Rat) (k : Nat) :
    min k scores.length ≤ coveredCount scores k := by
  refine Nat.le_of_not_lt fun hlt => ?_
  have hsplit := List.length_eq_countP_add_countP (covered scores k) (l := scores)
  unfold coveredCount at hlt
  -- some position is not covered; take the smallest such score
  have hne : scores.filter (fun x => decide ¬covered scores k x = true) ≠ [] := by
    intro hnil
    have : (scores.filter (fun x => decide ¬covered scores k x = true)).length = 0 := by
      rw [hnil]; rfl
    rw [← List.countP_eq_length_filter] at this
    omega
  obtain ⟨m, hm, hmin⟩ := exists_min _ hne
  simp only [List.mem_filter, decide_eq_true_eq] at hm
  -- every score strictly below `m` is covered
  have hbelow : rankBelow scores m ≤ scores.countP (covered scores k) := by
    apply List.countP_mono_left
    intro y hy hym
    refine Classical.byContradiction fun hcov => ?_
    have := hmin y (List.mem_filter.mpr ⟨hy, by simpa using hcov⟩)
    simp at hym
    grind
  have hk : k ≤ rankBelow scores m := by
    have := hm.2
    simp only [covered, decide_eq_true_eq] at this
    omega
  omega

/-- **Split-conformal coverage** (Lei, G'Sell, Rinaldo, Tibshirani, Wasserman 2018, JASA,
Theorem 2.1). Take the `n` calibration scores and the test score, `n + 1` scores in all
(`h_calibration`). Under exchangeability the test score is equally likely to sit at each of
the `n + 1` positions, so the coverage probability is the fraction of positions covered at
the conformal rank `k` (`h_exchangeable`). With `k ≥ (1 - α)(n + 1)` (`h_quantile`) and
`α ≥ 0` (`h_alpha`), coverage is at least `1 - α`. -/
theorem conformal_coverage (scores : List Rat) (n k : Nat) (α coverage : Rat)
    (h_calibration : scores.length = n + 1)
    (h_exchangeable : coverage = (coveredCount scores k : Rat) / ((n : Rat) + 1))
    (h_quantile : (1 - α) * ((n : Rat) + 1) ≤ k)
    (h_alpha : 0 ≤ α) :
    1 - α ≤ coverage := by
  have hcount := min_le_coveredCount scores k
  rw [h_calibration] at hcount
  rw [h_exchangeable]
  have hn : (0 : Rat) ≤ n := by exact_mod_cast Nat.zero_le n
  apply le_div_of_mul_le (by grind)
  by_cases hkn : k ≤ n + 1
  · have : k ≤ coveredCount scores k := by omega
    have : (k : Rat) ≤ (coveredCount scores k : Rat) := by exact_mod_cast this
    grind
  · have : n + 1 ≤ coveredCount scores k := by omega
    have : ((n + 1 : Nat) : Rat) ≤ (coveredCount scores k : Rat) := by exact_mod_cast this
    have hc : ((n + 1 : Nat) : Rat) = (n : Rat) + 1 := by norm_cast
    have := Rat.mul_nonneg h_alpha (show (0 : Rat) ≤ (n : Rat) + 1 by grind)
    grind

/-- Non-vacuity: calibration scores `1, 4, 1, 5` and test score `3` (`n = 4`), rank `k = 4`
and `α = 1/5` satisfy every hypothesis; four of the five positions are covered, and the
coverage `4/5` is at least `1 - 1/5`. -/
theorem conformal_coverage_nonvacuous :
    1 - 1 / 5 ≤ (coveredCount [3, 1, 4, 1, 5] 4 : Rat) / ((4 : Nat) + 1) :=
  conformal_coverage [3, 1, 4, 1, 5] 4 4 (1 / 5) _ (by decide) rfl (by grind) (by grind)

end Formal.Conformal

end
end
