"""Reading and writing A/B runs and trials."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from pipeline.ab.models import Suite, TrialRecord, Variant, json_digest
from pipeline.ab.tables import ABRunRow, ABTrialRow
from pipeline.errors import InputError, NotFoundError
from pipeline.models import Frozen
from pipeline.store.db import Database


class RunInfo(Frozen):
    id: str
    suite_name: str
    suite_version: str
    suite_digest: str
    task_ids: tuple[str, ...]
    variants: tuple[Variant, ...]
    seeds: int
    status: str
    created_at: datetime


def create_run(db: Database, run_id: str, suite: Suite, variants: list[Variant], seeds: int) -> None:
    with db.session() as s:
        s.add(ABRunRow(
            id=run_id, suite_name=suite.name, suite_version=suite.version,
            suite_digest=suite.digest, task_ids=[t.id for t in suite.tasks],
            variants=[{**v.model_dump(mode="json"), "digest": v.digest} for v in variants],
            seeds=seeds, status="running", created_at=datetime.now(UTC),
        ))


def get_run(db: Database, run_id: str) -> RunInfo:
    with db.session() as s:
        row = s.get(ABRunRow, run_id)
        if row is None:
            raise NotFoundError(f"no A/B run '{run_id}' (list them with `sequent ab runs`)")
        variants = []
        for data in row.variants:
            stored = dict(data)
            digest = stored.pop("digest", None)
            variant = Variant.model_validate(stored)
            # a run stored before a field was added keeps the digest of what it stored
            if digest not in (variant.digest, json_digest(stored)):
                raise InputError(f"run {run_id}: variant {variant.name} no longer matches its digest")
            variants.append(variant)
        return RunInfo(id=row.id, suite_name=row.suite_name, suite_version=row.suite_version,
                       suite_digest=row.suite_digest, task_ids=tuple(row.task_ids),
                       variants=tuple(variants), seeds=row.seeds, status=row.status,
                       created_at=row.created_at)


def list_runs(db: Database) -> list[RunInfo]:
    with db.session() as s:
        ids = list(s.scalars(select(ABRunRow.id).order_by(ABRunRow.created_at)))
    return [get_run(db, i) for i in ids]


def set_status(db: Database, run_id: str, status: str) -> None:
    with db.session() as s:
        row = s.get(ABRunRow, run_id)
        if row is not None:
            row.status = status


def record_trial(db: Database, trial: TrialRecord) -> None:
    with db.session() as s:
        s.add(ABTrialRow(**trial.model_dump()))


def trials(db: Database, run_id: str) -> list[TrialRecord]:
    with db.session() as s:
        rows = s.scalars(select(ABTrialRow).where(ABTrialRow.run_id == run_id)
                         .order_by(ABTrialRow.id)).all()
        return [TrialRecord.model_validate(r, from_attributes=True) for r in rows]


__all__ = ["RunInfo", "create_run", "get_run", "list_runs", "record_trial", "set_status", "trials"]
