"""Small builders shared by the service tests (real rows in a real SQLite file)."""

from __future__ import annotations

from pathlib import Path

from pipeline.lean.models import CheckRequest
from pipeline.service.ids import new_id, sha256
from pipeline.service.queue import JobQueue
from pipeline.service.tables import SubmissionRow, SubmissionStatus
from pipeline.store.db import Database
from pipeline.store.times import utcnow


def queued_submission(db: Database, proof: str = "by decide", *, token_id: str | None = None) -> str:
    """Insert a queued submission and its job carrying its request, the way
    ``SubmissionService.submit`` does."""
    sid, now = new_id(), utcnow()
    source = f"theorem sequent_submission : 2 + 2 = 4 := {proof}\n"
    with db.session() as session:
        session.add(
            SubmissionRow(
                id=sid, claim_id="demo", agent="test", token_id=token_id, channel="http",
                proof=proof, proof_sha256=sha256(proof), statement="2 + 2 = 4",
                source=source, imports=[],
                file_name="Submission.lean", status=SubmissionStatus.queued, created_at=now,
            )
        )
        session.flush()
        JobQueue.enqueue(session, sid, CheckRequest(source=source, file_name="Submission.lean"), now)
    return sid


BAYES = "bayes_surprise"
BAYES_BINDERS = "ξ μ w k h_prior_weight h_dominance h_truth_deterministic h_probabilities"


def bayes_proof(project_root: Path) -> str:
    """A genuine proof of the ``bayes_surprise`` claim that does not cite the claim's own
    declaration: the library's proof body, after ``intro`` of the pinned statement's binders."""
    source = (project_root / "Formal" / "Bayes.lean").read_text(encoding="utf-8")
    head = "surprises ξ ≤ k := by\n"
    body = source[source.index(head) + len(head):].split("\n\n", 1)[0]
    return f"by\n  intro {BAYES_BINDERS}\n{body}"
