"""Runs the kernel replay (:mod:`pipeline.lean.replay`) of an accepted file: in a replay worker
started ahead for its imports when one is idle, else one-shot. Either way a Lean process that no
check ran in before, used for this one replay. Part of the acceptance path: an audited verdict
is ``accepted`` only once its module was replayed (with ``SEQUENT_LEAN_REPLAY`` on)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.errors import SequentError
from pipeline.lean.backends import Backend
from pipeline.lean.builds import keep_parts
from pipeline.lean.models import AuditIssue, EnvironmentAudit, Reason
from pipeline.lean.process import in_background
from pipeline.lean.replay import (
    REPLAY_FILE,
    ReplayPlan,
    ReplayResult,
    plan,
    read_messages,
    read_result,
    replay_header,
    replay_prefix,
    replay_source,
)
from pipeline.lean.resident import ResidentPool, ResidentWorker
from pipeline.lean.verdict import audit_reasons
from pipeline.settings import Settings

log = logging.getLogger(__name__)

PoolFactory = Callable[[int, int], ResidentPool]
"""(workers, checks before a worker is recycled) -> a resident pool."""


def _copy_parts(plan_: ReplayPlan, workdir: Path) -> list[str]:
    """The module's ``.olean`` parts copied into ``workdir/replayed`` (what a replay reads)."""
    folder = workdir / "replayed"
    folder.mkdir(parents=True, exist_ok=True)
    for part in plan_.parts:
        shutil.copyfile(part, folder / part.name)
    return [str(folder / part.name) for part in plan_.parts]


def stage(produced: Path) -> Path:
    """A copy of a compiled file's parts outside its Lean session, for the replay."""
    target = Path(tempfile.mkdtemp(prefix="sequent-replay-")) / produced.name
    keep_parts(produced, target)
    return target


class Replayer:
    """The kernel replay of compiled modules, with replay workers started ahead (:meth:`warm`)."""

    def __init__(self, settings: Settings, backend: Backend, new_pool: PoolFactory) -> None:
        self.settings, self.backend = settings, backend
        self._new_pool = new_pool
        self._lock = threading.Lock()
        self._workers: ResidentPool | None = None
        """Each a fresh Lean process that has imported a replay's header and elaborated the
        replay program, used for ONE replay."""

    def warm(self, modules: Sequence[str], *, workers: int = 1) -> bool:
        """Start a replay worker for modules importing ``modules`` (the next replay of such a
        module then skips Lean's start and the imports; each worker replays once, and a new
        one starts after it). ``workers``: the replay workers' pool size, set on first use.
        Returns whether a worker was started."""
        with self._lock:
            if self._workers is None:
                self._workers = self._new_pool(workers, 2)
            pool = self._workers
        return pool.prestart(replay_header(modules), replay_prefix(modules))

    def replay(self, olean: Path) -> ReplayResult:
        """Replay a compiled module (``olean`` and its parts) in a fresh Lean process: its
        constants sent again to the kernel (``lean4checker``'s check)."""
        plan_ = plan(olean)
        timeout = self.settings.lean_timeout_s
        pool = self._workers
        if pool is not None and not in_background():  # the warm workers are the calls'
            with pool.lease_idle(replay_header(plan_.imports)) as worker:
                if worker is not None:
                    result = self._replay_in(worker, plan_, timeout)
            if worker is not None:
                self._restart(pool, plan_.imports)
                return result
        with self.backend.session(timeout) as session:
            paths = _copy_parts(plan_, session.workdir)
            raw = session.compile(REPLAY_FILE, replay_source(plan_, paths), "out/SequentReplay.olean", timeout)
        if raw.timed_out or raw.out_of_memory:
            return ReplayResult(False, 0, "the replay did not finish (time or memory limit)", finished=False)
        return read_result(raw.stdout, plan_)

    @staticmethod
    def _replay_in(worker: ResidentWorker, plan_: ReplayPlan, timeout: float) -> ReplayResult:
        """One replay in a replay worker (its header imported, the program elaborated)."""
        run = worker.sync(replay_source(plan_, _copy_parts(plan_, worker.workdir)), timeout)
        if run.timed_out or run.out_of_memory or run.crashed:
            return ReplayResult(False, 0, "the replay did not finish (time or memory limit, or a crash)",
                                finished=False)
        return read_messages([(m.severity.value, m.text) for m in run.messages], plan_)

    @staticmethod
    def _restart(pool: ResidentPool, imports: Sequence[str]) -> None:
        """A replay worker for ``imports`` started in the background (the one just used is closed)."""

        def start() -> None:
            try:
                pool.prestart(replay_header(imports), replay_prefix(imports))
            except (SequentError, OSError) as exc:  # the next replay runs one-shot
                log.warning("starting a replay worker failed: %s", exc)

        threading.Thread(target=start, name="sequent-replayer", daemon=True).start()

    @staticmethod
    def discard(staged: Path) -> None:
        """Remove a copy made by :func:`stage`."""
        shutil.rmtree(staged.parent, ignore_errors=True)

    def staged(self, staged: Path) -> ReplayResult:
        """Replay a file staged by :func:`stage`, then remove the copy."""
        try:
            return self.replay(staged)
        finally:
            self.discard(staged)

    def audit(self, staged: Path, audit: EnvironmentAudit, *, keep: Path | None = None
              ) -> tuple[EnvironmentAudit, list[Reason]]:
        """The audit with the replay's verdict (off with ``SEQUENT_LEAN_REPLAY=false``); a
        replayed module's parts are then kept at ``keep``. The staged copy is removed."""
        if not self.settings.lean_replay:
            if keep is not None:
                keep_parts(staged, keep)
            shutil.rmtree(staged.parent, ignore_errors=True)
            return audit, audit_reasons(audit)
        try:
            result = self.replay(staged)
            if result.ok:
                audit = audit.model_copy(update={"replayed": result.replayed})
                if keep is not None:
                    keep_parts(staged, keep)
            else:
                issue = AuditIssue(rule="replay" if result.finished else "replay_unfinished", declaration="",
                                   message=f"replayed in a fresh kernel: {result.message}")
                audit = audit.model_copy(update={"issues": (*audit.issues, issue)})
        finally:
            shutil.rmtree(staged.parent, ignore_errors=True)
        return audit, audit_reasons(audit)

    def close(self) -> None:
        with self._lock:
            if self._workers is not None:
                self._workers.close()
                self._workers = None


__all__ = ["Replayer", "stage"]
