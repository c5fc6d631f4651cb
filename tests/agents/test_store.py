"""The agents' tables on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.agents import store
from pipeline.agents.models import (
    AcceptedProof,
    Attempt,
    ClaimReview,
    Discrepancy,
    ReviewJudgement,
)
from pipeline.lean.models import CheckResult, Message, Position, Reason, Severity, Verdict
from pipeline.store.db import Database
from pipeline.store.times import utcnow


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'state' / 'sequent.db'}")
    yield database
    database.close()


def attempt(session: str, index: int, outcome: str = "rejected", **kw: object) -> Attempt:
    check = CheckResult(
        verdict=Verdict.rejected, reasons=(Reason.error,),
        messages=(Message(severity=Severity.error, text="unsolved goals\n⊢ False",
                          pos=Position(line=4, column=2)),),
        backend="embedded", lean_version="4.28.0", elapsed_s=3.2, cache_key="k" * 64,
    )
    return Attempt(
        session_id=session, claim_id="toy", index=index, kind="repair" if index > 1 else "proof",
        provider="anthropic", family="anthropic", model="claude-sonnet-4-6",
        prompt_hash="h" * 64, output="```lean\nby simp\n```", proof="by simp",
        statement="True", source="import Init\ntheorem x : True := by simp", diff="",
        outcome=outcome, check=check if outcome == "rejected" else None,
        input_tokens=100, output_tokens=20, cost_usd=0.0006, model_s=1.5, check_s=3.2,
        retries=1, created_at=utcnow(), **kw,
    )


def session(db: Database, sid: str, claim: str = "toy") -> None:
    store.start_session(db, session_id=sid, claim_id=claim, provider="anthropic",
                        family="anthropic", model="claude-sonnet-4-6", rounds=4)


def test_attempts_round_trip_in_order(db: Database) -> None:
    session(db, "s1")
    session(db, "s2")
    session(db, "other", claim="elsewhere")
    for a in (attempt("s1", 2), attempt("s1", 1), attempt("s2", 1, outcome="invalid",
                                                          error="brings its own theorem")):
        store.record_attempt(db, a)
    got = store.attempts_for(db, "toy")
    assert [(a.session_id, a.index) for a in got] == [("s1", 1), ("s1", 2), ("s2", 1)]
    first = got[0]
    assert first == attempt("s1", 1).model_copy(update={"created_at": first.created_at})
    assert first.check is not None and first.check.errors()[0].pos == Position(line=4, column=2)
    assert first.created_at.tzinfo is not None
    assert [a.index for a in store.attempts_for(db, "toy", session_id="s2")] == [1]
    assert store.attempts_for(db, "elsewhere") == []


def test_session_summary(db: Database) -> None:
    session(db, "s1")
    store.finish_session(db, "s1", status="accepted", argument="by induction",
                         input_tokens=10, output_tokens=5, cost_usd=0.25)
    [s] = store.sessions_for(db, "toy")
    assert (s.status, s.argument, s.cost_usd) == ("accepted", "by induction", 0.25)
    assert s.finished_at is not None and s.finished_at >= s.started_at


def test_latest_review_and_proof(db: Database) -> None:
    assert store.latest_review(db, "toy") is None
    assert store.latest_proof(db, "toy") is None
    session(db, "s1")
    t0 = utcnow()
    old = ClaimReview(
        claim_id="toy", session_id="s1",
        judgement=ReviewJudgement(verdict="faithful", discrepancies=[], summary="fine"),
        statement="True", reviewer_provider="openai", reviewer_family="openai",
        reviewer_model="gpt-5", drafter_family="anthropic", created_at=t0,
    )
    new = old.model_copy(update={
        "judgement": ReviewJudgement(verdict="unfaithful", summary="weaker", discrepancies=[
            Discrepancy(element="h_rate", problem="assumes the rate instead of proving it")]),
        "created_at": t0 + timedelta(seconds=1),
    })
    store.record_review(db, new)
    store.record_review(db, old)
    latest = store.latest_review(db, "toy")
    assert latest == new
    assert latest is not None and latest.flagged and not old.flagged

    proof = AcceptedProof(
        claim_id="toy", session_id="s1", path=Path("/x/.sequent/proofs/toy.lean"),
        source="import Init\n", proof="by simp", statement="True", statement_pinned=True,
        provider="anthropic", model="claude-sonnet-4-6", cache_key="c" * 64, created_at=t0,
    )
    store.record_proof(db, proof)
    assert store.latest_proof(db, "toy") == proof
