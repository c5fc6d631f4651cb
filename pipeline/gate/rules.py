"""The gate's rules about changes against the base (pure; no git, no Lean).

* A claim's Lean statement changed in ``Formal/`` while its pinned statement in the
  registry did not: error. (A changed definition whose pin was not updated is caught by the
  claims consistency check, which compares every pin with the current source.)
* A claim's proof was removed from ``Formal/`` while the claim stays: error.
* A registry statement (informal or pinned), a pin or a claim's declaration changed, or a
  claim was added or removed: "needs review" warning.
* A new theorem in ``Formal/`` that no claim refers to: warning or error, as configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipeline.gate.changes import (
    ClaimPin,
    LocatedDeclaration,
    find_declaration,
    names_used_by_claims,
)
from pipeline.gate.models import (
    ChangeKind,
    ClaimChange,
    DeclarationChange,
    Finding,
    GateCase,
    NewTheoremPolicy,
    Severity,
)
from pipeline.lean.syntax import THEOREM_KINDS

SUITE = "changes"
PIN_FIELDS = ("lean.statement", "lean.declaration", "lean.module", "lean.open")
"""Registry fields that pin the Lean statement: a Lean statement change must come with one."""
REVIEW_FIELDS = (*PIN_FIELDS, "lean.definitions", "lean.meaning", "statement")
"""Registry fields whose change changes what the claim says: a person must review it."""
MEANING_KINDS = frozenset(
    {"instance", "notation", "infix", "infixl", "infixr", "prefix", "postfix", "macro",
     "macro_rules", "syntax", "elab", "elab_rules", "attribute", "deriving instance"}
)
"""Declarations that change how other text elaborates."""


def pinned_statement_case(
    claim: ClaimPin,
    base_claim: ClaimPin | None,
    base_index: Mapping[str, LocatedDeclaration],
    head_index: Mapping[str, LocatedDeclaration],
) -> GateCase:
    """Did the Lean side of ``claim`` change without its registry entry changing with it?"""
    findings: list[Finding] = []
    registry_same = base_claim is not None and _pins(base_claim) == _pins(claim)
    old = find_declaration(base_index, claim.declaration, claim.module)
    new = find_declaration(head_index, claim.declaration, claim.module)
    if old is not None and new is None:
        findings.append(
            Finding(
                severity=Severity.error,
                message=(
                    f"the proof of claim {claim.claim_id} ({claim.declaration}) was removed "
                    f"from {old.file} but the claim is still registered"
                ),
                location=old.location,
            )
        )
    if (
        registry_same
        and old is not None
        and new is not None
        and old.declaration.signature_digest != new.declaration.signature_digest
    ):
        findings.append(
            Finding(
                severity=Severity.error,
                message=(
                    f"the pinned statement of claim {claim.claim_id} ({claim.declaration}) changed "
                    f"in Lean without a matching change to {claim.file}: "
                    f"was `{old.declaration.signature}`, now `{new.declaration.signature}`"
                ),
                location=new.location,
            )
        )
    return GateCase(
        suite=SUITE,
        name=f"{claim.claim_id}: pinned statement unchanged",
        check="pinned_statement",
        claim_id=claim.claim_id,
        findings=tuple(findings),
    )


def meaning_case(claim: ClaimPin, base_claim: ClaimPin | None) -> GateCase:
    """A claim's pinned *meaning* (read from the compiled environment) may change only together
    with something a reviewer reads: the pinned statement or a pinned definition. A meaning that
    changed under byte-identical text (an instance, a literal, a local instance) is an error."""
    findings: list[Finding] = []
    if base_claim is not None and base_claim.meaning and claim.meaning != base_claim.meaning:
        visible = (_pins(base_claim) != _pins(claim)) or base_claim.definitions != claim.definitions
        if not visible:
            changed = sorted(k for k in set(base_claim.meaning) | set(claim.meaning)
                             if base_claim.meaning.get(k) != claim.meaning.get(k))
            findings.append(Finding(
                severity=Severity.error,
                message=(f"claim {claim.claim_id}: what the statement means changed in the compiled "
                         f"environment ({', '.join(changed[:6])}) while its pinned text and definitions did "
                         "not: the change is invisible to a reviewer reading the registry"),
                location=claim.location))
    return GateCase(suite=SUITE, name=f"{claim.claim_id}: meaning changes are visible",
                    check="meaning", claim_id=claim.claim_id, findings=tuple(findings))


def review_case(change: ClaimChange) -> GateCase:
    """A registry change a person has to look at (never fails the gate by itself)."""
    if change.change is ChangeKind.added:
        message = f"new claim {change.claim_id}: statement needs review"
    elif change.change is ChangeKind.removed:
        message = f"claim {change.claim_id} removed from the registry: needs review"
    elif any(_in(f, REVIEW_FIELDS) for f in change.fields):
        changed = ", ".join(f for f in change.fields if _in(f, REVIEW_FIELDS))
        message = f"claim {change.claim_id}: statement changed, needs review ({changed})"
    else:
        return GateCase(
            suite=SUITE,
            name=f"{change.claim_id}: registry change",
            check="statement_review",
            claim_id=change.claim_id,
            findings=(
                Finding(
                    severity=Severity.notice,
                    message=f"claim {change.claim_id}: changed {', '.join(change.fields)}",
                    location=change.location,
                ),
            ),
        )
    return GateCase(
        suite=SUITE,
        name=f"{change.claim_id}: registry change",
        check="statement_review",
        claim_id=change.claim_id,
        findings=(Finding(severity=Severity.warning, message=message, location=change.location),),
    )


def new_theorem_case(
    changes: Sequence[DeclarationChange],
    head_claims: Sequence[ClaimPin],
    policy: NewTheoremPolicy,
) -> GateCase:
    """New theorems in ``Formal/`` that no registry entry refers to."""
    used = names_used_by_claims(head_claims)
    severity = Severity.error if policy == "error" else Severity.warning
    findings = tuple(
        Finding(
            severity=severity,
            message=f"new theorem {c.name} has no claim entry in the registry",
            location=c.location,
        )
        for c in changes
        if c.change is ChangeKind.added
        and c.kind in THEOREM_KINDS
        and not any(_same_name(c.name, u) for u in used)
    )
    return GateCase(suite=SUITE, name="new theorems have claims", check="new_theorem", findings=findings)


def elaboration_case(
    changes: Sequence[DeclarationChange],
    head_index: Mapping[str, LocatedDeclaration],
    base_index: Mapping[str, LocatedDeclaration],
) -> GateCase:
    """Axioms (error) and elaboration-changing commands (review) among the changes."""
    findings: list[Finding] = []
    for c in changes:
        located = head_index.get(c.name) or base_index.get(c.name) or next(
            (d for d in (*head_index.values(), *base_index.values()) if d.declaration.name == c.name), None
        )
        modifiers = " ".join(located.declaration.modifiers) if located else ""
        what = f"{modifiers} {c.kind}".strip()
        if c.kind == "axiom" and c.change is not ChangeKind.removed:
            findings.append(Finding(
                severity=Severity.error,
                message=(f"{c.change.value} axiom {c.name}: Formal/ may not declare axioms; proofs may "
                         "rely only on propext, Classical.choice and Quot.sound"),
                location=c.location,
            ))
        elif c.kind in MEANING_KINDS:
            findings.append(Finding(
                severity=Severity.warning,
                message=(f"{c.change.value} {what} {c.name}: it can change what existing statements "
                         "mean without changing their text; needs review"),
                location=c.location,
            ))
    return GateCase(suite=SUITE, name="axioms and elaboration changes", check="elaboration",
                    findings=tuple(findings))


def change_cases(
    *,
    base_claims: Mapping[str, ClaimPin],
    head_claims: Mapping[str, ClaimPin],
    base_index: Mapping[str, LocatedDeclaration],
    head_index: Mapping[str, LocatedDeclaration],
    declaration_changes: Sequence[DeclarationChange],
    claim_changes: Sequence[ClaimChange],
    new_theorem: NewTheoremPolicy,
) -> list[GateCase]:
    cases = [
        pinned_statement_case(claim, base_claims.get(claim_id), base_index, head_index)
        for claim_id, claim in sorted(head_claims.items())
    ]
    cases += [meaning_case(claim, base_claims.get(claim_id)) for claim_id, claim in sorted(head_claims.items())]
    cases += [review_case(change) for change in claim_changes]
    cases.append(new_theorem_case(declaration_changes, list(head_claims.values()), new_theorem))
    cases.append(elaboration_case(declaration_changes, head_index, base_index))
    return cases


def _pins(claim: ClaimPin) -> dict[str, str]:
    return {k: v for k, v in claim.fields.items() if _in(k, PIN_FIELDS)}


def _in(field: str, prefixes: tuple[str, ...]) -> bool:
    return any(field == p or field.startswith((p + ".", p + "[")) for p in prefixes)


def _same_name(declared: str, referenced: str) -> bool:
    return (
        declared == referenced
        or declared.endswith("." + referenced)
        or referenced.endswith("." + declared)
    )


__all__ = [
    "MEANING_KINDS",
    "change_cases",
    "elaboration_case",
    "meaning_case",
    "new_theorem_case",
    "pinned_statement_case",
    "review_case",
]
