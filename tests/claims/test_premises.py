"""Hypotheses on the kernel's terms, and claims over any type (universe-polymorphic statements).

One small library, built once with the real Lean, holds:

* claims whose hypotheses the leading ``∀``-binders of the statement do not show — behind a
  ``let``, inside a ``Prop``-valued definition, through two definitions, a ``let`` between
  binders, a definition that *is* a ``∀``, an ``LT`` instance — each vacuous; ``claims check``
  refuses each, naming the hidden premises;
* the same shape done right (the hidden hypothesis named ``h_…``, registered, witnessed), which
  is fully proved;
* universe-polymorphic claims: ``Type u_1``, a renamed universe, ``Sort _``, implicit and
  instance binders with an explicit ``.{u}``, pinned by ``sequent claims pin`` and fully proved;
  a statement specialised from ``Type u`` to ``Type`` (refused as a changed statement) and a
  witness at a universe variable (refused).
"""

from __future__ import annotations

import contextlib
import io
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import pytest

from pipeline.claims.assemble import assemble_proof, statement_check, statement_universes
from pipeline.claims.meaning import meaning_pins, premise_issues
from pipeline.claims.models import STATEMENT_KEY, Claim
from pipeline.claims.pin import pin_claim
from pipeline.claims.proof_status import ClaimsReport, evaluate
from pipeline.claims.registry import load_registry
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.olean.premises import Premise, Telescope, premises
from pipeline.settings import Settings
from tests.claims.test_lean import cli
from tests.conftest import make_settings, needs_lean

MODULE = """module

public section
noncomputable section

namespace Formal.Gen

-- hypotheses hidden in a Prop-valued definition
@[expose] def InRange (n : Nat) : Prop := n > 5 → n < 3 → n = 42
theorem range_claim : ∀ n, InRange n := by intro n h1 h2; omega
theorem range_claim_nonvacuous : InRange 6 := range_claim 6

-- hypotheses after a leading let
theorem let_claim : let lo := 5; ∀ n (h_big : n > lo) (h_small : n < 3), n = 42 := by
  intro lo n h1 h2; omega
theorem let_claim_nonvacuous : let lo := 5; ∀ n (h_big : n > lo) (h_small : n < 3), n = 42 :=
  let_claim

-- an arrow chain through two definitions
@[expose] def Inner (n : Nat) : Prop := n < 3 → n = 42
@[expose] def Outer (n : Nat) : Prop := n > 5 → Inner n
theorem chain_claim (n : Nat) : Outer n := by intro h1 h2; omega
theorem chain_claim_nonvacuous : Outer 6 := chain_claim 6

-- a let between the binders
theorem inner_let_claim : ∀ n : Nat, let lo := 5; n > lo → n < 3 → n = 42 := by
  intro n lo h1 h2; omega
theorem inner_let_claim_nonvacuous : 6 > 5 → 6 < 3 → 6 = 42 := inner_let_claim 6

-- a definition that is a ∀
@[expose] def NoneBelowZero : Prop := ∀ m : Nat, m < 0 → m = 7
theorem forall_def_claim : NoneBelowZero := by intro m h; omega
theorem forall_def_claim_nonvacuous : NoneBelowZero := forall_def_claim

-- premises hidden in an instance: `a < b` means `a.v > 5 → a.v < 3 → b.v = 42`
structure Cell where
  v : Nat
instance : LT Cell := ⟨fun a b => a.v > 5 → a.v < 3 → b.v = 42⟩
theorem cell_claim (a b : Cell) : a < b := by
  show a.v > 5 → a.v < 3 → b.v = 42
  intro h1 h2; omega
theorem cell_claim_nonvacuous : (⟨6⟩ : Cell) < ⟨0⟩ := cell_claim ⟨6⟩ ⟨0⟩

-- behind core combinators, and a negation that stays a conclusion
theorem id_claim : ∀ n : Nat, id ((fun k => k > 5 → k < 3 → k = 42) ∘ id <| n) := by
  intro n h1 h2; omega
theorem not_claim : ∀ n : Nat, ¬ n < 0 := fun n => Nat.not_lt_zero n

-- behind a match on a literal
@[expose] def Hide : Nat → Prop
  | 0 => ∀ n : Nat, n > 5 → n < 3 → n = 42
  | _ => True
theorem match_claim : Hide 0 := by intro n h1 h2; omega

-- done right: the hidden hypothesis is named, registered and witnessed
@[expose] def Positive (n : Nat) : Prop := ∀ (h_pos : 0 < n), 1 ≤ n
theorem positive_claim : ∀ n, Positive n := fun _ h => h
theorem positive_claim_nonvacuous : 1 ≤ 3 := positive_claim 3 (by decide)

-- over any type
universe u_1
theorem sameType (α : Type u_1) : α = α := rfl
theorem sameType_nonvacuous : Nat = Nat := sameType Nat
theorem sameType_at_a_variable.{w} : PUnit.{w + 1} = PUnit.{w + 1} := sameType PUnit
theorem sameType_renamed.{v} (α : Type v) : α = α := rfl
theorem sameType_at_zero (α : Type) : α = α := rfl

theorem pairType.{a, b} (α : Sort a) (β : Sort b) (x : α) (y : β) : x = x ∧ y = y := ⟨rfl, rfl⟩
theorem pairType_nonvacuous : (1 : Nat) = 1 ∧ True = True := pairType Nat Prop 1 True

theorem le_self_of.{u} {α : Type u} [inst : LE α] (h_refl : ∀ x : α, x ≤ x) (x : α) : x ≤ x :=
  h_refl x
theorem le_self_of_nonvacuous : (3 : Nat) ≤ 3 := le_self_of (α := Nat) Nat.le_refl 3

end Formal.Gen
end
end
"""

