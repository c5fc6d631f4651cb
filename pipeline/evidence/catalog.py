"""The evidence side of the claims' consistency rules (:class:`pipeline.claims.consistency.HypothesisChecks`).

The claims layer sits below the evidence: it cannot import the checks, so the composition
root hands :data:`EVIDENCE_CHECKS` to :func:`pipeline.claims.proof_status.evaluate`.
"""

from __future__ import annotations

from pipeline.evidence.checks import CheckSpec, resolve_check, spec_of
from pipeline.evidence.estimators import ESTIMATORS
from pipeline.evidence.evaluate import fill_guarantee


class EvidenceChecks:
    """Resolves ``module:function`` check names, lists the estimators, fills guarantees."""

    @property
    def estimators(self) -> frozenset[str]:
        return frozenset(ESTIMATORS)

    def spec(self, name: str) -> CheckSpec | None:
        """The check's declaration; :class:`EvidenceError` when ``name`` names no check."""
        return spec_of(resolve_check(name))

    def fill_guarantee(self, template: str, values: dict[str, float]) -> None:
        """:class:`EvidenceError` when a formula of ``template`` cannot be evaluated."""
        fill_guarantee(template, values)


EVIDENCE_CHECKS = EvidenceChecks()

__all__ = ["EVIDENCE_CHECKS", "EvidenceChecks"]
