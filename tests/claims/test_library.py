"""Reading the Lean library as source: binders, definitions, and the static rules (no Lean)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.consistency import static_issues
from pipeline.claims.library import (
    LeanLibrary,
    definition_pins,
    hypothesis_binders,
    referenced_definitions,
)
from pipeline.claims.registry import load_registry
from pipeline.lean.syntax import declarations
from pipeline.settings import Settings
from tests.claims.conftest import copy_sources, edit


def test_hypothesis_binders() -> None:
    sig = ("theorem t (x : Nat) (h_one h_two : x = 1) {h_imp : True} [h_inst : Inhabited Nat] "
           "(hx : x = 2) (h_one : x = 1) -- (h_comment : False)\n : ∀ (h_inner : x = 3), True")
    assert hypothesis_binders(sig) == ["h_one", "h_two", "h_imp", "h_inst", "h_inner"]
    assert hypothesis_binders("theorem t (x : Nat) : x = x") == []


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
    pin_line = next(ln for ln in text.splitlines() if ln.startswith('"Formal.rateN"'))
    toml.write_text(text.replace(pin_line, '"Formal.absDiff" = "' + "0" * 64 + '"'), encoding="utf-8")
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