HYPOTHESIS = """
[[hypotheses]]
binder = "{binder}"
meaning = "{binder}"
assumed = true
justification = "a test"
"""


def _claim(claim_id: str, declaration: str, statement: str, *, witness: str | None = None,
           hypotheses: tuple[str, ...] = ()) -> str:
    text = (f'id = "{claim_id}"\ntitle = "{claim_id}"\nsource = "test"\nstatement = "s"\n'
            f'argument = "a"\n\n[lean]\nmodule = "Formal.Gen"\n'
            f'declaration = "Formal.Gen.{declaration}"\n'
            f'witness = "Formal.Gen.{witness or declaration + "_nonvacuous"}"\n'
            f'open = ["Formal.Gen"]\nstatement = """\n{statement}\n"""\n')
    return text + "".join(HYPOTHESIS.format(binder=b) for b in hypotheses)


CLAIMS = {
    "range": _claim("range", "range_claim", "∀ n, InRange n"),
    "let_claim": _claim("let_claim", "let_claim",
                        "let lo := 5; ∀ n (h_big : n > lo) (h_small : n < 3), n = 42"),
    "chain": _claim("chain", "chain_claim", "∀ (n : Nat), Outer n"),
    "inner_let": _claim("inner_let", "inner_let_claim",
                        "∀ n : Nat, let lo := 5; n > lo → n < 3 → n = 42"),
    "forall_def": _claim("forall_def", "forall_def_claim", "NoneBelowZero"),
    "cell": _claim("cell", "cell_claim", "∀ (a b : Cell), a < b"),
    "positive": _claim("positive", "positive_claim", "∀ n, Positive n", hypotheses=("h_pos",)),
    "same_type": _claim("same_type", "sameType", "∀ (α : Type u_1), α = α"),
    "pair_renamed": _claim("pair_renamed", "pairType", "∀ (α : Sort u) (β : Sort v) (x : α) (y : β), x = x ∧ y = y"),
    "pair_holes": _claim("pair_holes", "pairType",
                         "∀ (α : Sort _) (β : Sort _) (x : α) (y : β), x = x ∧ y = y"),
    "generic_le": _claim("generic_le", "le_self_of",
                         "∀ {α : Type u} [inst : LE α] (h_refl : ∀ x : α, x ≤ x) (x : α),\n"
                         "  @LE.le.{u} α inst x x", hypotheses=("h_refl",)),
    "specialised": _claim("specialised", "sameType", "∀ (α : Type), α = α"),
    "poly_witness": _claim("poly_witness", "sameType", "∀ (α : Type u_1), α = α",
                           witness="sameType_at_a_variable"),
}
VACUOUS = ("range", "let_claim", "chain", "inner_let", "forall_def", "cell")
PROVED = ("positive", "same_type", "pair_renamed", "pair_holes", "generic_le")


