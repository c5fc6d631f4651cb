"""Derived status of every claim, with the Lean results that justify it.

Status is never entered by hand. For each claim:

* **stated** — the pinned Lean statement elaborates against the built library;
* **proved** — stated, the module builds under the trust policy (no ``sorry``), Lean accepts
  ``theorem sequent_pinned_statement : <pinned statement> := @<declaration>``, every hypothesis
  of the theorem is named ``h_…`` and every ``h_…`` binder is in the registry and vice versa,
  and — decided on the compiled environment (:mod:`pipeline.claims.meaning`) — the theorem's
  type is the pinned statement as an ``Expr``, its meaning matches the ``[lean.meaning]`` pin,
  the witness applies it to closed arguments, and no module in its scope declares or reaches an
  axiom outside the allowlist;
* **fully proved** — proved, and every claim it depends on is fully proved.

:func:`evaluate` builds the library (incrementally), runs the static rules of
:mod:`pipeline.claims.consistency`, and batches the Lean checks through
:meth:`Checker.check_all` (results are cached, so an unchanged claim costs nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.claims.assemble import StatementLines, statement_check
from pipeline.claims.consistency import (
    HypothesisChecks,
    StaticFacts,
    check_function_issues,
    parameter_issues,
    statement_issues,
    static_issues,
)
from pipeline.claims.graph import dependency_order
from pipeline.claims.library import LeanLibrary
from pipeline.claims.meaning import MeaningFacts, meaning_issues, module_audits
from pipeline.claims.models import Claim, Issue
from pipeline.claims.registry import read_registry, relative
from pipeline.errors import NotFoundError, SequentError
from pipeline.lean.build import BuildReport, ModuleBuild, build_project
from pipeline.lean.checker import Checker, all_or_raise
from pipeline.lean.models import CheckRequest, CheckResult
from pipeline.lean.olean.audit import EnvIssue
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.models import Frozen
from pipeline.settings import Settings


class ClaimStatus(Frozen):
    claim: Claim
    stated: bool
    proved: bool
    fully_proved: bool
    module_built: bool
    proof: CheckResult | None = None
    """The claim's Lean run: ``theorem sequent_pinned_statement : <pinned statement> := @<declaration>`` followed by
    ``example := @<witness>`` (None when the module does not build)."""
    witness: CheckResult | None = None
    """The run that checked the witness: the same run as ``proof``."""
    environment: MeaningFacts | None = None
    """What the compiled environment established (None when the claim's check did not pass)."""
    issues: tuple[Issue, ...] = ()

    @property
    def label(self) -> str:
        if self.fully_proved:
            return "fully proved"
        if self.proved:
            return "proved"
        return "stated" if self.stated else "not stated"


class ClaimsReport(Frozen):
    claims: tuple[ClaimStatus, ...]
    """One status per claim that loaded, in registry order."""
    issues: tuple[Issue, ...]
    """Every problem found: registry, build, static and Lean rules."""

    @property
    def ok(self) -> bool:
        return not self.errors()

    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def get(self, claim_id: str) -> ClaimStatus:
        for status in self.claims:
            if status.claim.id == claim_id:
                return status
        raise NotFoundError(f"no status for claim {claim_id!r}")


def _build_detail(mb: ModuleBuild) -> str:
    if mb.result is None:
        return mb.skipped_reason or "not built"
    first = next(iter(mb.result.errors()), None)
    detail = mb.result.summary()
    if mb.result.violations:
        v = mb.result.violations[0]
        detail += f"; line {v.line}: {v.message}"
    elif first is not None:
        detail += f"; {first.location()}: {first.text.strip().splitlines()[0]}"
    return detail


def build_issues(report: BuildReport) -> list[Issue]:
    return [Issue(file=mb.path, field="build", message=f"{mb.module} does not build: {_build_detail(mb)}")
            for mb in report.failures()]


def evaluate(settings: Settings, checker: Checker, checks: HypothesisChecks, *,
             build: BuildReport | None = None, verdicts: Verdicts | None = None) -> ClaimsReport:
    """The status of every claim, and every consistency issue of the registry. ``checks``:
    the hypothesis checks the claims name (``pipeline.evidence.catalog.EVIDENCE_CHECKS``).
    ``verdicts``: how the claims' Lean checks are run (default: all at once,
    :meth:`Checker.check_all`; the server's background status runs them one at a time)."""
    registry, issues = read_registry(settings)
    library = LeanLibrary.load(settings)
    report = build if build is not None else build_project(settings, checker)
    issues += build_issues(report)
    built = {mb.module: mb.ok for mb in report.modules}
    static = [_static(settings, claim, library, checks, built) for claim in registry.claims]
    requests = [s.request for s in static if s.request is not None]
    run = verdicts or (lambda batch: all_or_raise(checker.check_all(batch)))
    results = iter(run(requests) if requests else [])
    env: ProjectEnvironment | None = None
    audits: dict[str, list[EnvIssue]] = {}
    try:
        env = checker.environment([mb.module for mb in report.modules if mb.ok])
        audits = module_audits(env)
    except SequentError as exc:
        issues.append(Issue(file=settings.formal_dir, field="build",
                            message=f"the compiled environment could not be read: {exc}"))
    partial: dict[str, ClaimStatus] = {}
    for s in static:
        result = next(results) if s.request is not None else None
        status = partial[s.claim.id] = _status(s, result, library, env, audits)
        issues += status.issues
    fully: dict[str, bool] = {}
    for claim_id in dependency_order(registry.edges()):
        status = partial[claim_id]
        fully[claim_id] = status.proved and all(fully.get(dep, False) for dep in status.claim.depends_on)
    statuses = tuple(partial[c.id].model_copy(update={"fully_proved": fully.get(c.id, False)})
                     for c in registry.claims)
    return ClaimsReport(claims=statuses, issues=tuple(issues))


Verdicts = Callable[[Sequence[CheckRequest]], list[CheckResult]]
"""Requests -> their audited verdicts, in order (raising the first error)."""


@dataclass
class _Static:
    """One claim after the static rules: its issues so far, and its Lean check (``None`` when
    its module is missing or does not build)."""

    claim: Claim
    file: str
    found: list[Issue]
    fact: StaticFacts
    request: CheckRequest | None = None
    where: StatementLines | None = None


def _static(settings: Settings, claim: Claim, library: LeanLibrary, checks: HypothesisChecks,
            built: dict[str, bool]) -> _Static:
    file = relative(settings, claim.path)
    found, fact = static_issues(claim, library, file)
    found += check_function_issues(claim, file, checks)
    found += parameter_issues(claim, file, checks)
    out = _Static(claim, file, found, fact)
    if fact.module_found and built.get(claim.lean.module, False):
        out.request, out.where = statement_check(claim)
    elif fact.module_found:
        found.append(Issue(file=file, field="lean.module", claim_id=claim.id,
                           message=f"{claim.lean.module} does not build, so the claim "
                                   "cannot be checked"))
    return out


def _status(s: _Static, result: CheckResult | None, library: LeanLibrary, env: ProjectEnvironment | None,
            audits: dict[str, list[EnvIssue]]) -> ClaimStatus:
    """The claim's status from its Lean run and the compiled environment (not yet
    ``fully_proved``: that needs its dependencies')."""
    claim, found, fact = s.claim, s.found, s.fact
    stated = proved = False
    facts_env: MeaningFacts | None = None
    if result is not None and s.where is not None:
        lean_found, verdict = statement_issues(claim, s.file, result, s.where)
        found += lean_found
        stated = verdict.stated
        if result.accepted and env is not None:
            scope = [m.name for m in library.scope(claim.lean.module)]
            env_found, facts_env = meaning_issues(claim, env, result, s.file, audits, scope)
            if facts_env.premises_read:  # the kernel's premises decide the binders, not the text
                found = [i for i in found if i.message not in fact.binder_messages]
                fact = fact.model_copy(update={"binders_match": True, "binder_messages": ()})
            found += env_found
        proved = (verdict.stated and verdict.proves and verdict.witness and fact.sound
                  and facts_env is not None and facts_env.sound)
    return ClaimStatus(claim=claim, stated=stated, proved=proved, fully_proved=False,
                       module_built=s.request is not None, proof=result,
                       witness=result, environment=facts_env, issues=tuple(found))


__all__ = ["ClaimStatus", "ClaimsReport", "build_issues", "evaluate"]
