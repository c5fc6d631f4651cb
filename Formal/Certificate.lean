module

public import Formal.Basic

/-!
# A zero-failure safety certificate

Thomas, Castro da Silva, Barto, Giguere, Brun, Brunskill, *Preventing undesirable behavior
of intelligent machines*, Science 366 (2019) — the Seldonian high-confidence test in its
simplest form: if a system is unsafe at rate `p ≥ 1/m`, then `n ≥ j·m` independent trials
all pass with probability at most `2^-j`. Contrapositively, zero failures in `j·m` trials
certify `p < 1/m` at confidence `1 - 2^-j`.
-/

public section
noncomputable section

namespace Formal.Certificate

/-- The probability that independent trials with failure probabilities `qs` all pass. -/
@[expose] def allPass (qs : List Rat) : Rat := listProd (qs.map (fun q => 1 - q))

/-- The Bernoulli-type step: `k` trials, each failing with probability `p ∈ [0, 1]`, all pass
with probability at most `1 / (1 + k p)`, in the product form `(1 - p)^k (1 + k p) ≤ 1`. -/
theorem allPass_mul_le (p : Rat) (hp0 : 0 ≤ p) (hp1 : p ≤ 1) :
    ∀ qs : List Rat, (∀ q ∈ qs, q = p) → allPass qs * (1 + qs.length * p) ≤ 1 := by
  intro qs
  induction qs with
  | nil => intro _; simp only [allPass, List.map_nil, listProd, List.length_nil]; grind
  | cons q qs ih =>
    intro h
    have hq : q = p := h q (by simp)
    have ih' := ih (fun x hx => h x (by simp [hx]))
    have hnn : 0 ≤ allPass qs :=
      listProd_nonneg (by
        intro x hx
        simp only [List.mem_map] at hx
        obtain ⟨y, hy, rfl⟩ := hx
        have := h y (by simp [hy]); grind)
    simp only [allPass, List.map_cons, listProd] at ih' hnn ⊢
    subst hq
    -- (1 - q)(1 + (k+1) q) = 1 + k q - (k+1) q² ≤ 1 + k q
    have hk : (0 : Rat) ≤ (qs.length : Rat) := by exact_mod_cast Nat.zero_le _
    have hsq : 0 ≤ ((qs.length : Rat) + 1) * (q * q) :=
      Rat.mul_nonneg (by grind) (Rat.mul_nonneg hp0 hp0)
    have hstep : (1 - q) * (1 + ((qs.length : Rat) + 1) * q) ≤ 1 + (qs.length : Rat) * q := by
      grind
    have := Rat.mul_le_mul_of_nonneg_left hstep hnn
    have hc : ((qs.length + 1 : Nat) : Rat) = (qs.length : Rat) + 1 := by norm_cast
    simp only [List.length_cons, hc]
    grind

theorem allPass_nonneg {qs : List Rat} (h : ∀ q ∈ qs, 0 ≤ q ∧ q ≤ 1) : 0 ≤ allPass qs :=
  listProd_nonneg (by
    intro x hx
    simp only [List.mem_map] at hx
    obtain ⟨y, hy, rfl⟩ := hx
    have := h y hy; grind)

theorem allPass_le_one {qs : List Rat} (h : ∀ q ∈ qs, 0 ≤ q ∧ q ≤ 1) : allPass qs ≤ 1 :=
  listProd_le_one (by
    intro x hx
    simp only [List.mem_map] at hx
    obtain ⟨y, hy, rfl⟩ := hx
    have := h y hy; grind)

theorem allPass_append (l₁ l₂ : List Rat) : allPass (l₁ ++ l₂) = allPass l₁ * allPass l₂ := by
  simp [allPass, listProd_append]