@dataclass(frozen=True)
class Checked:
    settings: Settings
    report: ClaimsReport
    check_output: str
    pin_output: str


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    root = tmp_path_factory.mktemp("premises") / "proj"
    (root / "Formal").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test project\n", encoding="utf-8")
    (root / "Formal" / "Gen.lean").write_text(MODULE, encoding="utf-8")
    (root / "claims").mkdir()
    for claim_id, text in CLAIMS.items():
        (root / "claims" / f"{claim_id}.toml").write_text(text, encoding="utf-8")
    settings = make_settings(root, pool_size=1)
    with Checker(settings) as checker:
        built = build_project(settings, checker)
        assert built.ok, [m.result.diagnostics() for m in built.failures() if m.result]
        env = checker.auditor.project(["Formal.Gen"])
        for claim in load_registry(settings).claims:
            if claim.id != "same_type":  # pinned through the command below
                pin_claim(settings, claim.id, meaning_pins(env, claim.lean.declaration))
    mp = pytest.MonkeyPatch()
    try:
        with _Capture() as cap:
            _code, pin_output = cli(settings, mp, cap, "claims", "pin", "same_type")
            with Checker(settings) as checker:
                report = evaluate(settings, checker, EVIDENCE_CHECKS)
            _code, check_output = cli(settings, mp, cap, "claims", "check")
    finally:
        mp.undo()
    return Checked(settings, report, check_output, pin_output)


class _Capture:
    """``capsys`` for a module-scoped fixture: stdout and stderr captured by redirection."""

    def __enter__(self) -> Self:
        self._out, self._err = io.StringIO(), io.StringIO()
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(contextlib.redirect_stdout(self._out))
        self._stack.enter_context(contextlib.redirect_stderr(self._err))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def readouterr(self) -> _Captured:
        out, err = self._out.getvalue(), self._err.getvalue()
        self._out.seek(0)
        self._out.truncate()
        self._err.seek(0)
        self._err.truncate()
        return _Captured(out, err)


@dataclass(frozen=True)
class _Captured:
    out: str
    err: str


def _messages(report: ClaimsReport, claim_id: str, field: str | None = None) -> list[str]:
    return [i.message for i in report.get(claim_id).issues if field is None or i.field == field]


# -- no Lean -------------------------------------------------------------------------------------
def test_the_statement_universes_are_declared_by_the_claims_files() -> None:
    assert statement_universes("∀ (α : Type u_1), α = α") == ["u_1"]
    assert statement_universes("∀ (α : Sort (max u v+1)) (x : PUnit.{w+1}) (y : ULift.{a, b} Nat), "
                               "Type _ = Sort _") == ["u", "v", "w", "a", "b"]
    assert statement_universes("∀ (T : Type) (n : Nat), SortOf n = Typex -- Type z\n") == []
    claim = load_registry_claim(CLAIMS["generic_le"])
    request, _where = statement_check(claim)
    assert "\nuniverse u\nset_option autoImplicit false\n" in request.source
    assert "\nuniverse u\n" in assemble_proof(claim, "by intros; assumption").source


