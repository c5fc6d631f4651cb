"""Where the first ``check_proof`` after a server's start goes (issue 27): each step of an
iteration check of a genuine proof of ``bayes_surprise``, timed on its own, on a project whose
``Formal/`` is already built (its own state folder).

1. the resident worker's start (the wasm Lean process up);
2. importing the claim's header in that worker (what ``ResidentPool.prestart`` does at start);
3. the proof's elaboration in the warm worker (a fresh proof text);
4. the compile and compiled-environment audit that an accepted proof of a claim gets (whether
   its term reaches the claim's own declaration), first with the audit's core index cold, then
   again for another proof text with it decoded (``Checker.warm`` decodes it at start).

    python benchmarks/bench_first_check.py [--project PATH]

Wrap it in the machine's Lean slot wrapper when the machine is shared.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
from pipeline.claims.assemble import assemble_proof
from pipeline.claims.registry import load_registry
from pipeline.lean.checker import Checker, iteration_header
from pipeline.lean.verdict import with_imports
from pipeline.settings import Settings
from tests.service.helpers import BAYES, bayes_proof


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=_ROOT)
    args = parser.parse_args()
    settings = Settings.load(args.project)
    claim = next(c for c in load_registry(settings).claims if c.id == BAYES)
    proof = bayes_proof(settings.project_root) + f"\n  -- bench {time.time()}"  # never a cached result
    rows: list[tuple[str, float]] = []
    with Checker(settings, prestart=True) as checker:
        pool = checker.iteration.pool()
        request = assemble_proof(claim, proof)
        header = iteration_header(request)
        t0 = time.monotonic()
        worker = pool._factory(header)  # timing its parts
        assert worker.wait_ready(pool.ready_timeout_s), worker.stderr_tail()
        rows.append(("resident worker start (process up)", time.monotonic() - t0))
        t0 = time.monotonic()
        worker.sync(header, pool.ready_timeout_s)
        rows.append(("import of the claim's header in it", time.monotonic() - t0))
        worker.close()
        pool.prestart(header)  # as the server does before "ready"
        run = pool.check(with_imports(request.source, request.imports), 600)
        rows.append((f"elaboration of the proof in a warm worker (started one: {run.started_worker})", run.elapsed_s))
        t0 = time.monotonic()
        checker.check(request)
        rows.append(("compile + audit of the accepted proof, audit's core index cold", time.monotonic() - t0))
        t0 = time.monotonic()
        checker.check(assemble_proof(claim, proof + "\n  -- another text"))
        rows.append(("compile + audit of another text, core index decoded", time.monotonic() - t0))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nMeasured {when} on {platform.node()} ({platform.machine()}), Formal/ built.\n")
    print("| step of the first check_proof | seconds |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
