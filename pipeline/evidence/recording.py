"""Verdicts recorded from pytest tests marked ``hypothesis_check`` (see the pytest plugin)."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.evidence.models import HypothesisVerdict, Outcome, Run
from pipeline.settings import Settings


def test_verdict(*, claim_id: str, binder: str, run: Run, outcome: Outcome, reason: str,
                 nodeid: str) -> HypothesisVerdict:
    return HypothesisVerdict(
        claim_id=claim_id, binder=binder, check=None, run_id=run.id, outcome=outcome,
        statistic="pytest test", n=run.n_steps, seeds=tuple(run.seeds()),
        reason=reason[:2000], details={"test": nodeid}, source="pytest")


def store(settings: Settings, run: Run, verdicts: Sequence[HypothesisVerdict]
          ) -> list[HypothesisVerdict]:
    from pipeline.evidence.store import save_verdicts
    from pipeline.store.db import Database

    db = Database(settings.db_url)
    try:
        return save_verdicts(db, run, verdicts)
    finally:
        db.close()


__all__ = ["store", "test_verdict"]
