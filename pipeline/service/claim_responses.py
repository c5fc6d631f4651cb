"""What the API shows of a claim: the pinned statement, the proof status from the
submissions, and each hypothesis with its latest empirical verdicts.

The registry is read through :class:`RegistryCache`, which reloads it only when a file in
``claims/`` changed, so a running server follows edits without re-parsing on every request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from pipeline.claims.models import Claim
from pipeline.claims.proof_status import ClaimsReport
from pipeline.claims.registry import Registry, load_registry
from pipeline.evidence.models import HypothesisVerdict
from pipeline.evidence.store import latest_verdicts
from pipeline.service.models import (
    ClaimSummary,
    ClaimView,
    HypothesisView,
    LibraryStatus,
    ProofStatus,
)
from pipeline.settings import Settings
from pipeline.store.db import Database


class RegistryCache:
    """The registry, reloaded when a claims file changed (looked at most every ``recheck_s``)."""

    def __init__(self, settings: Settings, *, recheck_s: float = 1.0) -> None:
        self._settings = settings
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at = 0.0
        self._registry: Registry | None = None

    def _fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        folder = self._settings.claims_path
        if not folder.is_dir():
            return ()
        return tuple(
            sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.toml"))
        )

    def get(self) -> Registry:
        """The registry; raises ClaimError (naming file and field) if it is inconsistent."""
        with self._lock:
            now = time.monotonic()
            if self._registry is not None and now - self._checked_at < self._recheck_s:
                return self._registry
            stamp = self._fingerprint()
            if self._registry is None or stamp != self._stamp:
                self._registry = load_registry(self._settings)
                self._stamp = stamp
            self._checked_at = now
            return self._registry

    def claim(self, claim_id: str) -> Claim:
        return self.get().get(claim_id)


def hypotheses_of(db: Database, claim: Claim) -> tuple[HypothesisView, ...]:
    # the statistical verdict is shown when there is one (a pytest one otherwise)
    by_binder: dict[str, HypothesisVerdict] = {
        v.binder: v for v in sorted(latest_verdicts(db, claim.id), key=lambda v: v.source == "check")
        if v.role == "hypothesis"}
    return tuple(HypothesisView.of(h, latest=by_binder.get(h.binder)) for h in claim.hypotheses)


def library_statuses(report: ClaimsReport, at: datetime) -> dict[str, LibraryStatus]:
    return {
        s.claim.id: LibraryStatus(
            label=s.label,
            stated=s.stated,
            proved=s.proved,
            fully_proved=s.fully_proved,
            issues=tuple(str(i) for i in s.issues),
            evaluated_at=at,
        )
        for s in report.claims
    }


def claim_summary(claim: Claim, proof: ProofStatus, library: LibraryStatus | None) -> ClaimSummary:
    return ClaimSummary(
        id=claim.id,
        title=claim.title,
        module=claim.lean.module,
        declaration=claim.lean.declaration,
        proof=proof,
        library=library,
    )


def claim_view(
    claim: Claim,
    proof: ProofStatus,
    library: LibraryStatus | None,
    hypotheses: tuple[HypothesisView, ...],
) -> ClaimView:
    return ClaimView(
        id=claim.id,
        title=claim.title,
        statement=claim.statement,
        lean_module=claim.lean.module,
        lean_declaration=claim.lean.declaration,
        lean_statement=claim.lean.statement,
        depends_on=tuple(claim.depends_on),
        proof=proof,
        library=library,
        hypotheses=hypotheses,
    )

__all__ = ["RegistryCache", "claim_summary", "claim_view", "hypotheses_of"]
