module

public import Formal.Basic

/-!
# SGD convergence through Chung's lemma

Rakhlin, Shamir, Sridharan, *Making gradient descent optimal for strongly convex stochastic
optimization* (ICML 2012), Lemma 1 — the recursion of Chung (1954): for a `λ`-strongly convex
objective, stochastic gradients with second moment at most `G²`, and step sizes
`ηₜ = 1/(λ t)`, the expected squared distance `eₜ = E‖wₜ - w*‖²` satisfies
`eₜ₊₁ ≤ (1 - 2/t) eₜ + c/t²` with `c = G²/λ²`, hence `eₜ ≤ 4c/t`.
-/

public section
noncomputable section

namespace Formal.SGD

/-- One step of Chung's recursion: `t eₜ ≤ 4c` gives `(t + 1) eₜ₊₁ ≤ 4c`. -/
theorem chung_step (e : Nat → Rat) (c : Rat) (hc : 0 ≤ c) (hnn : ∀ t, 0 ≤ e t)
    (hrec : ∀ t : Nat, 1 ≤ t →
      (t : Rat) * t * e (t + 1) ≤ ((t : Rat) * t - 2 * t) * e t + c)
    (t : Nat) (ht : 1 ≤ t) (ih : e t * t ≤ 4 * c) :
    e (t + 1) * ((t + 1 : Nat) : Rat) ≤ 4 * c := by
  have hr := hrec t ht
  have hcast : ((t + 1 : Nat) : Rat) = (t : Rat) + 1 := by norm_cast
  rw [hcast]
  by_cases h1t : t = 1
  · subst h1t
    have := hnn 1
    simp at hr
    grind
  · have hs : (2 : Rat) ≤ (t : Rat) := by exact_mod_cast (show 2 ≤ t by omega)
    -- `t² e' ≤ (t - 2) (t e) + c ≤ 4 c t - 7 c`
    have hte := Rat.mul_le_mul_of_nonneg_left ih (show 0 ≤ (t : Rat) - 2 by grind)
    have h2 : (t : Rat) * t * e (t + 1) ≤ 4 * c * t - 7 * c := by grind
    -- multiply by `t + 1` and cancel `t²`
    have h3 := Rat.mul_le_mul_of_nonneg_left h2 (show 0 ≤ (t : Rat) + 1 by grind)
    have h4 : 0 ≤ c * t := Rat.mul_nonneg hc (by grind)
    have h5 : ((t : Rat) * t) * (e (t + 1) * ((t : Rat) + 1)) ≤ ((t : Rat) * t) * (4 * c) := by
      grind
    exact Rat.le_of_mul_le_mul_left h5 (Rat.mul_pos (by grind) (by grind))

/-- **Chung's lemma** in product form: from `e₁ ≤ 4c` and
`t² eₜ₊₁ ≤ (t² - 2t) eₜ + c` for `t ≥ 1`, conclude `t eₜ ≤ 4c` for every `t ≥ 1`. -/
theorem chung (e : Nat → Rat) (c : Rat) (hnn : ∀ t, 0 ≤ e t) (h1 : e 1 ≤ 4 * c)
    (hrec : ∀ t : Nat, 1 ≤ t →
      (t : Rat) * t * e (t + 1) ≤ ((t : Rat) * t - 2 * t) * e t + c) :
    ∀ t : Nat, 1 ≤ t → e t * t ≤ 4 * c := by
  have hc : 0 ≤ c := by have := hnn 1; grind
  have key : ∀ n : Nat, e (n + 1) * ((n + 1 : Nat) : Rat) ≤ 4 * c := by
    intro n
    induction n with
    | zero => simp; grind
    | succ n ih => exact chung_step e c hc hnn hrec (n + 1) (by omega) ih
  intro t ht
  obtain ⟨n, rfl⟩ : ∃ n, t = n + 1 := ⟨t - 1, by omega⟩
  exact key n

