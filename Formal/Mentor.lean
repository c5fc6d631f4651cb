module

/-!
# Asking a mentor for help with a finite hypothesis class

Plaut, Zhu, Russell, *Avoiding catastrophe in online learning by asking for help* (2025),
in the realizable finite-class setting of KWIK learning (Li, Littman, Walsh 2008): an agent
that acts only when every hypothesis consistent with what it has seen agrees, and asks the
mentor otherwise, never takes an action the mentor would not take, and asks at most
`|H| - 1` times.
-/

public section
noncomputable section

namespace Formal.Mentor

variable {X A : Type} [DecidableEq A]

/-- The agent's decision on input `x` with version space `V`: `some a` acts with `a` when
every hypothesis in `V` agrees on `a`; `none` asks the mentor. -/
@[expose] def decide? (V : List (X → A)) (x : X) : Option A :=
  match V with
  | [] => none
  | h :: _ => if ∀ g ∈ V, g x = h x then some (h x) else none

/-- The agent's decisions on a stream of inputs. After a query it keeps only the
hypotheses that agree with the mentor's answer. -/
@[expose] def run (mentor : X → A) : List (X → A) → List X → List (Option A)
  | _, [] => []
  | V, x :: xs =>
    match decide? V x with
    | some a => some a :: run mentor V xs
    | none => none :: run mentor (V.filter (fun g => decide (g x = mentor x))) xs

theorem decide?_eq_some {V : List (X → A)} {x : X} {a : A} (mentor : X → A)
    (hm : mentor ∈ V) (h : decide? V x = some a) : a = mentor x := by
  match V, hm, h with
  | g :: gs, hm, h =>
    simp only [decide?] at h
    split at h
    · rename_i hall
      simp only [Option.some.injEq] at h
      rw [← h, hall mentor hm]
    · simp at h

theorem decide?_none_shrinks {V : List (X → A)} {x : X} (mentor : X → A)
    (hm : mentor ∈ V) (h : decide? V x = none) :
    (V.filter (fun g => decide (g x = mentor x))).length < V.length := by
  match V, hm, h with
  | g :: gs, hm, h =>
    simp only [decide?] at h
    split at h
    · simp at h
    · rename_i hall
      apply List.length_filter_lt_length_iff_exists.mpr
      simp only [Classical.not_forall] at hall
      obtain ⟨k, hk, hne⟩ := hall
      by_cases hg : g x = mentor x
      · exact ⟨k, hk, by simp; intro h'; exact hne (h'.trans hg.symm)⟩
      · exact ⟨g, by simp, by simpa using hg⟩

theorem run_correct (mentor : X → A) :
    ∀ (xs : List X) (V : List (X → A)), mentor ∈ V →
      ∀ x a, (x, some a) ∈ xs.zip (run mentor V xs) → a = mentor x := by
  intro xs
  induction xs with
  | nil => intro V _ x a h; simp [run] at h
  | cons y ys ih =>
    intro V hm x a h
    simp only [run] at h
    split at h
    · rename_i b hb
      simp only [List.zip_cons_cons, List.mem_cons, Prod.mk.injEq, Option.some.injEq] at h
      rcases h with ⟨rfl, rfl⟩ | h
      · exact decide?_eq_some mentor hm hb
      · exact ih V hm x a h
    · simp only [List.zip_cons_cons, List.mem_cons, Prod.mk.injEq, reduceCtorEq,
        and_false, false_or] at h
      exact ih _ (List.mem_filter.mpr ⟨hm, by simp⟩) x a h

theorem run_queries (mentor : X → A) :
    ∀ (xs : List X) (V : List (X → A)), mentor ∈ V →
      (run mentor V xs).count none ≤ V.length - 1 := by
  intro xs
  induction xs with
  | nil => intro V _; simp [run]
  | cons y ys ih =>
    intro V hm
    simp only [run]
    split
    · rename_i b hb
      have := ih V hm
      simpa [List.count_cons] using this
    · rename_i hb
      have hlt := decide?_none_shrinks mentor hm hb
      have := ih (V.filter (fun g => decide (g y = mentor y))) (List.mem_filter.mpr ⟨hm, by simp⟩)
      have hpos : 0 < (V.filter (fun g => decide (g y = mentor y))).length :=
        List.length_pos_of_mem (List.mem_filter.mpr ⟨hm, by simp⟩)
      simp only [List.count_cons]
      simp
      omega

/-- **Asking a mentor for help** (Plaut, Zhu, Russell 2025; KWIK learning, Li, Littman,
Walsh 2008). Let `H` be a finite hypothesis class containing the mentor's policy
(`h_realizable`). The agent acts only when all hypotheses consistent with the mentor's
answers so far agree, and asks the mentor otherwise. Then on every input stream `xs`:
every action the agent takes without asking is the mentor's action, and it asks at most
`|H| - 1` times, however long the stream. -/
theorem mentor_queries (H : List (X → A)) (mentor : X → A) (xs : List X)
    (h_realizable : mentor ∈ H) :
    (∀ x a, (x, some a) ∈ xs.zip (run mentor H xs) → a = mentor x) ∧
    (run mentor H xs).count none ≤ H.length - 1 :=
  ⟨run_correct mentor xs H h_realizable, run_queries mentor xs H h_realizable⟩

/-- Non-vacuity: three threshold classifiers on `Nat` with the mentor among them; on the
stream `0, 5, 1, 5, 2` the agent's unqueried actions are the mentor's and it asks at most
twice. -/
theorem mentor_queries_nonvacuous :
    let H : List (Nat → Bool) := [fun n => decide (1 ≤ n), fun n => decide (2 ≤ n),
      fun n => decide (3 ≤ n)]
    (∀ x a, (x, some a) ∈ [0, 5, 1, 5, 2].zip (run (fun n => decide (2 ≤ n)) H [0, 5, 1, 5, 2]) →
        a = decide (2 ≤ x)) ∧
      (run (fun n => decide (2 ≤ n)) H [0, 5, 1, 5, 2]).count none ≤ 2 :=
  mentor_queries _ _ _ (by simp)

end Formal.Mentor

end
end
