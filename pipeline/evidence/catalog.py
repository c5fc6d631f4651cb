"""The evidence side of the claims' consistency rules (:class:`pipeline.claims.consistency.HypothesisChecks`).

The claims layer sits below the evidence: it cannot import the checks, so the composition
root hands :data:`EVIDENCE_CHECKS` to :func:`pipeline.claims.proof_status.evaluate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.evidence.checks import CheckSpec


class EvidenceChecks:
    """Resolves ``module:function`` check names, lists the estimators, fills guarantees."""

    # The checks, estimators and evaluation pull in SciPy and Matplotlib: imported on use, so
    # that a command that never reads a claim's checks does not pay for them.

    @property
    def estimators(self) -> frozenset[str]:
        from pipeline.evidence.estimators import ESTIMATORS

        return frozenset(ESTIMATORS)

    def estimator_bindings(self, name: str) -> frozenset[str]:
        from pipeline.evidence.estimators import ESTIMATORS

        est = ESTIMATORS.get(name)
        return est.bindings if est is not None else frozenset()

    def spec(self, name: str) -> CheckSpec | None:
        """The check's declaration; :class:`EvidenceError` when ``name`` names no check."""
        from pipeline.evidence.checks import resolve_check, spec_of

        return spec_of(resolve_check(name))

    def fill_guarantee(self, template: str, values: dict[str, float]) -> list[float]:
        """The values of the formulas of ``template``; :class:`EvidenceError` when one cannot
        be evaluated."""
        from pipeline.evidence.evaluate import fill_guarantee

        return fill_guarantee(template, values)[1]


EVIDENCE_CHECKS = EvidenceChecks()

__all__ = ["EVIDENCE_CHECKS", "EvidenceChecks"]
