/-
Core-Lean tasks of the shipped A/B suite (no Mathlib). Each theorem is one task: its
statement is pinned, its proof is the hidden reference (never shown to a drafter).
A doc comment `difficulty: N` grades it (1 easy … 4 hard). tests/ab checks every reference
proof with the real Lean in one run. Task id: `core:<theorem name>`.
-/

/-- difficulty: 1 -/
theorem ab_add_zero : ∀ n : Nat, n + 0 = n := by
  intro n; rfl

/-- difficulty: 1 -/
theorem ab_zero_add : ∀ n : Nat, 0 + n = n := by
  intro n; simp

/-- difficulty: 1 -/
theorem ab_add_comm : ∀ a b : Nat, a + b = b + a := by
  intro a b; omega

/-- difficulty: 1 -/
theorem ab_two_mul : ∀ n : Nat, 2 * n = n + n := by
  intro n; omega

/-- difficulty: 1 -/
theorem ab_succ_pos : ∀ n : Nat, 0 < n + 1 := by
  intro n; omega

/-- difficulty: 1 -/
theorem ab_le_refl : ∀ n : Nat, n ≤ n := by
  intro n; omega

/-- difficulty: 2 -/
theorem ab_le_trans : ∀ a b c : Nat, a ≤ b → b ≤ c → a ≤ c := by
  intro a b c h₁ h₂; omega

/-- difficulty: 2 -/
theorem ab_max_ge_left : ∀ a b : Nat, a ≤ max a b := by
  intro a b; omega

/-- difficulty: 2 -/
theorem ab_min_le_right : ∀ a b : Nat, min a b ≤ b := by
  intro a b; omega

/-- difficulty: 2 -/
theorem ab_sub_add : ∀ a b : Nat, b ≤ a → a - b + b = a := by
  intro a b h; omega

/-- difficulty: 2 -/
theorem ab_mul_comm : ∀ a b : Nat, a * b = b * a := by
  intro a b; exact Nat.mul_comm a b

/-- difficulty: 2 -/
theorem ab_int_abs_nonneg : ∀ z : Int, 0 ≤ z.natAbs := by
  intro z; omega

/-- difficulty: 2 -/
theorem ab_int_neg_neg : ∀ z : Int, - -z = z := by
  intro z; omega

/-- difficulty: 2 -/
theorem ab_even_or_odd : ∀ n : Nat, n % 2 = 0 ∨ n % 2 = 1 := by
  intro n; omega

/-- difficulty: 2 -/
theorem ab_lt_irrefl : ∀ n : Nat, ¬ n < n := by
  intro n; omega

/-- difficulty: 1 -/
theorem ab_list_length_nil : ([] : List Nat).length = 0 := by
  rfl

/-- difficulty: 2 -/
theorem ab_list_length_append : ∀ xs ys : List Nat, (xs ++ ys).length = xs.length + ys.length := by
  intro xs ys; simp

/-- difficulty: 2 -/
theorem ab_list_append_nil : ∀ xs : List Nat, xs ++ [] = xs := by
  intro xs; simp

/-- difficulty: 2 -/
theorem ab_list_reverse_reverse : ∀ xs : List Nat, xs.reverse.reverse = xs := by
  intro xs; simp

/-- difficulty: 2 -/
theorem ab_list_map_length : ∀ xs : List Nat, (xs.map (· + 1)).length = xs.length := by
  intro xs; simp

/-- difficulty: 3 -/
theorem ab_list_length_reverse : ∀ xs : List Nat, xs.reverse.length = xs.length := by
  intro xs; simp

/-- difficulty: 3 -/
theorem ab_list_mem_append : ∀ (x : Nat) (xs ys : List Nat), x ∈ xs → x ∈ xs ++ ys := by
  intro x xs ys h; simp [h]

/-- difficulty: 3 -/
theorem ab_list_sum_replicate : ∀ n : Nat, (List.replicate n 1).foldr (· + ·) 0 = n := by
  intro n; induction n with
  | zero => rfl
  | succ k ih => simp [List.replicate_succ, ih]; omega

/-- difficulty: 3 -/
theorem ab_induction_sum_double : ∀ n : Nat, (List.range n).foldr (fun _ acc => acc + 2) 0 = 2 * n := by
  intro n; induction n with
  | zero => rfl
  | succ k ih => simp [List.range_succ, List.foldr_append, ih]; omega

/-- difficulty: 3 -/
theorem ab_induction_pow_pos : ∀ n : Nat, 0 < 2 ^ n := by
  intro n; induction n with
  | zero => decide
  | succ k ih => rw [Nat.pow_succ]; omega

/-- difficulty: 3 -/
theorem ab_induction_le_pow : ∀ n : Nat, n < 2 ^ n := by
  intro n; induction n with
  | zero => decide
  | succ k ih => rw [Nat.pow_succ]; omega

/-- difficulty: 3 -/
theorem ab_mul_le_mul : ∀ a b c : Nat, a ≤ b → c * a ≤ c * b := by
  intro a b c h; exact Nat.mul_le_mul_left c h

/-- difficulty: 2 -/
theorem ab_rat_add_comm : ∀ x y : Rat, x + y = y + x := by
  intro x y; grind

/-- difficulty: 2 -/
theorem ab_rat_le_refl : ∀ x : Rat, x ≤ x := by
  intro x; grind

/-- difficulty: 3 -/
theorem ab_rat_le_trans : ∀ x y z : Rat, x ≤ y → y ≤ z → x ≤ z := by
  intro x y z h₁ h₂; grind

/-- difficulty: 3 -/
theorem ab_rat_add_le_add : ∀ a b c d : Rat, a ≤ b → c ≤ d → a + c ≤ b + d := by
  intro a b c d h₁ h₂; grind

/-- difficulty: 3 -/
theorem ab_rat_half_between : ∀ x y : Rat, x < y → x < (x + y) / 2 := by
  intro x y h; grind

/-- difficulty: 4 -/
theorem ab_rat_convex : ∀ p x y : Rat, 0 ≤ p → p ≤ 1 → x ≤ y → p * x + (1 - p) * y ≤ y := by
  intro p x y h₀ h₁ hxy
  have : p * x ≤ p * y := Rat.mul_le_mul_of_nonneg_left hxy h₀
  grind

/-- difficulty: 4 -/
theorem ab_rat_sq_nonneg_sum : ∀ a b : Rat, 0 ≤ a → 0 ≤ b → 0 ≤ a * b + a := by
  intro a b ha hb
  have : 0 ≤ a * b := Rat.mul_nonneg ha hb
  grind
