"""Which tactics ``sequent trace`` records (pure: no Lean), and the goals and premises of a
small proof (real embedded Lean)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.lean.checker import Checker
from pipeline.lean.trace import premises_from, tactic_sites
from tests.conftest import needs_lean


def _tactics(source: str) -> list[str]:
    return [source[s.start:s.end] for s in tactic_sites(source)]


def test_multi_line_tactics_are_one_record_and_nested_blocks_are_traced() -> None:
    src = (
        "theorem t (l : List Nat) (h : 0 < 1) : True := by\n"
        "  have h1 : 1 = 1 :=\n"
        "    Eq.refl (by exact 1)\n"
        "  induction l with\n"
        "  | nil => simp; trivial\n"
        "  | cons a as ih =>\n"
        "    simp only [List.length] at *\n"
        "    exact ih\n"
        "  rw [Nat.add_zero] <;> simp\n"
        "  · apply foo\n"
        "    exact bar\n"
        "  if h : p then\n"
        "    exact a\n"
        "  else\n"
        "    exact b\n"
        "  refine ⟨fun x => x, by omega, ?_⟩; done\n"
        "  have hqs : ∀ x ∈ l, 0 ≤ x := fun x hx => h x (by simp [hx])\n"
        "  exact ⟨by exact fun y => y, by have : ∃ k, k = 1 := ⟨1, rfl⟩; simp⟩\n"
    )
    assert _tactics(src) == [
        "have h1 : 1 = 1 :=\n    Eq.refl (by exact 1)", "exact 1",
        "induction l with\n  | nil => simp; trivial\n  | cons a as ih =>\n    simp only [List.length] at *\n    exact ih",
        "simp", "trivial", "simp only [List.length] at *", "exact ih",
        "rw [Nat.add_zero] <;> simp",
        "· apply foo\n    exact bar", "apply foo", "exact bar",
        "if h : p then\n    exact a\n  else\n    exact b", "exact a", "exact b",
        "refine ⟨fun x => x, by omega, ?_⟩", "omega", "done",
        # a binder's comma is not the end of a tactic; an anonymous constructor's ends a `by`
        "have hqs : ∀ x ∈ l, 0 ≤ x := fun x hx => h x (by simp [hx])", "simp [hx]",
        "exact ⟨by exact fun y => y, by have : ∃ k, k = 1 := ⟨1, rfl⟩; simp⟩", "exact fun y => y",
        "have : ∃ k, k = 1 := ⟨1, rfl⟩", "simp",
    ]


def test_term_mode_proofs_trace_their_by_blocks_and_nothing_else() -> None:
    src = ("theorem w : 1 ≤ 2 ∧ 0 < 1 :=\n  And.intro (by decide) (by\n    show 0 < 1\n    decide)\n"
           "theorem plain : 1 = 1 := rfl\n"
           "/-- by the way -/\ntheorem c : True := -- by hand\n  trivial\n"
           "def f (n : Nat) : Nat := match n with\n  | 0 => 1\n  | k + 1 => k\n")
    assert _tactics(src) == ["decide", "show 0 < 1", "decide"]
    sites = tactic_sites(src)
    assert {s.declaration for s in sites} == {"w"} and sites[0].statement.startswith("theorem w")


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    from tests.conftest import make_settings

    root = tmp_path_factory.mktemp("trace-proj")
    (root / "lakefile.lean").write_text("-- test\n")
    settings = make_settings(root, pool_size=1, resident_workers=1)
    with Checker(settings, warm=False) as c:
        yield c


@pytest.mark.lean
@needs_lean
def test_trace_gives_goals_and_global_premises(checker: Checker) -> None:
    from pipeline.lean.trace import trace_source

    src = (
        "theorem g (a b : Nat) (h : a = b) (hb : 0 < b) : b = a ∧ 0 < a := by\n"
        "  subst h\n"
        "  -- split the conjunction\n"
        "  constructor\n"
        "  · rfl\n"
        "  · exact Nat.lt_of_lt_of_le hb (Nat.le_refl a)\n"
        "  skip\n"
        "\n"
        "theorem plain : 1 = 1 := rfl\n"
        "example : True := by trivial\n"
    )
    steps = list(trace_source(checker, src, "G.lean", premises_from(checker.lookup())))
    # `skip` (no goals before) is dropped, as LeanDojo drops it
    assert [(st.declaration, st.tactic) for st in steps] == [
        ("g", "subst h"), ("g", "constructor"), ("g", "· rfl"), ("g", "rfl"),
        ("g", "· exact Nat.lt_of_lt_of_le hb (Nat.le_refl a)"), ("g", "exact Nat.lt_of_lt_of_le hb (Nat.le_refl a)"),
        ("_example_10", "trivial")]
    subst, split, focus, rfl, last_focus, last, triv = steps
    assert "h : a = b" in subst.state_before and "h : a = b" not in subst.state_after
    assert len(split.goals_before) == 1 and len(split.goals_after) == 2
    assert "⊢ a = a" in rfl.state_before and rfl.state_after == "no goals"
    assert len(focus.goals_before) == 2
    assert last.state_after == "no goals" and triv.state_after == "no goals"
    # premises: global constants with their module; hypotheses (hb, a) never
    assert [(p.full_name, p.module, p.origin) for p in last.premises] == [
        ("Nat.lt_of_lt_of_le", "Init.Prelude", "core"), ("Nat.le_refl", "Init.Prelude", "core")], last.premises
    assert last_focus.premises == last.premises
    assert subst.premises == () and rfl.premises == () and triv.premises == ()
