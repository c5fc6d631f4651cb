"""The files the pipeline builds around a pinned statement (pure parts; Lean in test_lean.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.assemble import assemble_proof, statement_check
from pipeline.claims.registry import load_registry
from pipeline.errors import InputError
from pipeline.lean.syntax import declarations
from pipeline.settings import Settings
from tests.conftest import REPO


@pytest.fixture(scope="module")
def claims() -> dict[str, object]:
    registry = load_registry(Settings.load(REPO, state_dir=Path("/nonexistent")))
    return {c.id: c for c in registry.claims}


def test_assemble_proof_uses_the_pinned_statement(claims: dict) -> None:
    claim = claims["debate_equilibrium"]
    request = assemble_proof(claim, "by\n  intros\n  apply dishonesty_bound <;> assumption", name="mine")
    assert request.imports == ("Formal.Equilibrium",)
    src = request.source
    assert src.startswith("import Formal.Equilibrium\nopen Formal.Equilibrium\nset_option autoImplicit false\n")
    assert "theorem mine :\n    ∀ (p q ε v wHonest wDishonest : Rat)\n" in src
    assert src.rstrip().endswith(":=\nby\n  intros\n  apply dishonesty_bound <;> assumption")
    [decl] = declarations(src)
    assert decl.name == "mine" and decl.kind == "theorem"
    assert " ".join(claim.lean.statement.split()) in decl.signature


@pytest.mark.parametrize("proof", [
    "by simp\ntheorem other : False := sorry",
    "by\n  trivial\n\naxiom cheat : False",
    "by decide\nend Formal",
    "by\n  set_option maxHeartbeats 0 in simp",
    "by simp\n#eval IO.println \"x\"",
    "by simp\nimport Foo",
    "by simp\n@[simp] def x := 1",
    "by simp\nnamespace Foo",
    "by simp\nnoncomputable def y : Nat := 1",
    "by simp\nmacro \"x\" : tactic => `(tactic| simp)",
])
def test_a_proof_cannot_bring_its_own_commands(claims: dict, proof: str) -> None:
    with pytest.raises(InputError, match="must not contain commands"):
        assemble_proof(claims["debate_tree"], proof)


def test_keywords_in_comments_and_strings_are_harmless(claims: dict) -> None:
    request = assemble_proof(claims["debate_tree"], 'by\n  -- a theorem about defs\n  exact (fun _ => "end") ()')
    assert "-- a theorem about defs" in request.source


@pytest.mark.parametrize(("proof", "name", "match"), [
    ("  \n", "ok", "the proof is empty"),
    ("by simp", "not a name", "not a plain Lean identifier"),
    ("by simp", "x;y", "not a plain Lean identifier"),
])
def test_bad_input(claims: dict, proof: str, name: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        assemble_proof(claims["debate_tree"], proof, name=name)


def test_statement_check_lines(claims: dict) -> None:
    claim = claims["mentor_queries"]
    request, where = statement_check(claim)
    lines = request.source.split("\n")
    assert lines[0] == "import Formal.Mentor" and where.header_end == 3
    assert lines[where.statement_start - 1].strip().startswith("∀ {X A : Type}")
    assert lines[where.statement_end - 1].strip() == "(run mentor H xs).count none ≤ H.length - 1"
    assert lines[where.declaration_line - 1].strip() == ":= @Formal.Mentor.mentor_queries"
    assert lines[where.witness_line - 1] == "example := @Formal.Mentor.mentor_queries_nonvacuous"
