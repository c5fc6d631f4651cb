"""Reading the Lean library as source: binders, definitions, and the static rules (no Lean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.consistency import static_issues
from pipeline.claims.library import (
    LeanLibrary,
    binders,
    definition_pins,
    hypothesis_binders,
    looks_like_proposition,
    referenced_definitions,
    unnamed_hypotheses,
)
from pipeline.claims.registry import load_registry
from pipeline.lean.syntax import declarations
from pipeline.settings import Settings
from tests.claims.fixtures import copy_sources, edit


def test_hypothesis_binders() -> None:
    sig = ("theorem t (x : Nat) (h_one h_two : x = 1) {h_imp : True} [h_inst : Inhabited Nat] "
           "(hx : x = 2) (h_one : x = 1) -- (h_comment : False)\n : ∀ (h_inner : x = 3), True")
    assert hypothesis_binders(sig) == ["h_one", "h_two", "h_imp", "h_inst", "h_inner"]
    assert hypothesis_binders("theorem t (x : Nat) : x = x") == []


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        # attacks: a hypothesis the registry cannot name
        ("theorem t (n : Nat) (hn : 0 < n) : n ≠ 0", ["(hn : 0 < n)"]),
        ("theorem t (n : Nat) (_ : 0 < n) : n ≠ 0", ["(_ : 0 < n)"]),
        ("theorem t (n : Nat) [Fact (0 < n)] : n ≠ 0", ["[Fact (0 < n)]"]),
        ("theorem t (n : Nat) [inst : Fact (0 < n)] : n ≠ 0", ["[inst : Fact (0 < n)]"]),
        ("theorem t (n : Nat) ⦃hn : 0 < n⦄ : n ≠ 0", ["⦃hn : 0 < n⦄"]),
        ("theorem t (n : Nat) {hn : n = 1} : n ≠ 0", ["{hn : n = 1}"]),
        ("theorem t (n : Nat) : 0 < n → n ≠ 0", ["0 < n →"]),
        ("theorem t (n : Nat) : (0 < n → n ≠ 0)", ["0 < n →"]),
        ("theorem t : ∀ n > 0, n ≠ 0", ["n > 0 →"]),
        ("theorem t : ∀ (n : Nat) (hn : n = 1), n ≠ 0", ["(hn : n = 1)"]),
        ("theorem t (c : Circuit) (stable : c.AllStable) (h_x : 1 = 1) : True", ["(stable : c.AllStable)"]),
        ("theorem t (n : Nat) (h_n : 0 < n) (m : Nat) : m < n", ["(m : Nat)"]),
        ("theorem t (x : Nat) (h_a : x = 1) (weird : MyPred x) : True", ["(weird : MyPred x)"]),
        ("∀ (n : Nat) (hn : 0 < n), n ≠ 0", ["(hn : 0 < n)"]),
        ("∀ (n : Nat), 0 < n → n ≠ 0", ["0 < n →"]),
        # fine: variables, then h_ hypotheses; implications inside the conclusion
        (("theorem t {X : Type} [DecidableEq X] (xs : List X) (f : X → Nat) (h_ne : xs ≠ []) : "
         "(xs.length > 0 → True) ∧ True"), []),
        ("theorem t (s : {x : Nat // x < 3}) (p : Nat → Prop) : True", []),
        ("∀ (ξ μ : List Rat) (k : Nat) (h_prior : 1 / 2 ^ k ≤ 1), (∀ q ∈ μ, q = 1) ∧ True", []),
    ],
)
def test_unnamed_hypotheses(text: str, hidden: list[str]) -> None:
    found = binders(text, statement=not text.startswith("theorem"), predicates={"AllStable"})
    assert [b.shown for b in unnamed_hypotheses(found)] == hidden


def test_proposition_reading() -> None:
    assert looks_like_proposition("0 < n")
    assert looks_like_proposition("∀ q ∈ μ, q = 1")
    assert looks_like_proposition("a ↔ b") and looks_like_proposition("a <-> b")
    assert looks_like_proposition("c.AllStable", {"AllStable"})
    assert not looks_like_proposition("Nat → Rat") and not looks_like_proposition("Nat -> Rat")
    assert not looks_like_proposition("{x : Nat // x < 3}")
    assert not looks_like_proposition("List (X → A)")


SOURCE = """
namespace Formal.Toy
/-- doc -/
@[expose] def Safe (n : Nat) : Prop := Bound n
@[expose] def Bound (n : Nat) : Prop := n < limit
def limit : Nat := 10
def unrelated : Nat := 3
theorem Safe_zero : Safe 0 := by decide
structure Box where
  val : Nat
