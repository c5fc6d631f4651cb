"""What a claim's theorem *means*, read from the compiled environment, and the rules on it.

Source text says what a statement looks like; the compiled environment says what it is. For
each claim (after ``Formal/`` is built):

* **statement**: the claim's theorem's type equals, as an ``Expr``, the pinned statement as
  Lean elaborated it (the ``sequent_pinned_statement`` theorem of the claim's check file);
* **meaning**: the digest of that type and of the ``ConstantInfo`` of every project constant
  it reaches (definitions with their bodies, instances, structures; theorems by their type)
  equals the ``[lean.meaning]`` pin of the registry, and the changed constants are named;
* **premises**: the theorem's premises as the kernel sees them (``let``s instantiated, the
  project's definitions in the conclusion unfolded: :mod:`pipeline.lean.olean.premises`); every
  one whose type is a proposition is a hypothesis, named ``h_…`` and listed in the registry's
  ``[[hypotheses]]`` (this supersedes the source-text binder rule of
  :mod:`pipeline.claims.consistency` whenever the compiled environment is read);
* **witness**: the witness applies the theorem to closed arguments, at closed universe
  levels, for every one of those premises;
* **axioms**: nothing in the claim's module scope declares an axiom or reaches one outside
  the allowlist.
"""

from __future__ import annotations

from pipeline.claims.assemble import PINNED_STATEMENT
from pipeline.claims.library import HYPOTHESIS_NAME, registry_binder_issues
from pipeline.claims.models import STATEMENT_KEY, Claim, Issue
from pipeline.lean.models import DEFAULT_AXIOMS, CheckResult
from pipeline.lean.olean.audit import (
    EnvIssue,
    Meaning,
    audit_module,
    changed_constants,
    meaning,
    witness_applies,
)
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.premises import Premise, PremiseError, Telescope, premises
from pipeline.models import Frozen


class MeaningFacts(Frozen):
    """What the compiled environment established about one claim."""

    statement_equal: bool = False
    meaning_pinned: bool = False
    witness_applies: bool = False
    axioms_clean: bool = False
    premises_read: bool = False
    """The kernel's premises were computed (then they, not the source text, decide the binders)."""
    premises_registered: bool = False
    """Every hypothesis among them is named ``h_…`` and in the registry, and vice versa."""

    @property
    def sound(self) -> bool:
        return (self.statement_equal and self.meaning_pinned and self.witness_applies and self.axioms_clean
                and self.premises_registered)


def meaning_pins(env: ProjectEnvironment, declaration: str) -> dict[str, str]:
    """The ``[lean.meaning]`` table for ``declaration`` as the environment holds it now."""
    m = meaning(env, declaration)
    return {STATEMENT_KEY: m.statement, **m.constants}


def module_audits(env: ProjectEnvironment) -> dict[str, list[EnvIssue]]:
    """The axiom audit of every loaded project module."""
    return {module: audit_module(env, module, DEFAULT_AXIOMS)[0] for module in env.modules}


Found = list[tuple[str, str]]


def meaning_issues(claim: Claim, env: ProjectEnvironment, result: CheckResult, file: str,
                   audits: dict[str, list[EnvIssue]], scope: list[str]) -> tuple[list[Issue], MeaningFacts]:
    """The environment's rules for one claim whose check file Lean accepted."""
    lean = claim.lean
    located = env.get(lean.declaration)
    if located is None:
        return [Issue(file=file, field="lean.declaration", claim_id=claim.id,
                      message=f"the compiled {lean.module} has no constant {lean.declaration}")], MeaningFacts()
    found: Found = []
    if located.constant.kind.value != "theorem":
        found.append(("lean.declaration", (f"{lean.declaration} is compiled as a {located.constant.kind.value}, "
                                          "not a theorem")))
    current = meaning(env, lean.declaration)
    statement_equal = _statement_rule(claim, located.constant.level_params, result, current, found)
    meaning_pinned = _meaning_rule(claim, current, found)
    telescope, premises_registered = _premise_rule(claim, env, found)
    why = _witness_rule(claim, env, telescope, found)
    # axioms in the claim's module scope
    bad = [i for module in scope for i in audits.get(module, [])]
    found += [("lean.module", f"environment audit: {i.message}") for i in bad]
    issues = [Issue(file=file, field=field, message=message, claim_id=claim.id) for field, message in found]
    return issues, MeaningFacts(statement_equal=statement_equal, meaning_pinned=meaning_pinned,
                                witness_applies=why is None, axioms_clean=not bad,
                                premises_read=telescope is not None, premises_registered=premises_registered)


def _statement_rule(claim: Claim, universes: tuple[str, ...], result: CheckResult, current: Meaning,
                    found: Found) -> bool:
    """The theorem's type is the pinned statement, as an ``Expr``."""
    lean = claim.lean
    pinned = result.environment.declaration(PINNED_STATEMENT) if result.environment else None
    statement_equal = pinned is not None and pinned.type_digest == current.statement
    if pinned is None:
        found.append(("lean.statement", ("the claim's check file was not audited, so the statement could not be "
                                        "compared with the compiled theorem")))
    elif not statement_equal:
        detail = (f"; universe parameters compare by position ({lean.declaration} has "
                  f"{', '.join(universes)}): a renamed universe is the same statement, one instantiated "
                  "differently (`Type u` as `Type`) is not" if universes else "")
        found.append(("lean.statement", (f"the type of {lean.declaration} is not the pinned statement as Lean "
                                        "elaborates it (they differ as expressions, even if Lean unifies them); "
                                        f"state the theorem exactly as pinned{detail}")))
    return statement_equal