/-- The algebra turning one SGD step into Chung's recursion: with `η λ t = 1`,
`t² (e - 2ηλ e + η² c λ²) = (t² - 2t) e + c`. -/
theorem recursion_of_step (t η lam e e' c : Rat) (ht : 0 ≤ t) (hη : η * (lam * t) = 1)
    (hstep : e' ≤ e - 2 * η * (lam * e) + η ^ 2 * (c * (lam * lam))) :
    t * t * e' ≤ (t * t - 2 * t) * e + c := by
  have hsq := Rat.mul_le_mul_of_nonneg_left hstep (Rat.mul_nonneg ht ht)
  have e1 : t * t * (2 * η * (lam * e)) = 2 * t * e := by grind
  have e2 : t * t * (η ^ 2 * (c * (lam * lam))) = c := by grind
  grind

/-- **SGD converges at rate `O(1/t)` on strongly convex objectives** (Rakhlin, Shamir,
Sridharan 2012, Lemma 1, via Chung's lemma). Let `eₜ = E‖wₜ - w*‖²`. Expanding the update
`wₜ₊₁ = wₜ - ηₜ gₜ` gives `eₜ₊₁ = eₜ - 2ηₜ E⟨gₜ, wₜ - w*⟩ + ηₜ² E‖gₜ‖²` (`h_update`).
If the objective is `λ`-strongly convex, so `E⟨gₜ, wₜ - w*⟩ ≥ λ eₜ` (`h_strong_convexity`,
`h_lambda`), the stochastic gradients have second moment at most `G²`
(`h_bounded_second_moment`), the step sizes are `ηₜ = 1/(λ t)` (`h_step_size`), and the
start is within the radius strong convexity allows, `e₁ ≤ 4G²/λ²` (`h_init`), then
`eₜ ≤ 4G²/(λ² t)` for every `t ≥ 1`; explicitly, `eₜ ≤ ε` for all `t ≥ N(ε)` with
`N(ε) = ⌊4G²/(λ² ε)⌋ + 1`. -/
theorem sgd_convergence_rate (e inner gradSq η : Nat → Rat) (lam G2 : Rat)
    (h_update : ∀ t : Nat, 1 ≤ t → e (t + 1) = e t - 2 * η t * inner t + η t ^ 2 * gradSq t)
    (h_strong_convexity : ∀ t : Nat, 1 ≤ t → lam * e t ≤ inner t)
    (h_lambda : 0 < lam)
    (h_bounded_second_moment : ∀ t : Nat, 1 ≤ t → gradSq t ≤ G2)
    (h_step_size : ∀ t : Nat, 1 ≤ t → η t = 1 / (lam * t))
    (h_nonneg : ∀ t, 0 ≤ e t)
    (h_init : e 1 ≤ 4 * G2 / lam ^ 2) :
    (∀ t : Nat, 1 ≤ t → e t ≤ 4 * G2 / lam ^ 2 / t) ∧
    (∀ ε : Rat, 0 < ε → ∀ t : Nat, rateN (4 * G2 / lam ^ 2 / ε) ≤ t → e t ≤ ε) := by
  have hl2 : 0 < lam ^ 2 := Rat.pow_pos h_lambda
  have hcl : G2 / lam ^ 2 * lam ^ 2 = G2 := Rat.div_mul_cancel (by grind)
  have hmain : ∀ t : Nat, 1 ≤ t → e t * t ≤ 4 * (G2 / lam ^ 2) := by
    apply chung e (G2 / lam ^ 2) h_nonneg (by grind)
    intro t ht
    have hs : (1 : Rat) ≤ t := by exact_mod_cast ht
    have hη : η t * (lam * t) = 1 := by
      rw [h_step_size t ht]; exact Rat.div_mul_cancel (by grind)
    have hηnn : 0 ≤ η t := by
      refine Rat.not_lt.mp fun hneg => ?_
      have := Rat.mul_le_mul_of_nonneg_left (Rat.le_of_lt hneg)
        (Rat.le_of_lt (Rat.mul_pos h_lambda (show (0 : Rat) < t by grind)))
      grind
    have hsc := Rat.mul_le_mul_of_nonneg_left (h_strong_convexity t ht)
      (show 0 ≤ 2 * η t by grind)
    have hbm := Rat.mul_le_mul_of_nonneg_left (h_bounded_second_moment t ht)
      (Rat.pow_nonneg hηnn : 0 ≤ η t ^ 2)
    have hstep : e (t + 1) ≤ e t - 2 * η t * (lam * e t) + η t ^ 2 * G2 := by
      rw [h_update t ht]; grind
    have hG : G2 = G2 / lam ^ 2 * (lam * lam) := by grind
    rw [hG] at hstep
    exact recursion_of_step (t : Rat) (η t) lam (e t) (e (t + 1)) (G2 / lam ^ 2)
      (by grind) hη hstep
  have hbound : ∀ t : Nat, 1 ≤ t → e t ≤ 4 * G2 / lam ^ 2 / t := by
    intro t ht
    apply le_div_of_mul_le (show (0 : Rat) < t by exact_mod_cast ht)
    have := hmain t ht
    have : 4 * (G2 / lam ^ 2) = 4 * G2 / lam ^ 2 := by grind [Rat.div_def]
    grind
  refine ⟨hbound, fun ε hε t ht => ?_⟩
  have hC : 0 ≤ 4 * G2 / lam ^ 2 := by have := h_nonneg 1; grind
  have hCt : 4 * G2 / lam ^ 2 / ε ≤ (t : Rat) := le_of_rateN_le ht
  have hCε : 0 ≤ 4 * G2 / lam ^ 2 / ε := by
    refine Rat.not_lt.mp fun hneg => ?_
    have := (Rat.div_lt_iff hε).mp hneg
    grind
  have ht0 : 0 < t := by
    have := lt_rateN (4 * G2 / lam ^ 2 / ε)
    have : (0 : Rat) < rateN (4 * G2 / lam ^ 2 / ε) := by grind
    have := Rat.natCast_pos.mp this
    omega
  have hb := hbound t ht0
  have htpos : (0 : Rat) < t := by exact_mod_cast ht0
  have : 4 * G2 / lam ^ 2 ≤ ε * t := by
    have := Rat.mul_le_mul_of_nonneg_left hCt (Rat.le_of_lt hε)
    have hh : ε * (4 * G2 / lam ^ 2 / ε) = 4 * G2 / lam ^ 2 := by
      rw [Rat.mul_comm]; exact Rat.div_mul_cancel (by grind)
    grind
  have := div_le_of_le_mul htpos (show 4 * G2 / lam ^ 2 ≤ ε * t from this)
  grind

/-- Non-vacuity: every hypothesis of `sgd_convergence_rate` holds together for the
sequence `eₜ = 1/t` with `λ = 1`, `G² = 2`, steps `ηₜ = 1/t`, `E⟨gₜ, wₜ - w*⟩ = λ eₜ`, and
gradient second moments `(t + 2)/(t + 1) ≤ 2` chosen so that the update identity holds
exactly; the theorem then gives `1/t ≤ 8/t`. -/
theorem sgd_convergence_rate_nonvacuous :
    ∀ t : Nat, 1 ≤ t → 1 / (t : Rat) ≤ 4 * 2 / 1 ^ 2 / t :=
  (sgd_convergence_rate (fun t => 1 / (t : Rat)) (fun t => 1 / (t : Rat))
    (fun t => ((t : Rat) + 2) / (t + 1)) (fun t => 1 / (1 * (t : Rat))) 1 2
    (by
      intro t ht
      have hs : (1 : Rat) ≤ t := by exact_mod_cast ht
      have hc : ((t + 1 : Nat) : Rat) = (t : Rat) + 1 := by norm_cast
      simp only [hc, Rat.one_mul]
      have a1 : (1 : Rat) / t * t = 1 := Rat.div_mul_cancel (by grind)
      have a2 : (1 : Rat) / (t + 1) * (t + 1) = 1 := Rat.div_mul_cancel (by grind)
      have a3 : ((t : Rat) + 2) / (t + 1) * (t + 1) = t + 2 := Rat.div_mul_cancel (by grind)
      grind)
    (by intro t _; grind)
    (by grind)
    (by
      intro t _
      have hs : (0 : Rat) ≤ t := by exact_mod_cast Nat.zero_le t
      apply div_le_of_le_mul (show (0 : Rat) < t + 1 by grind)
      grind)
    (by intro t _; rfl)
    (fun t => one_div_natCast_nonneg t)
    (by simp; grind)).1

end Formal.SGD

end
end
