"""Ad-hoc checks of draft files: checked at once under the trust policy (iteration path: a
resident Lean worker, see docs/lean-backends.md), recorded for the token's rate limit and for
audit, and never counted as a proof of anything."""

from __future__ import annotations

from sqlalchemy import update

from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Policy
from pipeline.service.admission import admit_write
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import TooLarge
from pipeline.service.ids import new_id, sha256
from pipeline.service.models import CheckIn, CheckOut
from pipeline.service.tables import AdhocCheckRow
from pipeline.service.writelock import WriteGate
from pipeline.store.db import Database
from pipeline.store.times import utcnow

CHECK_POLICY = Policy()


class AdhocChecks:
    def __init__(self, db: Database, config: ServiceConfig, checker: Checker,
                 gate: WriteGate | None = None) -> None:
        self._db, self._config, self._checker = db, config, checker
        self._gate = gate or WriteGate(db)

    def run(self, draft: CheckIn, *, token_id: str | None) -> CheckOut:
        size = len(draft.source.encode("utf-8"))
        if size > self._config.max_check_bytes:
            raise TooLarge(
                f"the draft is {size} bytes; the limit is {self._config.max_check_bytes} bytes"
            )
        now = utcnow()
        check_id = new_id()
        with self._gate(), self._db.session() as session:
            if token_id is not None:
                admit_write(session, token_id, now, opens_submission=False)
            session.add(
                AdhocCheckRow(
                    id=check_id,
                    token_id=token_id,
                    file_name=draft.file_name,
                    source_sha256=sha256(draft.source),
                    created_at=now,
                )
            )
        result = self._checker.diagnose(  # iteration path: a resident worker
            CheckRequest(
                source=draft.source,
                imports=draft.imports,
                file_name=draft.file_name,
                policy=CHECK_POLICY,
                timeout_s=self._config.check_timeout_s,
            )
        )
        with self._gate(), self._db.session() as session:
            session.execute(
                update(AdhocCheckRow)
                .where(AdhocCheckRow.id == check_id)
                .values(verdict=result.verdict.value, elapsed_s=result.elapsed_s)
                .execution_options(synchronize_session=False)
            )
        return CheckOut(id=check_id, result=result, diagnostics=result.diagnostics())


__all__ = ["CHECK_POLICY", "AdhocChecks"]