def _meaning_rule(claim: Claim, current: Meaning, found: Found) -> bool:
    """The pinned digest of the statement and of every project constant it reaches."""
    lean = claim.lean
    now = {STATEMENT_KEY: current.statement, **current.constants}
    meaning_pinned = bool(lean.meaning) and lean.meaning == now
    if not lean.meaning:
        found.append(("lean.meaning", (f"the claim has no meaning pin; review the statement and run "
                                      f"`sequent claims pin {claim.id}`")))
    elif not meaning_pinned:
        changed = changed_constants(dict(lean.meaning), now)
        what = ", ".join("the statement itself" if n == STATEMENT_KEY else n for n in changed[:8])
        found.append(("lean.meaning", (f"the statement no longer means what was pinned: changed in the compiled "
                                      f"environment: {what}{' …' if len(changed) > 8 else ''}; if intended, review "
                                      f"the claim and run `sequent claims pin {claim.id}`")))
    return meaning_pinned


def _premise_rule(claim: Claim, env: ProjectEnvironment, found: Found) -> tuple[Telescope | None, bool]:
    """The premises, as the kernel sees them (``None`` when they could not be computed), and
    whether they are all registered."""
    lean = claim.lean
    try:
        telescope = premises(env, lean.declaration, env.library)
    except PremiseError as exc:
        found.append(("lean.declaration", (f"the premises of {lean.declaration} could not be computed from the "
                                          f"compiled environment ({exc}), so hidden hypotheses cannot be ruled out")))
        return None, False
    issues = premise_issues(claim, telescope)
    found += issues
    return telescope, not issues


def _witness_rule(claim: Claim, env: ProjectEnvironment, telescope: Telescope | None, found: Found) -> str | None:
    """Every premise discharged with closed terms: ``None``, or why not."""
    lean = claim.lean
    arity = len(telescope.premises) if telescope is not None else None
    why = witness_applies(env, lean.witness, lean.declaration, arity)
    if why is not None:
        detail = ""
        if telescope is not None and any(p.unfolded for p in telescope.premises):
            detail = (f" (its premises as the kernel sees them{_reached(telescope.premises)}: "
                      + ", ".join(_shown(p) for p in telescope.premises) + ")")
        found.append(("lean.witness", f"the witness does not show the hypotheses can all hold: {why}{detail}"))
    return why


def _shown(p: Premise) -> str:
    return f"{p.name} : {p.type}"


def _reached(found: tuple[Premise, ...]) -> str:
    """`` after instantiating the `let` and unfolding A, B`` for premises found by reduction."""
    steps: list[str] = []
    for p in found:
        steps += [s for s in p.through if s not in steps]
    if not steps:
        return ""
    parts = (["instantiating the `let`"] if "let" in steps else [])
    names = [s for s in steps if s != "let"]
    if names:
        parts.append("unfolding " + ", ".join(names))
    return " after " + " and ".join(parts)


def premise_issues(claim: Claim, telescope: Telescope) -> list[tuple[str, str]]:
    """The binder rule on the kernel's premises: each hypothesis (a premise whose type is a
    proposition, or a binder named ``h_…``) is named ``h_…`` and in ``[[hypotheses]]``, and
    each ``[[hypotheses]]`` binder is one of them. ``(field, message)`` pairs; for premises
    of the type as written the messages are those of the source-text rule."""
    declaration = claim.lean.declaration
    found: list[tuple[str, str]] = []
    registry = [h.binder for h in claim.hypotheses]
    hypotheses = [p for p in telescope.premises if p.proposition or HYPOTHESIS_NAME.match(p.name)]
    named: list[str] = []
    for p in hypotheses:
        if not HYPOTHESIS_NAME.match(p.name):
            found.append(("lean.declaration", (
                f"the premise `{_shown(p)}` of {declaration}{_reached((p,))} is a hypothesis (its type is a "
                "proposition) but is not named `h_…`, so no [[hypotheses]] entry can cover it: state it as "
                f"a binder `(h_<what it assumes> : {p.type})` of the theorem (or name it `h_…` where it is "
                "bound) and add a [[hypotheses]] entry with its check or justification")))
        elif p.name not in named:
            named.append(p.name)
            if p.name not in registry:
                where = (f" (the premise `{_shown(p)}`, which the kernel finds{_reached((p,))})"
                         if p.unfolded else "")
                found.append(("hypotheses", (f"the Lean hypothesis {p.name} of {declaration}{where} is missing "
                                             "from the registry (add a [[hypotheses]] entry for it)")))
    return found + registry_binder_issues(registry, named, declaration)


__all__ = ["MeaningFacts", "meaning_issues", "meaning_pins", "module_audits", "premise_issues"]
