module

/-!
# Debate on finite argument trees

Irving, Christiano and Amodei, *AI safety via debate* (2018), §2: with an optimal judge of
elementary claims, debate over a finite argument tree is won by the honest debater, and the
judge only ever inspects one leaf.
-/

public section
noncomputable section

namespace Formal.Debate

/-- A finite argument tree. `leaf c` is an elementary claim (id `c`) the judge can check
directly. `node q l r` is a compound claim: for `q = true` it holds when *some* child holds
(its claimant picks the child to defend); for `q = false` it holds when *every* child holds
(the opponent picks the child to attack). Finite depth is built in: trees are inductive. -/
inductive ArgTree where
  | leaf (claim : Nat)
  | node (q : Bool) (l r : ArgTree)

namespace ArgTree

/-- The truth of the claim at the root, given the truth `val` of the elementary claims. -/
@[expose] def truth (val : Nat → Bool) : ArgTree → Bool
  | leaf c => val c
  | node true l r => truth val l || truth val r
  | node false l r => truth val l && truth val r

/-- The elementary claims at the leaves. -/
@[expose] def leaves : ArgTree → List Nat
  | leaf c => [c]
  | node _ l r => leaves l ++ leaves r

/-- The number of moves on the longest path. -/
@[expose] def depth : ArgTree → Nat
  | leaf _ => 0
  | node _ l r => max (depth l) (depth r) + 1

/-- `Alternating b t`: node kinds alternate along every path, the root being an `∃`-node
exactly when `b = true`. This is the alternating-moves rule of the protocol: the player to
move at a node is the one whose quantifier the node carries. -/
@[expose] def Alternating : Bool → ArgTree → Prop
  | _, leaf _ => True
  | b, node q l r => q = b ∧ Alternating (!b) l ∧ Alternating (!b) r

end ArgTree

open ArgTree

/-- A strategy sees the moves so far (latest first) and the current position, and picks a
child: `true` for the left one. Strategies may depend on the whole history. -/
abbrev Strategy := List Bool → ArgTree → Bool

/-- One debate. Alice (who claims the root is true) moves when `turn = true`, Bob (who claims
it is false) when `turn = false`; the turn alternates with every move. Returns the leaf the
debate ends at and the transcript. The game is zero-sum: it has a single winner, decided by
the judge at that leaf. -/
@[expose] def play (alice bob : Strategy) : ArgTree → Bool → List Bool → Nat × List Bool
  | leaf c, _, hist => (c, hist)
  | node q l r, turn, hist =>
    bif (if turn then alice hist (node q l r) else bob hist (node q l r))
    then play alice bob l (!turn) (true :: hist)
    else play alice bob r (!turn) (false :: hist)

/-- The judge's verdict (`true`: Alice wins). The judge inspects one leaf only: the leaf the
debate ended at. -/
@[expose] def verdict (judge : Nat → Bool) (alice bob : Strategy) (t : ArgTree) : Bool :=
  judge (play alice bob t true []).1

/-- Honest Alice defends a true child. -/
@[expose] def honestAlice (val : Nat → Bool) : Strategy := fun _ pos =>
  match pos with
  | node _ l _ => l.truth val
  | leaf _ => true

/-- Honest Bob attacks a false child. -/
@[expose] def honestBob (val : Nat → Bool) : Strategy := fun _ pos =>
  match pos with
  | node _ l _ => !(l.truth val)
  | leaf _ => true

theorem play_leaf (alice bob : Strategy) (c : Nat) (turn : Bool) (hist : List Bool) :
    play alice bob (leaf c) turn hist = (c, hist) := rfl

theorem play_node (alice bob : Strategy) (q : Bool) (l r : ArgTree) (turn : Bool)
    (hist : List Bool) :
    play alice bob (node q l r) turn hist =
      bif (if turn then alice hist (node q l r) else bob hist (node q l r))
      then play alice bob l (!turn) (true :: hist)
      else play alice bob r (!turn) (false :: hist) := rfl

theorem play_mem_leaves (alice bob : Strategy) :
    ∀ (t : ArgTree) (turn : Bool) (hist : List Bool),
      (play alice bob t turn hist).1 ∈ t.leaves := by
  intro t
  induction t with
  | leaf c => intro turn hist; rw [play_leaf]; exact List.mem_singleton_self c
  | node q l r ihl ihr =>
    intro turn hist
    rw [play_node, leaves, List.mem_append]
    cases (if turn then alice hist (node q l r) else bob hist (node q l r))
    · exact Or.inr (ihr _ _)
    · exact Or.inl (ihl _ _)

theorem play_length (alice bob : Strategy) :
    ∀ (t : ArgTree) (turn : Bool) (hist : List Bool),
      (play alice bob t turn hist).2.length ≤ hist.length + t.depth := by
  intro t
  induction t with
  | leaf c => intro turn hist; rw [play_leaf, depth]; exact Nat.le_refl _
  | node q l r ihl ihr =>
    intro turn hist
    rw [play_node, depth]
    cases (if turn then alice hist (node q l r) else bob hist (node q l r))
    · have := ihr (!turn) (false :: hist)
      rw [List.length_cons] at this
      show (play alice bob r (!turn) (false :: hist)).2.length ≤ _
      omega
    · have := ihl (!turn) (true :: hist)
      rw [List.length_cons] at this
      show (play alice bob l (!turn) (true :: hist)).2.length ≤ _
      omega

