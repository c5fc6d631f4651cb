"""Saving and reading hypothesis verdicts (through :class:`pipeline.store.db.Database`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import EvidenceError
from pipeline.evidence.models import HypothesisVerdict, RecordedRun, Run
from pipeline.evidence.tables import EvidenceRunRow, HypothesisVerdictRow
from pipeline.store.db import Database
from pipeline.store.times import as_utc, utcnow


def save_verdicts(db: Database, run: Run, verdicts: Sequence[HypothesisVerdict]
                  ) -> list[HypothesisVerdict]:
    """Record ``run`` and its verdicts; returns the verdicts stamped with ``recorded_at``."""
    now = utcnow()
    stamped = [v.model_copy(update={"recorded_at": now}) for v in verdicts]
    try:
        with db.session() as session:
            session.merge(EvidenceRunRow(
                id=run.id, path=str(run.path) if run.path else None, kind=run.kind,
                source=run.provenance.source, n_steps=run.n_steps, recorded_at=now))
            for v in stamped:
                session.add(HypothesisVerdictRow(
                    run_id=v.run_id, claim_id=v.claim_id, binder=v.binder, check=v.check,
                    outcome=v.outcome, source=v.source, recorded_at=now,
                    payload=v.model_dump_json()))
    except SQLAlchemyError as exc:
        raise EvidenceError(f"cannot store verdicts in {db.url}: {exc.__class__.__name__}: "
                            f"{str(exc).splitlines()[0]}") from exc
    return stamped


def latest_verdicts(db: Database, claim_id: str, *, run_id: str | None = None
                    ) -> list[HypothesisVerdict]:
    """The most recent verdict for each (binder, source, role) of ``claim_id`` (optionally on
    one run): a pytest-recorded and a statistical verdict of one hypothesis are both kept."""
    query = select(HypothesisVerdictRow).where(HypothesisVerdictRow.claim_id == claim_id)
    if run_id is not None:
        query = query.where(HypothesisVerdictRow.run_id == run_id)
    query = query.order_by(HypothesisVerdictRow.id.desc())
    try:
        with db.session() as session:
            rows = session.scalars(query).all()
            latest: dict[tuple[str, str, str], HypothesisVerdict] = {}
            for row in rows:
                verdict = HypothesisVerdict.model_validate_json(row.payload)
                key = (row.binder, row.source, verdict.role)
                if key not in latest:
                    latest[key] = verdict
    except SQLAlchemyError as exc:
        raise EvidenceError(f"cannot read verdicts from {db.url}: {exc.__class__.__name__}") \
            from exc
    return sorted(latest.values(), key=lambda v: (v.role, v.binder, v.source))


def verdicts_for_run(db: Database, run_id: str) -> list[HypothesisVerdict]:
    """Every verdict recorded on ``run_id``, oldest first."""
    query = (select(HypothesisVerdictRow).where(HypothesisVerdictRow.run_id == run_id)
             .order_by(HypothesisVerdictRow.id))
    try:
        with db.session() as session:
            return [HypothesisVerdict.model_validate_json(r.payload)
                    for r in session.scalars(query).all()]
    except SQLAlchemyError as exc:
        raise EvidenceError(f"cannot read verdicts from {db.url}: {exc.__class__.__name__}") \
            from exc


def recorded_runs(db: Database) -> list[RecordedRun]:
    """Every run that has verdicts, oldest first."""
    query = select(EvidenceRunRow).order_by(EvidenceRunRow.recorded_at, EvidenceRunRow.id)
    try:
        with db.session() as session:
            return [RecordedRun(id=r.id, kind=r.kind, source=r.source, path=r.path,
                                n_steps=r.n_steps, recorded_at=as_utc(r.recorded_at))
                    for r in session.scalars(query)]
    except SQLAlchemyError as exc:
        raise EvidenceError(f"cannot read the recorded runs from {db.url}: "
                            f"{exc.__class__.__name__}") from exc


__all__ = ["latest_verdicts", "recorded_runs", "save_verdicts", "verdicts_for_run"]