/-- Blocks of `m` trials at rate `p ≥ 1/m` halve the pass probability: `j·m` or more trials
all pass with probability at most `1 / 2^j`, in the product form `allPass qs * 2^j ≤ 1`. -/
theorem allPass_mul_pow_le (p : Rat) (m : Nat) (hm : 0 < m) (hp : 1 / (m : Rat) ≤ p)
    (hp1 : p ≤ 1) : ∀ (j : Nat) (qs : List Rat), (∀ q ∈ qs, q = p) → j * m ≤ qs.length →
      allPass qs * 2 ^ j ≤ 1 := by
  have hm' : (0 : Rat) < (m : Rat) := by exact_mod_cast hm
  have hmp : 1 ≤ (m : Rat) * p := by
    have := Rat.mul_le_mul_of_nonneg_left hp (Rat.le_of_lt hm')
    have h1 : (m : Rat) * (1 / (m : Rat)) = 1 := by
      rw [Rat.mul_comm]; exact Rat.div_mul_cancel (by grind)
    grind
  have hp0 : 0 ≤ p := by
    refine Rat.not_lt.mp fun hneg => ?_
    have := Rat.mul_le_mul_of_nonneg_left (Rat.le_of_lt hneg) (Rat.le_of_lt hm')
    grind
  intro j
  induction j with
  | zero =>
    intro qs h _
    have := allPass_le_one (qs := qs) (fun q hq => by rw [h q hq]; exact ⟨hp0, hp1⟩)
    rw [Rat.pow_zero]
    grind
  | succ j ih =>
    intro qs h hlen
    have hsplit : qs = qs.take m ++ qs.drop m := (List.take_append_drop m qs).symm
    have hall : ∀ q ∈ qs, 0 ≤ q ∧ q ≤ 1 := fun q hq => by rw [h q hq]; exact ⟨hp0, hp1⟩
    have htake : ∀ q ∈ qs.take m, q = p := fun q hq => h q (List.mem_of_mem_take hq)
    have hdrop : ∀ q ∈ qs.drop m, q = p := fun q hq => h q (List.mem_of_mem_drop hq)
    have hlt : (qs.take m).length = m := by simp; rw [Nat.succ_mul] at hlen; omega
    have hdl : j * m ≤ (qs.drop m).length := by simp; rw [Nat.succ_mul] at hlen; omega
    have h1 := allPass_mul_le p hp0 hp1 (qs.take m) htake
    rw [hlt] at h1
    have h2 := ih (qs.drop m) hdrop hdl
    have hn1 : 0 ≤ allPass (qs.take m) :=
      allPass_nonneg (fun q hq => hall q (List.mem_of_mem_take hq))
    have hpow : (0 : Rat) < 2 ^ j := Rat.pow_pos (by grind)
    have hn2 : 0 ≤ allPass (qs.drop m) * 2 ^ j :=
      Rat.mul_nonneg (allPass_nonneg (fun q hq => hall q (List.mem_of_mem_drop hq)))
        (Rat.le_of_lt hpow)
    -- the first block passes with probability at most 1/2
    have hhalf : allPass (qs.take m) * 2 ≤ 1 := by
      have : allPass (qs.take m) * 2 ≤ allPass (qs.take m) * (1 + (m : Rat) * p) :=
        Rat.mul_le_mul_of_nonneg_left (by grind) hn1
      grind
    have hprod := Rat.mul_le_mul_of_nonneg_right hhalf hn2
    rw [hsplit, allPass_append, Rat.pow_succ]
    grind

/-- **Zero-failure safety certificate** (Thomas et al. 2019, *Preventing undesirable behavior
of intelligent machines*, Science 366; the Seldonian high-confidence test). Trials fail with
probabilities `qs`. If the trials are independent, so that all pass with probability
`allPass qs = ∏ (1 - qᵢ)` (`h_independent`), each trial is drawn from the deployment
distribution, whose unsafe rate is `p` (`h_same_distribution`), that rate is at least `1/m`
(`h_unsafe`), and there are at least `j·m` trials (`h_trials`), then zero failures happen
with probability at most `2^-j`. -/
theorem zero_failure_certificate (qs : List Rat) (p passProb : Rat) (m j : Nat)
    (h_independent : passProb = allPass qs)
    (h_same_distribution : ∀ q ∈ qs, q = p)
    (h_rate_m : 0 < m)
    (h_unsafe : 1 / (m : Rat) ≤ p)
    (h_probability : p ≤ 1)
    (h_trials : j * m ≤ qs.length) :
    passProb ≤ 1 / 2 ^ j := by
  rw [h_independent]
  exact le_div_of_mul_le (Rat.pow_pos (by grind))
    (allPass_mul_pow_le p m h_rate_m h_unsafe h_probability j qs h_same_distribution h_trials)

/-- Non-vacuity: 6 independent trials from a deployment distribution with unsafe rate
`1/3 ≥ 1/3` (so `m = 3`, `j = 2`) all pass with probability `(2/3)^6 ≤ 1/4`. -/
theorem zero_failure_certificate_nonvacuous :
    allPass [1/3, 1/3, 1/3, 1/3, 1/3, 1/3] ≤ 1 / 2 ^ 2 :=
  zero_failure_certificate [1/3, 1/3, 1/3, 1/3, 1/3, 1/3] (1/3)
    (allPass [1/3, 1/3, 1/3, 1/3, 1/3, 1/3]) 3 2 rfl (by intro q hq; simp at hq; exact hq)
    (by decide) (by grind) (by grind) (by decide)

end Formal.Certificate

end
end