def load_registry_claim(text: str) -> Claim:
    return Claim.model_validate({**tomllib.loads(text), "path": Path("x.toml")})


def _premise(name: str, type_: str, prop: bool, unfolded: tuple[str, ...] = ()) -> Premise:
    return Premise(name=name, raw_name=name, type=type_, binder_info=0, proposition=prop,
                   unfolded=unfolded, through=unfolded)


def test_the_premise_rule_names_what_the_kernel_finds() -> None:
    tel = Telescope("Formal.Gen.t", (
        _premise("n", "Nat", False), _premise("h_big", "n > 5", True, ("let",)),
        _premise("a✝", "n < 3", True, ("Formal.Gen.InRange",)), _premise("h_ok", "n ≠ 4", True)), "n = 42")
    claim = load_registry_claim(_claim("t", "t", "∀ n, T n", hypotheses=("h_ok", "h_ok", "h_gone")))
    found = premise_issues(claim, tel)
    assert [f for f, _m in found] == ["hypotheses", "lean.declaration", "hypotheses[1].binder",
                                      "hypotheses[2].binder"]
    assert "h_big of Formal.Gen.t (the premise `h_big : n > 5`, which the kernel finds after instantiating the " \
           "`let`) is missing" in found[0][1]
    assert "the premise `a✝ : n < 3` of Formal.Gen.t after unfolding Formal.Gen.InRange is a hypothesis" in found[1][1]
    assert found[2][1] == "h_ok is listed twice"
    assert found[3][1] == "h_gone is not a hypothesis of Formal.Gen.t in Lean (its h_ binders: h_big, h_ok)"
    # registered and named: nothing to say; a variable is never a hypothesis
    fine = load_registry_claim(_claim("t", "t", "∀ n, T n", hypotheses=("h_big", "h_ok")))
    assert premise_issues(fine, Telescope("Formal.Gen.t", tel.premises[:2] + tel.premises[3:], "n = 42")) == []


# -- with Lean -----------------------------------------------------------------------------------
@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_hidden_hypotheses_are_refused_naming_the_premises(checked: Checked) -> None:
    report = checked.report
    for claim_id in VACUOUS:
        status = report.get(claim_id)
        assert status.stated and not status.proved and not status.fully_proved, claim_id
        assert status.environment is not None and not status.environment.premises_registered, claim_id
        witness = _messages(report, claim_id, "lean.witness")
        assert witness and "never applies it to closed arguments for all" in witness[0], (claim_id, witness)

    [w] = _messages(report, "range", "lean.witness")
    assert "for all 3 of its binders" in w
    assert "after unfolding Formal.Gen.InRange: n : Nat, a✝ : n > 5, a✝ : n < 3" in w
    unnamed = _messages(report, "range", "lean.declaration")
    assert len(unnamed) == 2
    assert unnamed[0].startswith("the premise `a✝ : n > 5` of Formal.Gen.range_claim after unfolding "
                                 "Formal.Gen.InRange is a hypothesis (its type is a proposition) but is "
                                 "not named `h_…`")

    missing = _messages(report, "let_claim", "hypotheses")
    assert missing == [
        (f"the Lean hypothesis {name} of Formal.Gen.let_claim (the premise `{name} : {typ}`, which the kernel "
         "finds after instantiating the `let`) is missing from the registry (add a [[hypotheses]] entry for it)")
        for name, typ in (("h_big", "n > 5"), ("h_small", "n < 3"))]

    chain = " ".join(_messages(report, "chain"))
    assert "a✝ : n > 5" in chain and "a✝ : n < 3" in chain and "Formal.Gen.Inner" in chain
    inner_let = " ".join(_messages(report, "inner_let"))
    assert "a✝ : n > 5" in inner_let and "instantiating the `let`" in inner_let
    forall_def = " ".join(_messages(report, "forall_def"))
    assert "a✝ : m < 0" in forall_def and "Formal.Gen.NoneBelowZero" in forall_def
    cell = " ".join(_messages(report, "cell"))
    assert "a✝ : a.v > 5" in cell or "a✝ : (Formal.Gen.Cell.v a) > 5" in cell, cell

    out = checked.check_output
    assert "a✝ : n > 5" in out and "h_big" in out and "error(s) in the claims registry" in out


