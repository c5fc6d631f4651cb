module

/-!
# Shared definitions

Small helpers used by several claims: the distance of two rationals, a product of a list
of rationals, the explicit index `rateN` at which an asymptotic rate kicks in, and a few
order lemmas about `Rat` that core Lean does not ship.
-/

public section
noncomputable section

namespace Formal

/-- The distance `|a - b|` of two rationals, written with `max` so that `grind` can reason
about it by case analysis. -/
@[expose] def absDiff (a b : Rat) : Rat := max (a - b) (b - a)

/-- The product of a list of rationals. -/
@[expose] def listProd : List Rat → Rat
  | [] => 1
  | q :: qs => q * listProd qs

/-- The explicit index `N(x) = ⌊x⌋ + 1` (as a natural number) from which on `n ≥ x`.
Asymptotic statements use it as `N` in `∀ ε > 0, ∀ n ≥ N(C / ε), …`. -/
@[expose] def rateN (x : Rat) : Nat := (x.floor + 1).toNat

theorem absDiff_nonneg (a b : Rat) : 0 ≤ absDiff a b := by
  unfold absDiff; grind

theorem absDiff_self (a : Rat) : absDiff a a = 0 := by
  unfold absDiff; grind

theorem lt_rateN (x : Rat) : x < (rateN x : Rat) := by
  have h := Rat.lt_floor_add_one x
  unfold rateN
  have h1 : ((x.floor + 1 : Int) : Rat) ≤ (((x.floor + 1).toNat : Nat) : Int) :=
    Rat.intCast_le_intCast.mpr (Int.self_le_toNat _)
  have h2 : ((((x.floor + 1).toNat : Nat) : Int) : Rat) = (((x.floor + 1).toNat : Nat) : Rat) :=
    Rat.intCast_natCast _
  grind

theorem le_of_rateN_le {x : Rat} {n : Nat} (h : rateN x ≤ n) : x ≤ (n : Rat) := by
  have h1 := lt_rateN x
  have h2 : ((rateN x : Nat) : Rat) ≤ (n : Rat) := Rat.natCast_le_natCast.mpr h
  grind

/-- `a ≤ c / b` from `a * b ≤ c` when `b > 0` (core has only the strict versions). -/
theorem le_div_of_mul_le {a b c : Rat} (hb : 0 < b) (h : a * b ≤ c) : a ≤ c / b := by
  have : ¬ c / b < a := fun h' => by
    have := (Rat.div_lt_iff hb).mp h'
    grind
  grind

/-- `c / b ≤ a` from `c ≤ a * b` when `b > 0`. -/
theorem div_le_of_le_mul {a b c : Rat} (hb : 0 < b) (h : c ≤ a * b) : c / b ≤ a := by
  have : ¬ a < c / b := fun h' => by
    have := (Rat.lt_div_iff hb).mp h'
    grind
  grind

theorem one_div_pos {x : Rat} (hx : 0 < x) : 0 < 1 / x := by
  refine Rat.not_le.mp fun h => ?_
  have h1 := Rat.mul_le_mul_of_nonneg_right h (Rat.le_of_lt hx)
  have h2 : 1 / x * x = 1 := Rat.div_mul_cancel (by grind)
  grind

theorem one_div_natCast_nonneg (t : Nat) : 0 ≤ 1 / (t : Rat) := by
  cases t with
  | zero => show (0 : Rat) ≤ 1 / 0; rw [Rat.div_def, Rat.inv_zero]; grind
  | succ n => exact Rat.le_of_lt (one_div_pos (by exact_mod_cast Nat.succ_pos n))

theorem listProd_append (l₁ l₂ : List Rat) :
    listProd (l₁ ++ l₂) = listProd l₁ * listProd l₂ := by
  induction l₁ with
  | nil => simp [listProd]
  | cons q qs ih => simp only [List.cons_append, listProd, ih]; grind

theorem listProd_nonneg {l : List Rat} (h : ∀ q ∈ l, 0 ≤ q) : 0 ≤ listProd l := by
  induction l with
  | nil => show (0 : Rat) ≤ 1; grind
  | cons q qs ih =>
    simp only [listProd]
    have hq : 0 ≤ q := h q (by simp)
    have hqs : 0 ≤ listProd qs := ih (fun x hx => h x (by simp [hx]))
    exact Rat.mul_nonneg hq hqs

theorem listProd_le_one {l : List Rat} (h : ∀ q ∈ l, 0 ≤ q ∧ q ≤ 1) : listProd l ≤ 1 := by
  induction l with
  | nil => show (1 : Rat) ≤ 1; grind
  | cons q qs ih =>
    simp only [listProd]
    have hq := h q (by simp)
    have hqs : listProd qs ≤ 1 := ih (fun x hx => h x (by simp [hx]))
    have hnn : 0 ≤ listProd qs := listProd_nonneg (fun x hx => (h x (by simp [hx])).1)
    have : q * listProd qs ≤ q * 1 := Rat.mul_le_mul_of_nonneg_left hqs hq.1
    grind

end Formal

end
end
