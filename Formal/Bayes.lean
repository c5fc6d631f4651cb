module

public import Formal.Basic

/-!
# A Bayes mixture is surprised only finitely often

The core counting step of Cohen, Vellambi, Hutter, *Asymptotically unambitious artificial
general intelligence* (AAAI 2020), going back to Solomonoff induction: a Bayes mixture that
gives the true (deterministic) environment prior weight `2^-k` assigns probability at most
`1/2` to the actual outcome in at most `k` rounds.
-/

public section
noncomputable section

namespace Formal.Bayes

/-- The rounds in which the mixture gave the actual outcome probability at most `1/2`. -/
@[expose] def surprises (ξ : List Rat) : Nat := ξ.countP (fun q => decide (q ≤ 1 / 2))

theorem surprises_cons (q : Rat) (qs : List Rat) :
    surprises (q :: qs) = surprises qs + if q ≤ 1 / 2 then 1 else 0 := by
  unfold surprises
  rw [List.countP_cons]
  by_cases h : q ≤ 1 / 2 <;> simp [h]

/-- Each surprise at least halves the mixture's probability of the whole history:
`∏ ξₜ · 2^(surprises) ≤ 1`. -/
theorem listProd_mul_pow_surprises_le :
    ∀ ξ : List Rat, (∀ q ∈ ξ, 0 ≤ q ∧ q ≤ 1) → listProd ξ * 2 ^ surprises ξ ≤ 1 := by
  intro ξ
  induction ξ with
  | nil => intro _; simp only [listProd, surprises, List.countP_nil, Rat.pow_zero]; grind
  | cons q qs ih =>
    intro h
    have hq := h q (by simp)
    have hqs : ∀ x ∈ qs, 0 ≤ x ∧ x ≤ 1 := fun x hx => h x (by simp [hx])
    have ih' := ih hqs
    have hP : 0 ≤ listProd qs := listProd_nonneg (fun x hx => (hqs x hx).1)
    have hpow : (0 : Rat) < 2 ^ surprises qs := Rat.pow_pos (by grind)
    have hPn : 0 ≤ listProd qs * 2 ^ surprises qs := Rat.mul_nonneg hP (Rat.le_of_lt hpow)
    rw [listProd, surprises_cons]
    clear ih h hqs
    generalize listProd qs = P at *
    generalize surprises qs = s at *
    by_cases hhalf : q ≤ 1 / 2
    · simp only [hhalf, if_true]
      rw [Rat.pow_succ]
      have := Rat.mul_le_mul_of_nonneg_right (show q * 2 ≤ 1 by grind) hPn
      grind
    · simp only [hhalf, if_false, Nat.add_zero]
      have := Rat.mul_le_mul_of_nonneg_right hq.2 hPn
      grind

/-- **Bounded surprise of a Bayes mixture** (core of Cohen, Vellambi, Hutter 2020,
*Asymptotically unambitious AGI*; Solomonoff-style dominance). The mixture `ξ` assigns
probabilities `ξₜ ∈ [0, 1]` to the actual outcomes (`h_probabilities`). It dominates each
environment in its class with that environment's prior weight, in particular the true one:
`w · ∏ μₜ ≤ ∏ ξₜ` (`h_dominance`). The truth is deterministic, giving every actual outcome
probability `1` (`h_truth_deterministic`), and has prior weight `w ≥ 2^-k`
(`h_prior_weight`). Then in at most `k` rounds does the mixture give the actual outcome
probability `≤ 1/2`. -/
theorem bayes_surprise_bound (ξ μ : List Rat) (w : Rat) (k : Nat)
    (h_prior_weight : 1 / 2 ^ k ≤ w)
    (h_dominance : w * listProd μ ≤ listProd ξ)
    (h_truth_deterministic : ∀ q ∈ μ, q = 1)
    (h_probabilities : ∀ q ∈ ξ, 0 ≤ q ∧ q ≤ 1) :
    surprises ξ ≤ k := by
  have hμ : listProd μ = 1 := by
    clear h_dominance
    induction μ with
    | nil => rfl
    | cons q qs ih =>
      simp only [listProd]
      rw [h_truth_deterministic q (by simp), ih (fun x hx => h_truth_deterministic x (by simp [hx]))]
      grind
  have hbound := listProd_mul_pow_surprises_le ξ h_probabilities
  refine Nat.le_of_not_lt fun hlt => ?_
  have hk : (0 : Rat) < 2 ^ k := Rat.pow_pos (by grind)
  -- `2^s ≥ 2 · 2^k` when `s > k`
  have hmono : (2 : Rat) ^ k * 2 ≤ 2 ^ surprises ξ := by
    rw [← Rat.pow_succ]
    have : 2 ^ (k + 1) ≤ 2 ^ surprises ξ := Nat.pow_le_pow_right (by decide) hlt
    have hc : ((2 ^ (k + 1) : Nat) : Rat) ≤ ((2 ^ surprises ξ : Nat) : Rat) := by exact_mod_cast this
    simpa [Rat.natCast_pow] using hc
  have hinv : 1 / 2 ^ k * 2 ^ k = (1 : Rat) := Rat.div_mul_cancel (by grind)
  have hP : 1 / 2 ^ k ≤ listProd ξ := by rw [hμ] at h_dominance; grind
  have hpos : 0 ≤ (1 : Rat) / 2 ^ k := Rat.le_of_lt (one_div_pos hk)
  have h1 := Rat.mul_le_mul_of_nonneg_left hmono hpos
  have h2 := Rat.mul_le_mul_of_nonneg_right hP (Rat.le_of_lt (Rat.pow_pos (by grind) : (0 : Rat) < 2 ^ surprises ξ))
  grind

/-- Non-vacuity: a class of eight deterministic environments with uniform prior `1/8`
(`k = 3`); the truth predicts all three outcomes, the mixture gave them probabilities
`1/2, 1, 1/4` (history probability `1/8 ≥ 1/8 · 1`), and it was surprised twice `≤ 3`. -/
theorem bayes_surprise_bound_nonvacuous : surprises [1 / 2, 1, 1 / 4] ≤ 3 :=
  bayes_surprise_bound [1 / 2, 1, 1 / 4] [1, 1, 1] (1 / 8) 3
    (by grind) (by simp only [listProd]; grind) (by simp) (by simp; grind)

end Formal.Bayes

end
end