@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_registered_hidden_hypotheses_and_generic_claims_are_fully_proved(checked: Checked) -> None:
    for claim_id in PROVED:
        status = checked.report.get(claim_id)
        assert status.fully_proved and status.issues == (), (claim_id, [str(i) for i in status.issues])
    assert "wrote claims/same_type.toml" in checked.pin_output
    pinned = load_registry(checked.settings).get("same_type").lean.meaning
    assert pinned  # the meaning of a universe-polymorphic statement is pinned
    rows = [line for line in checked.check_output.splitlines() if "same_type" in line or "pair_renamed" in line]
    assert len(rows) == 2 and all("fully proved" in line for line in rows), rows


@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_a_specialised_universe_is_a_changed_statement(checked: Checked) -> None:
    status = checked.report.get("specialised")
    assert status.stated and not status.proved  # Lean accepts `@sameType` at Type; the kernel's terms differ
    [message] = _messages(checked.report, "specialised", "lean.statement")
    assert "is not the pinned statement as Lean elaborates it" in message
    assert "universe parameters compare by position (Formal.Gen.sameType has u_1)" in message


@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_a_witness_at_a_universe_variable_is_refused(checked: Checked) -> None:
    status = checked.report.get("poly_witness")
    assert not status.proved
    [message] = _messages(checked.report, "poly_witness", "lean.witness")
    assert "at a universe level that is a variable" in message


@needs_lean
@pytest.mark.lean
@pytest.mark.heavy
def test_the_premises_are_read_from_the_compiled_terms(checked: Checked) -> None:
    with Checker(checked.settings) as checker:
        env = checker.auditor.project(["Formal.Gen"])
    # universe parameters by position: renamed, the same statement; instantiated, another one
    statement = {name: meaning_pins(env, f"Formal.Gen.{name}")[STATEMENT_KEY]
                 for name in ("sameType", "sameType_renamed", "sameType_at_zero")}
    assert statement["sameType"] == statement["sameType_renamed"] != statement["sameType_at_zero"]
    tel = premises(env, "Formal.Gen.le_self_of", env.library)
    assert [(p.name, p.type, p.binder_info, p.proposition) for p in tel.premises] == [
        ("α", "Type u", 1, False), ("inst", "LE α", 3, False),
        ("h_refl", "∀ (x : α), x ≤ x", 0, True), ("x", "α", 0, False)]
    assert tel.conclusion == "x ≤ x" and tel.universes == ("u",)
    tel = premises(env, "Formal.Gen.id_claim", env.library)
    assert [(p.name, p.proposition) for p in tel.premises] == [("n", False), ("a✝", True), ("a✝", True)]
    assert tel.premises[1].type.endswith("> 5") and tel.premises[2].type.endswith("< 3")
    assert tel.premises[1].unfolded[:2] == ("id", "Function.comp")
    tel = premises(env, "Formal.Gen.not_claim", env.library)
    assert [p.name for p in tel.premises] == ["n"] and tel.conclusion == "¬(n < 0)"
    tel = premises(env, "Formal.Gen.match_claim", env.library)
    assert [(p.name, p.type, p.proposition) for p in tel.premises] == [
        ("n", "Nat", False), ("a✝", "n > 5", True), ("a✝", "n < 3", True)]
    tel = premises(env, "Formal.Gen.positive_claim", env.library)
    assert [(p.name, p.proposition, p.unfolded) for p in tel.premises] == [
        ("n", False, ()), ("h_pos", True, ("Formal.Gen.Positive",))]
