"""Cross-family review: a model of the other family judges whether the Lean statement and
its hypotheses faithfully express the informal claim. A discrepancy flags the claim for a
human; it never blocks or undoes a proof."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from pipeline.agents.models import ClaimReview, Family, ReviewJudgement
from pipeline.agents.parse import extract_json
from pipeline.agents.prompts import review_prompt
from pipeline.agents.providers.base import Provider
from pipeline.errors import ProviderError
from pipeline.store.times import utcnow

if TYPE_CHECKING:
    from pipeline.claims.models import Claim


def parse_judgement(text: str) -> ReviewJudgement:
    """The reviewer's reply as a :class:`ReviewJudgement`; ProviderError if it is not one."""
    try:
        return ReviewJudgement.model_validate(extract_json(text))
    except (ValueError, ValidationError) as exc:
        raise ProviderError(f"the reviewer's reply is not a valid judgement: {exc}") from exc


def review_claim(
    claim: Claim,
    statement: str,
    reviewer: Provider,
    *,
    drafter_family: Family,
    session_id: str | None = None,
    context: str = "",
) -> ClaimReview:
    """Ask ``reviewer`` (which must be of the other family) to judge ``statement``."""
    if reviewer.family == drafter_family:
        raise ProviderError(
            f"the reviewer ({reviewer.family} {reviewer.model}) must come from the other "
            f"family than the drafter ({drafter_family})"
        )
    completion = reviewer.complete(review_prompt(claim, statement, context))
    return ClaimReview(
        claim_id=claim.id,
        session_id=session_id,
        judgement=parse_judgement(completion.text),
        statement=statement,
        reviewer_provider=reviewer.name,
        reviewer_family=reviewer.family,
        reviewer_model=completion.model,
        drafter_family=drafter_family,
        **completion.usage(),
        created_at=utcnow(),
    )


__all__ = ["parse_judgement", "review_claim"]
