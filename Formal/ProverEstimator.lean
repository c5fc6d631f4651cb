module

public import Formal.Basic

/-!
# Error composition in prover–estimator debate

Brown-Cohen, Irving, Piliouras, *Avoiding obfuscation with prover-estimator debate* (2025):
the estimator's errors on subclaims propagate to the root claim through the nodes of the
argument; when every node is stable (non-expansive), the root error is at most the largest
leaf error. Products are not stable, which is why the protocol needs the stability
assumption.
-/

public section
noncomputable section

namespace Formal.ProverEstimator

/-- A node's combining function is *stable* (non-expansive, 1-Lipschitz in the max norm):
moving its two inputs by at most `δ` moves its output by at most `δ`. -/
@[expose] def Stable (f : Rat → Rat → Rat) : Prop :=
  ∀ a b a' b', absDiff (f a b) (f a' b') ≤ max (absDiff a a') (absDiff b b')

/-- An argument as a circuit: leaves are subclaims (ids), nodes combine the values of their
two children. -/
inductive Circuit where
  | leaf (i : Nat)
  | node (f : Rat → Rat → Rat) (l r : Circuit)

namespace Circuit

/-- The value at the root given the values of the leaves. -/
@[expose] def eval (v : Nat → Rat) : Circuit → Rat
  | leaf i => v i
  | node f l r => f (eval v l) (eval v r)

/-- The subclaims at the leaves. -/
@[expose] def leaves : Circuit → List Nat
  | leaf i => [i]
  | node _ l r => leaves l ++ leaves r

/-- Every node of the circuit is stable. -/
@[expose] def AllStable : Circuit → Prop
  | leaf _ => True
  | node f l r => Stable f ∧ AllStable l ∧ AllStable r

end Circuit

open Circuit

/-- **Error composition** (Brown-Cohen, Irving, Piliouras 2025, *Avoiding obfuscation with
prover-estimator debate*). If every node of the argument is stable (`h_stable`) and the
estimator is within `δ` of the truth at every leaf subclaim (`h_leaf_error`), then its
estimate of the root claim is within `δ` of the truth: errors do not amplify. -/
theorem error_composition (c : Circuit) (exact estimate : Nat → Rat) (δ : Rat)
    (h_stable : c.AllStable)
    (h_leaf_error : ∀ i ∈ c.leaves, absDiff (estimate i) (exact i) ≤ δ) :
    absDiff (c.eval estimate) (c.eval exact) ≤ δ := by
  induction c with
  | leaf i => exact h_leaf_error i (by simp [leaves])
  | node f l r ihl ihr =>
    obtain ⟨hf, hl, hr⟩ := h_stable
    have el := ihl hl (fun i hi => h_leaf_error i (by simp [leaves, hi]))
    have er := ihr hr (fun i hi => h_leaf_error i (by simp [leaves, hi]))
    have := hf (l.eval estimate) (r.eval estimate) (l.eval exact) (r.eval exact)
    simp only [eval]
    grind

/-- A product node is not stable: moving both inputs of `a * b` from `1` to `2` (by `1`)
moves the output from `1` to `4` (by `3`). The arithmetic is checked by `decide`. -/
theorem product_not_stable : ¬ Stable (fun a b => a * b) := by
  intro h
  have h1 := h 2 2 1 1
  have h2 : ¬ (absDiff (2 * 2) (1 * 1) ≤ max (absDiff 2 1) (absDiff 2 1)) := by decide +kernel
  exact h2 h1

theorem absDiff_le {a b d : Rat} (h₁ : a - b ≤ d) (h₂ : b - a ≤ d) : absDiff a b ≤ d := by
  unfold absDiff; grind

theorem sub_le_absDiff (a b : Rat) : a - b ≤ absDiff a b ∧ b - a ≤ absDiff a b := by
  unfold absDiff; grind

/-- The four one-sided input moves are bounded by the max-norm distance of the inputs. -/
theorem moves_le (a b a' b' : Rat) :
    a - a' ≤ max (absDiff a a') (absDiff b b') ∧ a' - a ≤ max (absDiff a a') (absDiff b b') ∧
    b - b' ≤ max (absDiff a a') (absDiff b b') ∧ b' - b ≤ max (absDiff a a') (absDiff b b') := by
  have := sub_le_absDiff a a'
  have := sub_le_absDiff b b'
  grind

theorem average_stable : Stable (fun a b => (a + b) / 2) := by
  intro a b a' b'
  have h := moves_le a b a' b'
  generalize max (absDiff a a') (absDiff b b') = M at *
  exact absDiff_le (by grind) (by grind)

theorem max_stable : Stable (fun a b => max a b) := by
  intro a b a' b'
  have h := moves_le a b a' b'
  generalize max (absDiff a a') (absDiff b b') = M at *
  exact absDiff_le (by grind) (by grind)

/-- Non-vacuity: the circuit `average (max x₀ x₁) x₂` has stable nodes, the estimator is off
by exactly `1/10` at every leaf, and the root estimate is then within `1/10`. -/
theorem error_composition_nonvacuous :
    absDiff ((node (fun a b => (a + b) / 2) (node (fun a b => max a b) (leaf 0) (leaf 1))
        (leaf 2)).eval (fun i => (i : Rat) + 1 / 10))
      ((node (fun a b => (a + b) / 2) (node (fun a b => max a b) (leaf 0) (leaf 1))
        (leaf 2)).eval (fun i => (i : Rat))) ≤ 1 / 10 :=
  error_composition _ (fun i => (i : Rat)) (fun i => (i : Rat) + 1 / 10) (1 / 10)
    ⟨average_stable, ⟨max_stable, trivial, trivial⟩, trivial⟩
    (fun i _ => absDiff_le (by grind) (by grind))

end Formal.ProverEstimator

end
end
