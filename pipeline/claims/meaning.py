"""What a claim's theorem *means*, read from the compiled environment, and the rules on it.

Source text says what a statement looks like; the compiled environment says what it is. For
each claim (after ``Formal/`` is built):

* **statement**: the claim's theorem's type equals, as an ``Expr``, the pinned statement as
  Lean elaborated it (the ``sequent_pinned_statement`` theorem of the claim's check file);
* **meaning**: the digest of that type and of the ``ConstantInfo`` of every project constant
  it reaches (definitions with their bodies, instances, structures; theorems by their type)
  equals the ``[lean.meaning]`` pin of the registry, and the changed constants are named;
* **witness**: the witness applies the theorem to closed arguments for every binder;
* **axioms**: nothing in the claim's module scope declares an axiom or reaches one outside
  the allowlist.
"""

from __future__ import annotations

from pipeline.claims.assemble import PINNED_STATEMENT
from pipeline.claims.models import STATEMENT_KEY, Claim, Issue
from pipeline.lean.models import DEFAULT_AXIOMS, CheckResult
from pipeline.lean.olean.audit import (
    EnvIssue,
    audit_module,
    changed_constants,
    meaning,
    witness_applies,
)
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.models import Frozen


class MeaningFacts(Frozen):
    """What the compiled environment established about one claim."""

    statement_equal: bool = False
    meaning_pinned: bool = False
    witness_applies: bool = False
    axioms_clean: bool = False

    @property
    def sound(self) -> bool:
        return self.statement_equal and self.meaning_pinned and self.witness_applies and self.axioms_clean


def meaning_pins(env: ProjectEnvironment, declaration: str) -> dict[str, str]:
    """The ``[lean.meaning]`` table for ``declaration`` as the environment holds it now."""
    m = meaning(env, declaration)
    return {STATEMENT_KEY: m.statement, **m.constants}


def module_audits(env: ProjectEnvironment) -> dict[str, list[EnvIssue]]:
    """The axiom audit of every loaded project module."""
    return {module: audit_module(env, module, DEFAULT_AXIOMS)[0] for module in env.modules}


def meaning_issues(claim: Claim, env: ProjectEnvironment, result: CheckResult, file: str,
                   audits: dict[str, list[EnvIssue]], scope: list[str]) -> tuple[list[Issue], MeaningFacts]:
    """The environment's rules for one claim whose check file Lean accepted."""
    issues: list[Issue] = []

    def add(field: str, message: str) -> None:
        issues.append(Issue(file=file, field=field, message=message, claim_id=claim.id))

    lean = claim.lean
    located = env.get(lean.declaration)
    if located is None:
        add("lean.declaration", f"the compiled {lean.module} has no constant {lean.declaration}")
        return issues, MeaningFacts()
    if located.constant.kind.value != "theorem":
        add("lean.declaration", f"{lean.declaration} is compiled as a {located.constant.kind.value}, "
                                "not a theorem")

    # statement: the theorem's type is the pinned statement, as an Expr
    pinned = result.environment.declaration(PINNED_STATEMENT) if result.environment else None
    current = meaning(env, lean.declaration)
    statement_equal = pinned is not None and pinned.type_digest == current.statement
    if pinned is None:
        add("lean.statement", "the claim's check file was not audited, so the statement could not be "
                              "compared with the compiled theorem")
    elif not statement_equal:
        add("lean.statement", f"the type of {lean.declaration} is not the pinned statement as Lean "
                              "elaborates it (they differ as expressions, even if Lean unifies them); "
                              "state the theorem exactly as pinned")

    # meaning: the pinned digest of the statement and of every project constant it reaches
    now = {STATEMENT_KEY: current.statement, **current.constants}
    meaning_pinned = bool(lean.meaning) and lean.meaning == now
    if not lean.meaning:
        add("lean.meaning", f"the claim has no meaning pin; review the statement and run "
                            f"`sequent claims pin {claim.id}`")
    elif not meaning_pinned:
        changed = changed_constants(dict(lean.meaning), now)
        what = ", ".join("the statement itself" if n == STATEMENT_KEY else n for n in changed[:8])
        add("lean.meaning", f"the statement no longer means what was pinned: changed in the compiled "
                            f"environment: {what}{' …' if len(changed) > 8 else ''}; if intended, review "
                            f"the claim and run `sequent claims pin {claim.id}`")

    # witness
    why = witness_applies(env, lean.witness, lean.declaration)
    if why is not None:
        add("lean.witness", f"the witness does not show the hypotheses can all hold: {why}")

    # axioms in the claim's module scope
    bad = [i for module in scope for i in audits.get(module, [])]
    for i in bad:
        add("lean.module", f"environment audit: {i.message}")
    return issues, MeaningFacts(statement_equal=statement_equal, meaning_pinned=meaning_pinned,
                                witness_applies=why is None, axioms_clean=not bad)


__all__ = ["MeaningFacts", "meaning_issues", "meaning_pins", "module_audits"]
