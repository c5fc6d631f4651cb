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

from pipeline.claims.approval import certified_changes, certified_digest
from pipeline.gate.changes import (
    ClaimPin,
    LocatedDeclaration,
    Sides,
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


def _approval(claim: ClaimPin, base_claim: ClaimPin | None) -> tuple[bool, str]:
    """Whether the head commits an approval of exactly its certified content, and a phrase
    for the message (what the approval is, or why it does not count)."""
    digest = certified_digest(claim.certified)
    approved = claim.approval.get("digest")
    command = f"`sequent claims approve {claim.claim_id} --reason \"…\"` and commit {claim.file}"
    if approved is None:
        return False, f"no approval is committed: if the change is intended, run {command}"
    if approved != digest:
        return False, (f"the committed approval ({approved[:12]}…) names other content than the "
                       f"claim now certifies ({digest[:12]}…): review the change, then run {command}")
    if base_claim is not None and base_claim.approval == claim.approval:
        return False, (f"the approval of this content ({digest[:12]}…) was committed before this "
                       f"change, for another one: re-approve it for this change: run {command}")
    who = claim.approval.get("by")
    why = claim.approval.get("reason")
    detail = "".join(f"; {label}: {value}" for label, value in (("by", who), ("reason", why)) if value)
    return True, f"approved in {claim.file} ({digest[:12]}…{detail}): review it"


def _changes_case(claim: ClaimPin, base_claim: ClaimPin | None, *, meaning: bool) -> GateCase:
    """The certified-content changes of one claim, ``lean.*`` (``meaning``) or the rest."""
    if meaning:
        name, check = f"{claim.claim_id}: meaning changes are approved", "meaning"
    else:
        name, check = f"{claim.claim_id}: weakening changes are approved", "weakening"
    findings: list[Finding] = []
    if base_claim is not None and base_claim.certified and claim.certified:
        changes = [c for c in certified_changes(base_claim.certified, claim.certified)
                   if c.field.startswith("lean.") == meaning]
        needing = [c for c in changes if c.needs_approval]
        approved, how = _approval(claim, base_claim) if needing else (True, "")
        for c in needing:
            verb = "weakened" if c.effect == "weakens" else "changed what it certifies"
            text = f"claim {claim.claim_id} {verb}: {c}"
            if meaning and c.field == "lean.meaning":
                text += _text_note(base_claim, claim)
            findings.append(Finding(severity=Severity.warning if approved else Severity.error,
                                    message=f"{text} — {how}", location=claim.location))
        findings += [Finding(severity=Severity.notice, location=claim.location,
                             message=f"claim {claim.claim_id}: {c} (strengthens the claim)")
                     for c in changes if not c.needs_approval]
    return GateCase(suite=SUITE, name=name, check=check, claim_id=claim.claim_id, findings=tuple(findings))


def _text_note(base_claim: ClaimPin, claim: ClaimPin) -> str:
    old, new = (" ".join(c.statement.split()) for c in (base_claim, claim))
    if old == new:
        same = "the same" if base_claim.statement == claim.statement else "the same up to white space"
        return f"; the pinned statement's text is {same}, but Lean elaborates it differently"
    return ""


def meaning_case(claim: ClaimPin, base_claim: ClaimPin | None) -> GateCase:
    """A change of what the claim's statement *means* — the ``[lean.meaning]`` pin, read from
    the compiled environment (the ``claims`` suite checks the head's pin against it), or the
    theorem the claim names — needs a committed approval of the new content, whatever its text
    did: a text edit that elaborates to the same ``Expr`` is no change at all, and the same text
    meaning something else (an instance, a literal) is one."""
    return _changes_case(claim, base_claim, meaning=True)


def weakening_case(claim: ClaimPin, base_claim: ClaimPin | None) -> GateCase:
    """Registry changes that weaken what the claim certifies (a checked hypothesis assumed, a
    conclusion, reference run or dependency dropped) or change it in a direction the gate cannot
    decide (a parameter, a check's binding or settings): errors unless the head commits an
    approval of exactly its new content. Strengthening changes are notices."""
    return _changes_case(claim, base_claim, meaning=False)


def unreadable_base_case(unreadable: Mapping[str, str], head_claims: Mapping[str, ClaimPin]) -> GateCase:
    """Base claim files this version of the pipeline cannot load (a format change): what they
    certified cannot be compared with the head, so a person must (a warning, never silence)."""
    findings: list[Finding] = []
    for file, why in sorted(unreadable.items()):
        claims = [c for c in head_claims.values() if c.file == file]
        for claim in claims:
            findings.append(Finding(
                severity=Severity.warning, location=claim.location,
                message=(f"claim {claim.claim_id}: its entry on the base ({file}) does not load with "
                         f"this version of the pipeline ({why}), so what it certified there cannot be "
                         "compared with what it certifies now: review the change by hand")))
    return GateCase(suite=SUITE, name="base registry comparable", check="base_registry",
                    findings=tuple(findings))


def review_case(change: ClaimChange) -> GateCase:
    """A registry change a person has to look at (never fails the gate by itself)."""
    severity = Severity.warning
    if change.change is ChangeKind.added:
        message = f"new claim {change.claim_id}: statement needs review"
    elif change.change is ChangeKind.removed:
        message = f"claim {change.claim_id} removed from the registry: needs review"
    elif any(_in(f, REVIEW_FIELDS) for f in change.fields):
        changed = ", ".join(f for f in change.fields if _in(f, REVIEW_FIELDS))
        message = f"claim {change.claim_id}: statement changed, needs review ({changed})"
    else:
        severity = Severity.notice
        message = f"claim {change.claim_id}: changed {', '.join(change.fields)}"
    return GateCase(
        suite=SUITE,
        name=f"{change.claim_id}: registry change",
        check="statement_review",
        claim_id=change.claim_id,
        findings=(Finding(severity=severity, message=message, location=change.location),),
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


def change_cases(sides: Sides, new_theorem: NewTheoremPolicy) -> list[GateCase]:
    """The change rules' cases for one base against one head."""
    base_claims, head_claims = sides.base_claims, sides.head_claims
    base_index, head_index = sides.base_index, sides.head_index
    cases = [
        pinned_statement_case(claim, base_claims.get(claim_id), base_index, head_index)
        for claim_id, claim in sorted(head_claims.items())
    ]
    previous = _renamed(base_claims, head_claims)
    for claim_id, claim in sorted(head_claims.items()):
        base_claim = base_claims.get(claim_id) or previous.get(claim_id)
        cases += [meaning_case(claim, base_claim), weakening_case(claim, base_claim)]
    cases += [review_case(change) for change in sides.claim_changes]
    if sides.unreadable_base:
        cases.append(unreadable_base_case(sides.unreadable_base, head_claims))
    cases.append(new_theorem_case(sides.declaration_changes, list(head_claims.values()), new_theorem))
    cases.append(elaboration_case(sides.declaration_changes, head_index, base_index))
    return cases


def _renamed(base_claims: Mapping[str, ClaimPin], head_claims: Mapping[str, ClaimPin]) -> dict[str, ClaimPin]:
    """A new claim id whose theorem an id removed from the registry named: the removed entry,
    so that renaming a claim does not reset what it certified."""
    removed = [c for cid, c in base_claims.items() if cid not in head_claims]
    out: dict[str, ClaimPin] = {}
    for cid, claim in head_claims.items():
        if cid in base_claims:
            continue
        same = [c for c in removed if c.declaration == claim.declaration]
        if same:
            out[cid] = same[0]
    return out


def _pins(claim: ClaimPin) -> dict[str, str]:
    """The registry's statement pins, the pinned text with its white space folded."""
    return {k: " ".join(v.split()) if k == "lean.statement" else v
            for k, v in claim.fields.items() if _in(k, PIN_FIELDS)}


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
    "unreadable_base_case",
    "weakening_case",
]