namespace Box
def ok (b : Box) : Prop := Safe b.val
end Box
end Formal.Toy
"""


def test_referenced_definitions_are_transitive_and_resolve_dot_notation() -> None:
    decls = declarations(SOURCE)
    found = referenced_definitions("∀ (b : Box) (h_ok : b.ok), True", decls)
    assert list(found) == ["Formal.Toy.Bound", "Formal.Toy.Box", "Formal.Toy.Box.ok",
                           "Formal.Toy.Safe", "Formal.Toy.limit"]
    assert "Formal.Toy.Safe_zero" not in referenced_definitions("Safe_zero", decls)  # theorems: no
    assert referenced_definitions("Formal.Toy.limit = 10", decls).keys() == {"Formal.Toy.limit"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    root = copy_sources(tmp_path / "p")
    return Settings.load(root, state_dir=root / ".sequent")


def test_the_repository_is_statically_consistent(settings: Settings) -> None:
    registry, library = load_registry(settings), LeanLibrary.load(settings)
    assert set(library.modules) >= {"Formal", "Formal.Basic", "Formal.Debate", "Formal.SGD"}
    for claim in registry.claims:
        issues, facts = static_issues(claim, library, claim.path.name)
        assert issues == [] and facts.sound, (claim.id, issues)
        assert dict(claim.lean.definitions) == definition_pins(claim, library)
        # only the equilibrium bound is stated in plain arithmetic, without definitions
        assert bool(claim.lean.definitions) == (claim.id != "debate_equilibrium"), claim.id


def _issues(settings: Settings, claim_id: str) -> list[str]:
    registry, library = load_registry(settings), LeanLibrary.load(settings)
    claim = registry.get(claim_id)
    return [str(i) for i in static_issues(claim, library, f"claims/{claim_id}.toml")[0]]


def test_a_redefined_definition_breaks_its_pin(settings: Settings) -> None:
    edit(settings.formal_path / "ProverEstimator.lean",
         "@[expose] def Stable (f : Rat → Rat → Rat) : Prop :=\n"
         "  ∀ a b a' b', absDiff (f a b) (f a' b') ≤ max (absDiff a a') (absDiff b b')",
         "@[expose] def Stable (_f : Rat → Rat → Rat) : Prop := True")
    issues = _issues(settings, "prover_estimator_composition")
    assert len(issues) == 1
    assert issues[0].startswith("claims/prover_estimator_composition.toml: "
                                "lean.definitions.Formal.ProverEstimator.Stable: "
                                "Formal.ProverEstimator.Stable changed since it was pinned")
    # comments and layout are not part of a definition
    settings2 = settings
    edit(settings2.formal_path / "Debate.lean", "/-- The elementary claims at the leaves. -/",
         "/-- The elementary claims at the leaves (reworded). -/")
    assert _issues(settings2, "debate_tree") == []


def test_a_missing_or_unused_pin(settings: Settings) -> None:
    toml = settings.claims_path / "sgd_chung.toml"
    text = toml.read_text(encoding="utf-8")
    head, definitions = text.split("[lean.definitions]")
    pin_line = next(ln for ln in definitions.splitlines() if ln.startswith('"Formal.rateN"'))
    definitions = definitions.replace(pin_line, '"Formal.absDiff" = "' + "0" * 64 + '"')
    toml.write_text(head + "[lean.definitions]" + definitions, encoding="utf-8")
    issues = _issues(settings, "sgd_chung")
    assert ("claims/sgd_chung.toml: lean.definitions: the statement uses Formal.rateN (def), which is "
            "not pinned; review it and run `sequent claims pin sgd_chung`") in issues
    assert any("lean.definitions.Formal.absDiff: pinned definition Formal.absDiff is not used" in i
               for i in issues)


def test_a_hypothesis_missing_from_the_registry(settings: Settings) -> None:
    edit(settings.claims_path / "debate_tree.toml",
         '[[hypotheses]]\nbinder = "h_depth"\n', '[[ignored]]\nbinder = "h_depth"\n')
    text = (settings.claims_path / "debate_tree.toml").read_text(encoding="utf-8")
    (settings.claims_path / "debate_tree.toml").write_text(text.split("[[ignored]]")[0], encoding="utf-8")
    assert _issues(settings, "debate_tree") == [
        ("claims/debate_tree.toml: hypotheses: the Lean hypothesis h_depth of "
        "Formal.Debate.honest_debater_wins is missing from the registry (add a [[hypotheses]] entry for it)")]


def test_a_registry_hypothesis_missing_from_lean(settings: Settings) -> None:
    with (settings.claims_path / "mentor_queries.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[hypotheses]]\nbinder = "h_finite"\nmeaning = "H is finite"\n'
                'assumed = true\njustification = "a list"\n')
    assert _issues(settings, "mentor_queries") == [
        ("claims/mentor_queries.toml: hypotheses[1].binder: h_finite is not a hypothesis of "
        "Formal.Mentor.mentor_queries in Lean (its h_ binders: h_realizable)")]


def test_a_renamed_lean_binder_is_caught_both_ways(settings: Settings) -> None:
    path = settings.formal_path / "Mentor.lean"
    path.write_text(path.read_text(encoding="utf-8").replace("h_realizable", "h_mentor_in_class"),
                    encoding="utf-8")
    issues = _issues(settings, "mentor_queries")
    assert any("hypotheses: the Lean hypothesis h_mentor_in_class" in i for i in issues)
    assert any("hypotheses[0].binder: h_realizable is not a hypothesis" in i for i in issues)


def test_a_hypothesis_not_named_h_is_an_error(settings: Settings) -> None:
    edit(settings.formal_path / "ProverEstimator.lean", "    (h_stable : c.AllStable)\n",
         "    (stable : c.AllStable)\n")
    issues = _issues(settings, "prover_estimator_composition")
    assert any(i.startswith("claims/prover_estimator_composition.toml: lean.declaration: the binder "
                            "`stable` of Formal.ProverEstimator.error_composition is a hypothesis "
                            "(its type `c.AllStable` is a proposition) but is not named `h_…`")
               for i in issues), issues
    assert any("h_stable is not a hypothesis" in i for i in issues)


def test_an_anonymous_hypothesis_in_the_statement_is_an_error(settings: Settings) -> None:
    # a hypothesis brought in by `variable`/`include` shows only in the pinned statement
    edit(settings.claims_path / "debate_equilibrium.toml", "(h_q : q < 1)", "(_ : q < 1)")
    issues = _issues(settings, "debate_equilibrium")
    assert issues == [
        ("claims/debate_equilibrium.toml: lean.statement: an unnamed binder `(_ : q < 1)` of "
        "Formal.Equilibrium.dishonesty_bound is a hypothesis (its type `q < 1` is a proposition) "
        "but is not named `h_…`, so no [[hypotheses]] entry can cover it: name it "
        "`h_<what it assumes>` in Lean and in the pinned statement, and add a [[hypotheses]] "
        "entry with its check or justification")]
    edit(settings.formal_path / "Equilibrium.lean", "(h_q : q < 1)", "(_ : q < 1)")
    issues = _issues(settings, "debate_equilibrium")
    assert any("lean.declaration: an unnamed binder `(_ : q < 1)` of "
               "Formal.Equilibrium.dishonesty_bound is a hypothesis" in i for i in issues), issues


def test_witness_rules(settings: Settings) -> None:
    edit(settings.claims_path / "bayes_surprise.toml",
         'witness = "Formal.Bayes.bayes_surprise_bound_nonvacuous"',
         'witness = "Formal.Bayes.surprises_cons"')
    assert _issues(settings, "bayes_surprise") == [
        ("claims/bayes_surprise.toml: lean.witness: Formal.Bayes.surprises_cons does not apply "
        "Formal.Bayes.bayes_surprise_bound, so it does not show that its hypotheses can all hold at once")]
    edit(settings.claims_path / "bayes_surprise.toml", 'witness = "Formal.Bayes.surprises_cons"',
         'witness = "Formal.Bayes.nothing_here"')
    assert _issues(settings, "bayes_surprise") == [
        "claims/bayes_surprise.toml: lean.witness: Formal/Bayes.lean has no declaration Formal.Bayes.nothing_here"]


def test_unknown_module_and_declaration(settings: Settings) -> None:
    edit(settings.claims_path / "sgd_chung.toml", 'declaration = "Formal.SGD.sgd_convergence_rate"',
         'declaration = "Formal.SGD.chung_typo"')
    assert _issues(settings, "sgd_chung") == [
        "claims/sgd_chung.toml: lean.declaration: Formal/SGD.lean has no declaration Formal.SGD.chung_typo"]
    edit(settings.claims_path / "sgd_chung.toml", 'module = "Formal.SGD"', 'module = "Formal.Nope"')
    assert _issues(settings, "sgd_chung") == [
        ("claims/sgd_chung.toml: lean.module: no Lean module Formal.Nope in the library "
        "(expected Formal/Nope.lean)")]
