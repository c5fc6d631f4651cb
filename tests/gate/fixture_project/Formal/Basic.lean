module

public section
noncomputable section

namespace Formal.Basic

/-- Doubling a natural number. -/
@[expose] def double (n : Nat) : Nat := n + n

/-- Doubling is multiplication by two (for small numbers, to have a hypothesis). -/
theorem double_eq (n : Nat) (h_small : n < 100) : double n = 2 * n := by
  have _ := h_small
  unfold double; omega

/-- The hypothesis can hold: the theorem applies to 3. -/
theorem double_eq_nonvacuous : double 3 = 2 * 3 := double_eq 3 (by decide)

end Formal.Basic
end
end
