"""The change rules, on in-memory sources and registry entries."""

from __future__ import annotations

from pipeline.gate.changes import (
    ClaimPin,
    diff_claims,
    diff_declarations,
    flatten,
    index_declarations,
)
from pipeline.gate.models import Severity, Status
from pipeline.gate.rules import change_cases

LEAN = """module
public section
namespace Formal.Basic
@[expose] def double (n : Nat) : Nat := n + n
theorem double_eq (n : Nat) : double n = 2 * n := by
  unfold double; omega
theorem double_pos : double 1 = 2 := by decide
end Formal.Basic
end
"""


def _claim(statement: str = "∀ n, double n = 2 * n", pin: str = "p1", title: str = "t",
           meaning: str = "m1") -> ClaimPin:
    pins = {"(statement)": "s1", "Formal.Basic.double": meaning}
    lean = {
        "module": "Formal.Basic", "declaration": "Formal.Basic.double_eq", "statement": statement,
        "witness": "Formal.Basic.double_pos", "definitions": {"Formal.Basic.double": pin}, "meaning": pins,
    }
    return ClaimPin(
        claim_id="doubling", file="claims/doubling.toml", module="Formal.Basic",
        declaration="Formal.Basic.double_eq", statement=statement, witness="Formal.Basic.double_pos",
        definitions={"Formal.Basic.double": pin}, meaning=pins,
        fields=flatten({"id": "doubling", "title": title, "lean": lean}),
    )


def _run(base_lean: str, head_lean: str, base_claim: ClaimPin | None, head_claim: ClaimPin | None,
         new_theorem: str = "warn"):
    base_index = index_declarations({"Formal/Basic.lean": base_lean})
    head_index = index_declarations({"Formal/Basic.lean": head_lean}) if head_lean else {}
    base_claims = {"doubling": base_claim} if base_claim else {}
    head_claims = {"doubling": head_claim} if head_claim else {}
    cases = change_cases(
        base_claims=base_claims, head_claims=head_claims, base_index=base_index, head_index=head_index,
        declaration_changes=diff_declarations(base_index, head_index),
        claim_changes=diff_claims(base_claims, head_claims), new_theorem=new_theorem,  # type: ignore[arg-type]
    )
    return {case.check: case for case in cases}


def test_unchanged_branch_passes() -> None:
    cases = _run(LEAN, LEAN, _claim(), _claim())
    assert {c.status for c in cases.values()} == {Status.passed}
    assert set(cases) == {"pinned_statement", "meaning", "new_theorem", "elaboration"}


def test_weakened_statement_without_registry_change_fails() -> None:
    head = LEAN.replace("double n = 2 * n", "double n ≥ n")
    cases = _run(LEAN, head, _claim(), _claim(title="retitled"))
    case = cases["pinned_statement"]
    assert case.status is Status.failed
    (finding,) = case.findings
    assert "changed in Lean without a matching change to claims/doubling.toml" in finding.message
    assert finding.location is not None and finding.location.file == "Formal/Basic.lean"
    assert finding.location.line == 5
    assert cases["statement_review"].findings[0].severity is Severity.notice


def test_statement_changed_in_both_places_needs_review_but_passes() -> None:
    head = LEAN.replace("double n = 2 * n", "double n ≥ n")
    cases = _run(LEAN, head, _claim(), _claim(statement="∀ n, double n ≥ n"))
    assert cases["pinned_statement"].status is Status.passed
    review = cases["statement_review"]
    assert review.status is Status.warned
    assert "statement changed, needs review" in review.findings[0].message


def test_changed_definition_pin_needs_review() -> None:
    head = LEAN.replace(":= n + n", ":= n * 2").replace("unfold double; omega", "unfold double; rfl")
    # a stale pin is the claims consistency check's business (it hashes the current source)
    assert _run(LEAN, head, _claim(), _claim())["pinned_statement"].status is Status.passed
    updated = _run(LEAN, head, _claim(), _claim(pin="p2"))
    assert updated["pinned_statement"].status is Status.passed
    assert updated["statement_review"].status is Status.warned
    assert "lean.definitions.Formal.Basic.double" in updated["statement_review"].findings[0].message


def test_informal_statement_change_needs_review_but_does_not_cover_a_lean_change() -> None:
    base = _claim()
    informal = base.model_copy(update={"fields": {**base.fields, "statement": "now says more"}})
    head = LEAN.replace("double n = 2 * n", "double n ≥ n")
    cases = _run(LEAN, head, base, informal)
    assert cases["pinned_statement"].status is Status.failed
    assert "statement changed, needs review (statement)" in cases["statement_review"].findings[0].message


def test_removed_proof_fails() -> None:
    head = LEAN.replace("theorem double_eq (n : Nat) : double n = 2 * n := by\n  unfold double; omega\n", "")
    case = _run(LEAN, head, _claim(), _claim())["pinned_statement"]
    assert case.status is Status.failed
    assert "was removed" in case.findings[0].message
    assert case.findings[0].location is not None and case.findings[0].location.line == 5


def test_new_theorem_without_claim_warns_or_fails() -> None:
    head = LEAN.replace("end Formal.Basic", "theorem extra : 2 = 2 := rfl\nlemma other : True := trivial\n"
                        "def helper : Nat := 3\nend Formal.Basic")
    warn = _run(LEAN, head, _claim(), _claim())["new_theorem"]
    assert warn.status is Status.warned
    assert [f.message for f in warn.findings] == [
        "new theorem Formal.Basic.extra has no claim entry in the registry",
        "new theorem Formal.Basic.other has no claim entry in the registry",
    ]
    error = _run(LEAN, head, _claim(), _claim(), new_theorem="error")["new_theorem"]
    assert error.status is Status.failed


def test_new_claim_and_removed_claim_need_review() -> None:
    added = _run(LEAN, LEAN, None, _claim())
    assert added["statement_review"].status is Status.warned
    assert "new claim doubling" in added["statement_review"].findings[0].message
    assert added["pinned_statement"].status is Status.passed
    removed = _run(LEAN, LEAN, _claim(), None)
    assert "removed from the registry" in removed["statement_review"].findings[0].message


def test_meaning_changed_under_identical_text_fails() -> None:
    """The instance-hijack attack with the meaning pin rewritten: the registry's text is as on the
    base, only the digests read from the compiled environment moved."""
    cases = _run(LEAN, LEAN, _claim(), _claim(meaning="m2"))
    case = cases["meaning"]
    assert case.status is Status.failed
    assert "invisible to a reviewer" in case.findings[0].message
    assert "Formal.Basic.double" in case.findings[0].message
    assert cases["statement_review"].status is Status.warned


def test_meaning_changed_with_a_visible_change_needs_review_but_passes() -> None:
    head = LEAN.replace(":= n + n", ":= n * 2").replace("unfold double; omega", "unfold double; rfl")
    cases = _run(LEAN, head, _claim(), _claim(pin="p2", meaning="m2"))
    assert cases["meaning"].status is Status.passed
    assert cases["statement_review"].status is Status.warned
    restated = _run(LEAN, LEAN, _claim(), _claim(statement="∀ n, double n = n + n", meaning="m2"))
    assert restated["meaning"].status is Status.passed
