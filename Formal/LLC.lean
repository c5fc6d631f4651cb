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

Exact regularity, `λ = d/2`, is an equality of reals that no finite run can confirm, so the
theorem takes a tolerance instead: `|λ − d/2| ≤ δ`, which an LLC estimate can test, and pays
for it with a `δ · log n` term in the conclusion (unbounded in `n`: the tolerance is not free).

The logarithm is kept as a number `logn n` (core Lean has no real logarithm); the theorem
holds for any non-negative values it takes.
-/

public section
noncomputable section

namespace Formal.LLC

/-- The Bayesian information criterion `n L_n(ŵ) + (d/2) log n` of a model with `d`
parameters, given the summed loss `nL = n L_n(ŵ)` and the value `logn` of `log n`. -/
@[expose] def bic (nL : Rat) (d : Nat) (logn : Rat) : Rat := nL + (d : Rat) / 2 * logn

/-- **BIC approximates the free energy of a nearly regular model** (Schwarz 1978; Watanabe
2009, Thm 6.7), in a form whose regularity hypothesis data can test. If the free energy `F n`
of `n` samples is within `R` of `n L_n + λ log n` (`h_expansion`, the asymptotic expansion
with its remainder bounded by `R`), `logn n ≥ 0` for `n ≥ 1` (`h_log`, it stands for `log n`),
and the learning coefficient is within `δ` of half the parameter count
(`h_regular : |λ − d/2| ≤ δ`; `δ = 0` is the exactly regular case), then BIC is within
`R + δ · log n` of the free energy for every `n ≥ 1`, and within `ε n + δ · log n` from
`n ≥ N(R/ε) = ⌊R/ε⌋ + 1` on. The `δ · log n` term is the price of a tolerance: it grows
without bound, so a singular model with `d/2 − λ = δ > 0` is not certified to within a
constant. -/
theorem bic_free_energy (F nL logn : Nat → Rat) (lam R δ : Rat) (d : Nat)
    (h_expansion : ∀ n : Nat, 1 ≤ n → absDiff (F n) (nL n + lam * logn n) ≤ R)
    (h_log : ∀ n : Nat, 1 ≤ n → 0 ≤ logn n)
    (h_regular : absDiff lam ((d : Rat) / 2) ≤ δ) :
    (∀ n : Nat, 1 ≤ n → absDiff (F n) (bic (nL n) d (logn n)) ≤ R + δ * logn n) ∧
    (∀ ε : Rat, 0 < ε → ∀ n : Nat, rateN (R / ε) ≤ n →
      absDiff (F n) (bic (nL n) d (logn n)) ≤ ε * n + δ * logn n) := by
  have hbic : ∀ n : Nat, 1 ≤ n →
      absDiff (F n) (bic (nL n) d (logn n)) ≤ R + δ * logn n := by
    intro n hn
    have he := h_expansion n hn
    have hL := h_log n hn
    unfold absDiff at h_regular he ⊢
    unfold bic
    have h1 : lam - (d : Rat) / 2 ≤ δ := by grind
    have h2 : (d : Rat) / 2 - lam ≤ δ := by grind
    have m1 := Rat.mul_le_mul_of_nonneg_right h1 hL
    have m2 := Rat.mul_le_mul_of_nonneg_right h2 hL
    have e1 : (lam - (d : Rat) / 2) * logn n = lam * logn n - (d : Rat) / 2 * logn n := by
      grind
    have e2 : ((d : Rat) / 2 - lam) * logn n = (d : Rat) / 2 * logn n - lam * logn n := by
      grind
    rw [e1] at m1
    rw [e2] at m2
    generalize lam * logn n = a at *
    generalize (d : Rat) / 2 * logn n = b at *
    generalize δ * logn n = c at *
    grind
  refine ⟨hbic, fun ε hε n hn => ?_⟩
  have hR : 0 ≤ R := by
    have := absDiff_nonneg (F 1) (nL 1 + lam * logn 1)
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

/-- Non-vacuity: a slightly singular model with `d = 4` parameters and `λ = 19/10`, within
`δ = 1/10` of `d/2 = 2`; summed loss `n L_n = n`, `log n` taken as `3`, and a free energy
`F n = n + (19/10) · 3 + 1/2` that is `1/2` from the expansion. The theorem then puts BIC
within `1/2 + (1/10) · 3` of it for every `n ≥ 1`. -/
theorem bic_free_energy_nonvacuous :
    ∀ n : Nat, 1 ≤ n →
      absDiff ((n : Rat) + 19 / 10 * 3 + 1 / 2) (bic (n : Rat) 4 3) ≤ 1 / 2 + 1 / 10 * 3 :=
  (bic_free_energy (fun n => (n : Rat) + 19 / 10 * 3 + 1 / 2) (fun n => (n : Rat))
    (fun _ => 3) (19 / 10) (1 / 2) (1 / 10) 4
    (by intro n _; unfold absDiff; grind)
    (by intro n _; grind)
    (by unfold absDiff; grind)).1

end Formal.LLC

end
end
