module

public import Formal.Basic

/-!
# BIC approximates the Bayes free energy of a regular model

The Bayes free energy (negative log marginal likelihood) of `n` samples has the asymptotic
expansion `F_n = n L_n(ŵ) + λ log n + R_n` (Watanabe 2009, *Algebraic Geometry and
Statistical Learning Theory*, Thm 6.7; for a regular model the Laplace approximation, with
`R_n = O_p(1)`), where `λ` is the learning coefficient (real log canonical threshold) of the
model at its optimum. The Bayesian information criterion `BIC = n L_n(ŵ) + (d/2) log n`
(Schwarz 1978) replaces `λ` by `d/2`, half the number of parameters. That is exact when the
model is *regular* (non-degenerate Fisher information, `λ = d/2`); a singular model such as a
neural network has `λ < d/2`, and there BIC overcounts the complexity by `(d/2 − λ) log n`.

The logarithm is kept as a number `logn n` (core Lean has no real logarithm); the theorem
holds for any values it takes.
-/

public section
noncomputable section

namespace Formal.LLC

/-- The Bayesian information criterion `n L_n(ŵ) + (d/2) log n` of a model with `d`
parameters, given the summed loss `nL = n L_n(ŵ)` and the value `logn` of `log n`. -/
@[expose] def bic (nL : Rat) (d : Nat) (logn : Rat) : Rat := nL + (d : Rat) / 2 * logn

/-- **BIC approximates the free energy of a regular model** (Schwarz 1978; Watanabe 2009,
Thm 6.7). If the free energy `F n` of `n` samples is within `R` of `n L_n + λ log n`
(`h_expansion`, the asymptotic expansion with its remainder bounded by `R`) and the model is
regular, its learning coefficient being half its parameter count (`h_regular : λ = d/2`),
then BIC is within `R` of the free energy for every `n ≥ 1`, and its error per sample is at
most `ε` from `n ≥ N(R/ε) = ⌊R/ε⌋ + 1` on. -/
theorem bic_free_energy (F nL logn : Nat → Rat) (lam R : Rat) (d : Nat)
    (h_expansion : ∀ n : Nat, 1 ≤ n → absDiff (F n) (nL n + lam * logn n) ≤ R)
    (h_regular : lam = (d : Rat) / 2) :
    (∀ n : Nat, 1 ≤ n → absDiff (F n) (bic (nL n) d (logn n)) ≤ R) ∧
    (∀ ε : Rat, 0 < ε → ∀ n : Nat, rateN (R / ε) ≤ n →
      absDiff (F n) (bic (nL n) d (logn n)) ≤ ε * n) := by
  subst h_regular
  have hbic : ∀ n : Nat, 1 ≤ n → absDiff (F n) (bic (nL n) d (logn n)) ≤ R := by
    intro n hn
    unfold bic
    exact h_expansion n hn
  refine ⟨hbic, fun ε hε n hn => ?_⟩
  have hR : 0 ≤ R := by
    have := absDiff_nonneg (F 1) (nL 1 + (d : Rat) / 2 * logn 1)
    have := h_expansion 1 (Nat.le_refl 1)
    grind
  have hRε : 0 ≤ R / ε := by
    refine Rat.not_lt.mp fun hneg => ?_
    have := (Rat.div_lt_iff hε).mp hneg
    grind
  have hn1 : 1 ≤ n := by
    have := lt_rateN (R / ε)
    have : (0 : Rat) < rateN (R / ε) := by grind
    have := Rat.natCast_pos.mp this
    omega
  have hRn : R / ε ≤ (n : Rat) := le_of_rateN_le hn
  have hmul : R ≤ ε * n := by
    have := Rat.mul_le_mul_of_nonneg_left hRn (Rat.le_of_lt hε)
    have hh : ε * (R / ε) = R := by
      rw [Rat.mul_comm]; exact Rat.div_mul_cancel (by grind)
    grind
  have := hbic n hn1
  grind

/-- Non-vacuity: a regular model with `d = 4` parameters (`λ = 2`), summed loss `n L_n = n`,
`log n` taken as `3`, and a free energy `F n = n + 2 · 3 + 1/2` that is `1/2` from the
expansion; the theorem then puts BIC within `1/2` of it for every `n ≥ 1`. -/
theorem bic_free_energy_nonvacuous :
    ∀ n : Nat, 1 ≤ n → absDiff ((n : Rat) + 2 * 3 + 1 / 2) (bic (n : Rat) 4 3) ≤ 1 / 2 :=
  (bic_free_energy (fun n => (n : Rat) + 2 * 3 + 1 / 2) (fun n => (n : Rat)) (fun _ => 3)
    2 (1 / 2) 4
    (by intro n _; unfold absDiff; grind)
    (by grind)).1

end Formal.LLC

end
end
