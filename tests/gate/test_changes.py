"""Pure diffs of Lean declarations and registry entries."""

from __future__ import annotations

from pipeline.gate.changes import (
    ClaimPin,
    diff_claims,
    diff_declarations,
    find_declaration,
    flatten,
    index_declarations,
)
from pipeline.gate.models import ChangeKind

BASE = """module
public section
namespace Formal.Basic

/-- doubling -/
@[expose] def double (n : Nat) : Nat := n + n

theorem double_eq (n : Nat) : double n = 2 * n := by
  unfold double; omega

theorem keep : True := trivial

theorem gone : 1 = 1 := rfl

example : True := trivial
end Formal.Basic
end
"""


def _index(files: dict[str, str]):
    return index_declarations(files)


def test_added_changed_removed_and_statement_vs_proof() -> None:
    head = (
        BASE.replace("by\n  unfold double; omega", "by\n  simp [double]; omega")
        .replace("theorem keep : True := trivial", "-- a comment only\ntheorem keep : True :=   trivial")
        .replace("theorem gone : 1 = 1 := rfl\n", "theorem fresh (n : Nat) : n ≤ n + 1 := by omega\n")
        .replace("(n : Nat) : Nat := n + n", "(n : Nat) : Nat := 2 * n")
        .replace("example : True := trivial", "example : 1 = 1 := rfl")
    )
    changes = diff_declarations(
        _index({"Formal/Basic.lean": BASE}), _index({"Formal/Basic.lean": head})
    )
    by_name = {c.name: c for c in changes}
    assert set(by_name) == {
        "Formal.Basic.double", "Formal.Basic.double_eq", "Formal.Basic.fresh", "Formal.Basic.gone"
    }
    assert by_name["Formal.Basic.double_eq"].change is ChangeKind.changed
    assert not by_name["Formal.Basic.double_eq"].statement_changed
    assert by_name["Formal.Basic.double"].change is ChangeKind.changed
    assert by_name["Formal.Basic.fresh"].change is ChangeKind.added
    assert by_name["Formal.Basic.fresh"].location.file == "Formal/Basic.lean"
    assert by_name["Formal.Basic.fresh"].location.line == head.splitlines().index(
        "theorem fresh (n : Nat) : n ≤ n + 1 := by omega") + 1
    assert by_name["Formal.Basic.gone"].change is ChangeKind.removed
    assert by_name["Formal.Basic.gone"].location.line == BASE.splitlines().index(
        "theorem gone : 1 = 1 := rfl") + 1


def test_statement_change_is_flagged() -> None:
    head = BASE.replace("double n = 2 * n", "double n ≥ n")
    (change,) = diff_declarations(_index({"Formal/Basic.lean": BASE}), _index({"Formal/Basic.lean": head}))
    assert change.name == "Formal.Basic.double_eq"
    assert change.statement_changed


def test_moved_declaration() -> None:
    base = {"Formal/A.lean": "theorem t : True := trivial\n", "Formal/B.lean": "theorem u : True := trivial\n"}
    head = {"Formal/A.lean": "theorem u : True := trivial\n", "Formal/B.lean": "theorem t : True := trivial\n"}
    changes = diff_declarations(_index(base), _index(head))
    assert {(c.name, c.moved_from) for c in changes} == {("t", "Formal/A.lean"), ("u", "Formal/B.lean")}
    assert all(not c.statement_changed for c in changes)


def test_module_names_and_lookup_by_suffix() -> None:
    index = index_declarations({"proj/Formal/Basic.lean": BASE}, module_root="proj")
    found = find_declaration(index, "double_eq", "Formal.Basic")
    assert found is not None
    assert found.declaration.name == "Formal.Basic.double_eq"
    assert found.module == "Formal.Basic"
    assert find_declaration(index, "Formal.Basic.keep") is not None
    assert find_declaration(index, "nope") is None


def _pin(claim_id: str, statement: str, title: str = "T", file: str = "claims/x.toml") -> ClaimPin:
    data = {"id": claim_id, "title": title, "lean": {"statement": statement, "definitions": {"d": "abc"}}}
    return ClaimPin(
        claim_id=claim_id, file=file, module="Formal.Basic", declaration="double_eq",
        statement=statement, fields=flatten(data),
    )


def test_diff_claims_names_changed_fields() -> None:
    base = {"a": _pin("a", "P"), "b": _pin("b", "Q"), "c": _pin("c", "R")}
    head = {"a": _pin("a", "P", title="new title"), "b": _pin("b", "Q2"), "d": _pin("d", "S")}
    changes = {c.claim_id: c for c in diff_claims(base, head)}
    assert changes["a"].change is ChangeKind.changed and changes["a"].fields == ("title",)
    assert not changes["a"].statement_changed
    assert changes["b"].fields == ("lean.statement",) and changes["b"].statement_changed
    assert changes["c"].change is ChangeKind.removed
    assert changes["d"].change is ChangeKind.added


def test_flatten() -> None:
    assert flatten({"a": {"b": 1, "c": [1, {"d": None}]}, "e": []}) == {
        "a.b": "1", "a.c[0]": "1", "a.c[1].d": "", "e": "[]"
    }