theorem honestAlice_sound (val : Nat → Bool) (bob : Strategy) :
    ∀ (t : ArgTree) (turn : Bool) (hist : List Bool), t.Alternating turn →
      t.truth val = true → val (play (honestAlice val) bob t turn hist).1 = true := by
  intro t
  induction t with
  | leaf c => intro turn hist _ h; exact h
  | node q l r ihl ihr =>
    intro turn hist halt htrue
    obtain ⟨hq, hl, hr⟩ := halt
    rw [play_node]
    cases turn with
    | true =>
      rw [hq] at htrue
      show val (bif l.truth val then play (honestAlice val) bob l false (true :: hist)
        else play (honestAlice val) bob r false (false :: hist)).1 = true
      cases hlv : l.truth val with
      | true => exact ihl _ _ hl hlv
      | false =>
        have : r.truth val = true := by
          rw [truth, hlv, Bool.false_or] at htrue; exact htrue
        exact ihr _ _ hr this
    | false =>
      rw [hq, truth, Bool.and_eq_true] at htrue
      show val (bif bob hist (node q l r) then play (honestAlice val) bob l true (true :: hist)
        else play (honestAlice val) bob r true (false :: hist)).1 = true
      cases bob hist (node q l r)
      · exact ihr _ _ hr htrue.2
      · exact ihl _ _ hl htrue.1

theorem honestBob_sound (val : Nat → Bool) (alice : Strategy) :
    ∀ (t : ArgTree) (turn : Bool) (hist : List Bool), t.Alternating turn →
      t.truth val = false → val (play alice (honestBob val) t turn hist).1 = false := by
  intro t
  induction t with
  | leaf c => intro turn hist _ h; exact h
  | node q l r ihl ihr =>
    intro turn hist halt hfalse
    obtain ⟨hq, hl, hr⟩ := halt
    rw [play_node]
    cases turn with
    | true =>
      rw [hq, truth, Bool.or_eq_false_iff] at hfalse
      show val (bif alice hist (node q l r) then play alice (honestBob val) l false (true :: hist)
        else play alice (honestBob val) r false (false :: hist)).1 = false
      cases alice hist (node q l r)
      · exact ihr _ _ hr hfalse.2
      · exact ihl _ _ hl hfalse.1
    | false =>
      rw [hq] at hfalse
      show val (bif !(l.truth val) then play alice (honestBob val) l true (true :: hist)
        else play alice (honestBob val) r true (false :: hist)).1 = false
      cases hlv : l.truth val with
      | false => exact ihl _ _ hl hlv
      | true =>
        have : r.truth val = false := by
          rw [truth, hlv, Bool.true_and] at hfalse; exact hfalse
        exact ihr _ _ hr this

/-- **Debate on finite argument trees** (Irving, Christiano, Amodei 2018, *AI safety via
debate*, §2.1). If the judge is correct on the elementary claims at the leaves
(`h_judge_leaf`), the players alternate (`h_alternating`) in a zero-sum game (one winner,
decided by the judge) on a tree of depth at most `d` (`h_depth`), then the honest debater
wins against every opponent strategy — Alice when the root claim is true, Bob when it is
false — and every debate has at most `d` moves, after which the judge inspects one leaf. -/
theorem honest_debater_wins (t : ArgTree) (val judge : Nat → Bool) (d : Nat)
    (h_judge_leaf : ∀ c ∈ t.leaves, judge c = val c)
    (h_alternating : t.Alternating true)
    (h_depth : t.depth ≤ d) :
    (t.truth val = true → ∀ bob : Strategy, verdict judge (honestAlice val) bob t = true) ∧
    (t.truth val = false → ∀ alice : Strategy, verdict judge alice (honestBob val) t = false) ∧
    (∀ alice bob : Strategy, (play alice bob t true []).2.length ≤ d) := by
  refine ⟨fun htrue bob => ?_, fun hfalse alice => ?_, fun alice bob => ?_⟩
  · unfold verdict
    rw [h_judge_leaf _ (play_mem_leaves _ _ t true [])]
    exact honestAlice_sound val bob t true [] h_alternating htrue
  · unfold verdict
    rw [h_judge_leaf _ (play_mem_leaves _ _ t true [])]
    exact honestBob_sound val alice t true [] h_alternating hfalse
  · have := play_length alice bob t true []
    rw [List.length_nil, Nat.zero_add] at this
    omega

/-- A two-round debate: the root is an `∃`-claim over two `∀`-claims. -/
@[expose] def exampleTree : ArgTree :=
  .node true (.node false (.leaf 0) (.leaf 1)) (.node false (.leaf 2) (.leaf 3))

/-- Non-vacuity: the hypotheses of `honest_debater_wins` hold together for a concrete depth-2
tree whose root claim is true (elementary claim 1 is false, all others true), with a judge
that is correct on the tree's leaves but wrong on an elementary claim (7) outside it. -/
theorem honest_debater_wins_nonvacuous :
    ∀ bob : Strategy,
      verdict (fun c => c != 1 && c != 7) (honestAlice (fun c => c != 1)) bob exampleTree = true :=
  (honest_debater_wins exampleTree (fun c => c != 1) (fun c => c != 1 && c != 7) 2
    (by decide) (by simp [exampleTree, ArgTree.Alternating]) (by decide)).1 (by decide)

end Formal.Debate

end
end
