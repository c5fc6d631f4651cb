"""Many writers at once, in threads and in processes: every submission is stored exactly
once with its job, and a token's limits hold exactly (no Lean involved), on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlalchemy import func, select

from pipeline.claims.registry import load_registry
from pipeline.service.config import ServiceConfig
from pipeline.service.errors import RateLimited
from pipeline.service.models import SubmissionIn
from pipeline.service.services import open_services
from pipeline.service.submission_service import SubmissionService
from pipeline.service.tables import JobRow, SubmissionRow
from pipeline.settings import Settings


def _submit_many(submissions: SubmissionService, token_id: str, sub: SubmissionIn, n: int,
                 out: dict[str, int], lock: threading.Lock) -> None:
    for _ in range(n):
        try:
            submissions.submit(sub, token_id=token_id, channel="http")
            key = "ok"
        except RateLimited:
            key = "limited"
        with lock:
            out[key] = out.get(key, 0) + 1


def test_threads_never_exceed_the_rate_limit_and_lose_nothing(
    service_settings: Settings, db_url: str
) -> None:
    settings = service_settings.model_copy(update={"database_url": db_url})
    claim = load_registry(settings).claims[0]
    sub = SubmissionIn(claim_id=claim.id, proof="by\n  sorry", agent="t")
    with open_services(settings, ServiceConfig(), worker_threads=0) as core:
        token = core.tokens.create("t", rate_per_minute=50, max_concurrent=10_000).token
        out: dict[str, int] = {}
        lock = threading.Lock()
        threads = [threading.Thread(target=_submit_many, args=(core.submissions, token.id, sub, 10, out, lock))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert out == {"ok": 50, "limited": 30}
        with core.db.session() as s:
            assert s.scalar(select(func.count()).select_from(SubmissionRow)) == 50
            assert s.scalar(select(func.count(func.distinct(JobRow.submission_id)))) == 50


WRITER = """
import sys
from pathlib import Path
from pipeline.service.config import ServiceConfig
from pipeline.service.services import open_services
from pipeline.service.errors import RateLimited
from pipeline.service.models import SubmissionIn
from pipeline.settings import Settings
settings = Settings.load(Path(sys.argv[1]), database_url=sys.argv[2], state_dir=Path(sys.argv[3]))
ok = 0
with open_services(settings, ServiceConfig(), worker_threads=0) as core:
    for _ in range(40):
        try:
            core.submissions.submit(SubmissionIn(claim_id=sys.argv[4], proof="by\\n  sorry", agent="p"),
                        token_id=sys.argv[5], channel="http")
            ok += 1
        except RateLimited:
            pass
print(ok)
"""


def test_processes_share_one_limit_through_the_database(
    service_settings: Settings, db_url: str
) -> None:
    settings = service_settings.model_copy(update={"database_url": db_url})
    claim = load_registry(settings).claims[0]
    with open_services(settings, ServiceConfig(), worker_threads=0) as core:
        token = core.tokens.create("p", rate_per_minute=1_000, max_concurrent=45).token
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(settings.project_root),
                          str(settings.database_url), str(settings.state), claim.id, token.id],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    accepted = [int(p.communicate(timeout=300)[0].strip()) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(accepted) == 45  # the concurrency cap, exactly, across three processes
    with open_services(settings, ServiceConfig(), worker_threads=0) as core:
        assert core.queue.counts()["queued"] == 45
