"""Reads of the claims as the API shows them (the pinned statement, the proof status from the
submissions, the status in the built library, the hypotheses' latest verdicts), the
cross-family review of a statement, and search over the compiled environment."""

from __future__ import annotations

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import ClaimReview, Family
from pipeline.errors import InputError, NotFoundError
from pipeline.lean.olean.lookup import DeclarationInfo, SearchResult
from pipeline.service.claim_responses import claim_summary, claim_view, hypotheses_of
from pipeline.service.lean_host import LeanHost
from pipeline.service.models import ClaimSummary, ClaimView, HypothesisView
from pipeline.service.submissions import SubmissionStore
from pipeline.store.db import Database


class ClaimViews:
    """``list_claims``, ``get_claim``, ``hypothesis_status`` and ``review``."""

    def __init__(self, db: Database, host: LeanHost, store: SubmissionStore) -> None:
        self._db, self._host, self._store = db, host, store
        self.registry = host.registry

    def claims(self) -> list[ClaimSummary]:
        return [claim_summary(c, self._store.proof_status(c.id), self._host.library.get(c.id))
                for c in self.registry.get().claims]

    def claim(self, claim_id: str) -> ClaimView:
        claim = self.registry.claim(claim_id)
        return claim_view(claim, self._store.proof_status(claim.id), self._host.library.get(claim.id),
                          hypotheses_of(self._db, claim))

    def hypotheses(self, claim_id: str) -> tuple[HypothesisView, ...]:
        return hypotheses_of(self._db, self.registry.claim(claim_id))

    def review(self, claim_id: str, drafter_family: Family, agents: AgentConfig,
               statement: str | None = None, *, replay: bool = False) -> ClaimReview:
        """The cross-family faithfulness review the agents loop runs after a proof: a model of
        the other family than ``drafter_family`` judges whether ``statement`` (default: the
        claim's pinned one) says what the informal claim says. ``replay``: the claim's recorded
        reviewer (no network). ``agents``: the providers' settings, built by the command.
        Not recorded: the loop records the reviews of its proofs."""
        from pipeline.agents.models import other_family
        from pipeline.agents.providers import make_provider
        from pipeline.agents.providers.replay import ReplayProvider
        from pipeline.agents.review import review_claim

        claim = self.registry.claim(claim_id)
        reviewer = (ReplayProvider.for_claim(claim_id, agents.recordings_dir).reviewer() if replay
                    else make_provider(other_family(drafter_family), agents))
        try:
            return review_claim(claim, statement or claim.lean.statement, reviewer,
                                drafter_family=drafter_family)
        finally:
            reviewer.close()


class Declarations:
    """``search`` and ``declaration``: the compiled environment, no Lean process."""

    def __init__(self, host: LeanHost) -> None:
        self._host = host

    def search(self, query: str, mentions: list[str] | None = None, limit: int = 20) -> SearchResult:
        """Constants by name (substring) and by type shape (constants the type mentions)."""
        if len(query) > 200 or any(len(m) > 200 for m in mentions or ()):
            raise InputError("a query or a mentioned name is at most 200 characters")
        if not query.strip() and not mentions:
            raise InputError("give a name to search for, or constants the type mentions (or both)")
        if not 1 <= limit <= 200:
            raise InputError("limit must be between 1 and 200")
        return self._host.lookup().search(query, mentions or (), limit)

    def declaration(self, name: str) -> DeclarationInfo:
        """A constant's type, docstring and source location (project, then core)."""
        if not name.strip() or len(name) > 300:
            raise InputError("give a constant's full name (at most 300 characters)")
        found = self._host.lookup().declaration(name.strip())
        if found is None:
            raise NotFoundError(f"no constant {name!r} in the core library or the project's built modules")
        return found


__all__ = ["ClaimViews", "Declarations"]
