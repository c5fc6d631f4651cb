"""The change rules, on in-memory sources and registry entries."""

from __future__ import annotations

from pipeline.claims.approval import certified_digest
from pipeline.gate.changes import (
    ClaimPin,
    Sides,
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
           meaning: str = "m1", *, statement_meaning: str = "s1", approval: str | None = None,
           claim_id: str = "doubling") -> ClaimPin:
    pins = {"(statement)": statement_meaning, "Formal.Basic.double": meaning}
    lean = {
        "module": "Formal.Basic", "declaration": "Formal.Basic.double_eq", "statement": statement,
        "witness": "Formal.Basic.double_pos", "definitions": {"Formal.Basic.double": pin}, "meaning": pins,
    }
    certified = {"lean": {"module": "Formal.Basic", "declaration": "Formal.Basic.double_eq", "meaning": pins},
                 "hypotheses": {}, "conclusions": {}, "parameters": {}, "reference_runs": [],
                 "depends_on": []}
    return ClaimPin(
        claim_id=claim_id, file=f"claims/{claim_id}.toml", module="Formal.Basic",
        declaration="Formal.Basic.double_eq", statement=statement, witness="Formal.Basic.double_pos",
        definitions={"Formal.Basic.double": pin}, meaning=pins,
        fields=flatten({"id": claim_id, "title": title, "lean": lean}),
        certified=certified,
        approval={"digest": approval, "at": "2026-01-01T00:00:00Z"} if approval else {},
    )


def _approved(claim: ClaimPin, at: str = "2026-01-02T00:00:00Z") -> ClaimPin:
    """``claim`` with an approval of exactly its certified content."""
    return claim.model_copy(update={"approval": {"digest": certified_digest(claim.certified), "at": at,
                                                 "by": "Ada", "reason": "intended"}})


def _run(base_lean: str, head_lean: str, base_claim: ClaimPin | None, head_claim: ClaimPin | None,
         new_theorem: str = "warn"):
    base_index = index_declarations({"Formal/Basic.lean": base_lean})
    head_index = index_declarations({"Formal/Basic.lean": head_lean}) if head_lean else {}
    base_claims = {"doubling": base_claim} if base_claim else {}
    head_claims = {"doubling": head_claim} if head_claim else {}
    sides = Sides(base_claims=base_claims, head_claims=head_claims, base_index=base_index, head_index=head_index)
    cases = change_cases(sides, new_theorem)  # type: ignore[arg-type]
    return {case.check: case for case in cases}


def test_unchanged_branch_passes() -> None:
    cases = _run(LEAN, LEAN, _claim(), _claim())
    assert {c.status for c in cases.values()} == {Status.passed}
    assert set(cases) == {"pinned_statement", "meaning", "weakening", "new_theorem", "elaboration"}


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
    (finding,) = case.findings
    assert "what the statement means in the compiled environment changed" in finding.message
    assert "Formal.Basic.double" in finding.message
    assert "text is the same, but Lean elaborates it differently" in finding.message
    assert "sequent claims approve doubling" in finding.message
    assert cases["statement_review"].status is Status.warned


def test_meaning_changed_under_a_white_space_edit_fails() -> None:
    """The same attack, with one trailing space added to the pinned statement so that the
    registry's raw text differs: white space is not a visible change of the statement."""
    head = _claim(statement="∀ n, double n = 2 * n ", statement_meaning="s2")
    case = _run(LEAN, LEAN, _claim(), head)["meaning"]
    assert case.status is Status.failed
    assert "the statement itself" in case.findings[0].message
    assert "the same up to white space" in case.findings[0].message


def test_a_text_only_edit_that_keeps_the_meaning_is_no_meaning_change() -> None:
    head = _claim(statement="∀ (n : Nat),  double n = 2 * n")
    cases = _run(LEAN, LEAN, _claim(), head)
    assert cases["meaning"].status is Status.passed and not cases["meaning"].findings
    assert cases["statement_review"].status is Status.warned  # a reviewer still reads the new text


def test_a_visible_meaning_change_needs_an_approval_of_the_new_content() -> None:
    head = LEAN.replace(":= n + n", ":= n * 2").replace("unfold double; omega", "unfold double; rfl")
    changed = _claim(pin="p2", meaning="m2")
    cases = _run(LEAN, head, _claim(), changed)
    assert cases["meaning"].status is Status.failed
    restated = _run(LEAN, LEAN, _claim(), _claim(statement="∀ n, double n = n + n", statement_meaning="s2"))
    assert restated["meaning"].status is Status.failed

    approved = _run(LEAN, head, _claim(), _approved(changed))
    assert approved["meaning"].status is Status.warned
    (finding,) = approved["meaning"].findings
    assert "approved in claims/doubling.toml" in finding.message and "Ada" in finding.message


def test_an_approval_of_other_content_does_not_approve() -> None:
    stale = _approved(_claim(meaning="m2"))  # approved m2, then the meaning moved on to m3
    head = stale.model_copy(update={"certified": _claim(meaning="m3").certified,
                                    "meaning": _claim(meaning="m3").meaning})
    case = _run(LEAN, LEAN, _claim(), head)["meaning"]
    assert case.status is Status.failed
    assert "names other content than the claim now certifies" in case.findings[0].message


def test_an_approval_committed_before_this_change_does_not_approve_it() -> None:
    """The base approved content C; main moved on to C'; a branch restores C with the old
    approval still in the file: that approval was not given for this change."""
    old = _approved(_claim(meaning="m1"))
    base = old.model_copy(update={"certified": _claim(meaning="m2").certified})
    case = _run(LEAN, LEAN, base, old)["meaning"]
    assert case.status is Status.failed
    assert "was committed before this change" in case.findings[0].message
    again = _run(LEAN, LEAN, base, _approved(old, at="2026-02-01T00:00:00Z"))["meaning"]
    assert again.status is Status.warned


def test_renaming_a_claim_keeps_what_it_certified() -> None:
    renamed = _claim(meaning="m2", claim_id="doubling2")
    index = index_declarations({"Formal/Basic.lean": LEAN})
    sides = Sides(base_claims={"doubling": _claim()}, head_claims={"doubling2": renamed},
                  base_index=index, head_index=index)
    assert [c.claim_id for c in sides.claim_changes] == ["doubling", "doubling2"]  # removed, added
    cases = change_cases(sides, "warn")
    meaning = next(c for c in cases if c.check == "meaning")
    assert meaning.status is Status.failed and meaning.claim_id == "doubling2"


def test_white_space_in_the_pinned_text_does_not_cover_a_lean_statement_change() -> None:
    head = LEAN.replace("double n = 2 * n", "double n ≥ n")
    cases = _run(LEAN, head, _claim(), _claim(statement="∀ n, double n = 2 * n  \n"))
    assert cases["pinned_statement"].status is Status.failed
