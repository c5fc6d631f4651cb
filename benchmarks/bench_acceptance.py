"""The acceptance path end to end: one-shot against batched, side by side in one run.

    .venv/bin/python benchmarks/bench_acceptance.py [--proofs 16] [--workers 2] [--batch 8]

A real ``sequent serve`` on loopback with ``--workers`` check workers takes ``--proofs``
distinct proofs of ONE claim (``POST /v1/submissions``, the claim's own declaration, varied by a
comment so that nothing is cached) and every verdict is awaited; audited verdicts/minute, from
the first POST to the last recorded verdict. Twice, on the same project and build:

1. ``SEQUENT_SERVICE_BATCH_SIZE=1``: each submission compiled on its own (one ``lean -o`` + audit);
2. ``SEQUENT_SERVICE_BATCH_SIZE=--batch``: queued submissions of the claim compiled as one module
   (``Checker.check_all``), audited per theorem.

Every verdict must be ``accepted`` and audited (its recorded result has an environment audit),
else the run fails. The figures go to docs/performance.md by hand, with the date, the machine
and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import copy_project  # benchmarks/ is the script's folder

from pipeline.claims.registry import load_registry
from pipeline.settings import Settings, cpu_count

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # the service harness lives in tests/service/process.py
    sys.path.insert(0, str(_ROOT))
from tests.service.process import ServerProcess, run_cli, service_env
from tests.service.proofs import EQUILIBRIUM, EQUILIBRIUM_PROOF

REPO = Path(__file__).resolve().parents[1]


def submit_all(server: ServerProcess, secret: str, claim_id: str, proof: str, n: int, tag: str
               ) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        t0 = time.perf_counter()
        ids = []
        for i in range(n):
            r = http.post("/v1/submissions", json={
                "claim_id": claim_id, "agent": "bench-acceptance",
                "proof": proof.replace("by\n", f"by\n  -- {tag} {i} {time.time_ns()}\n", 1)})
            r.raise_for_status()
            ids.append(r.json()["id"])
        views: dict[str, dict[str, object]] = {}
        while len(views) < len(ids):
            for sid in ids:
                if sid not in views:
                    view = http.get(f"/v1/submissions/{sid}").json()
                    if view["status"] in ("accepted", "rejected", "error"):
                        views[sid] = view
            time.sleep(0.2)
        wall = time.perf_counter() - t0
    statuses = [str(v["status"]) for v in views.values()]
    backends = [str(v.get("backend")) for v in views.values()]
    return {"verdicts": len(ids), "accepted": statuses.count("accepted"), "wall_s": round(wall, 1),
            "verdicts_per_minute": round(len(ids) / wall * 60, 1),
            "batched": sum(b.endswith("+batch") for b in backends)}


def audited(db: Path) -> bool:
    """Every accepted submission's recorded result carries the compiled-environment audit."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT status, result FROM service_submissions").fetchall()
    return all(status != "accepted" or (result and json.loads(result).get("environment")) for status, result in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proofs", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    lean_home = Path(os.environ.get("SEQUENT_LEAN_HOME", REPO / ".sequent" / "lean")).resolve()
    out: dict[str, object] = {"machine": f"{platform.node()}: {cpu_count()} cores",
                              "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="sequent-bench-acc-") as tmp:
        root = copy_project(Path(tmp) / "proj")
        settings = Settings.load(root, lean_home=lean_home, state_dir=Path(tmp) / "state",
                                 pool_size=args.workers, lean_backend="embedded")
        claim = load_registry(settings).get(EQUILIBRIUM)
        for label, size in (("one-shot", 1), ("batched", args.batch)):
            db = Path(tmp) / f"{label}.db"
            env = service_env(settings.model_copy(update={"database_url": f"sqlite:///{db}"}),
                              claim_status=False, batch_size=size)
            made = run_cli(["token", "create", "--name", "bench", "--rate", "10000000",
                            "--concurrency", "10000000", "--json"], env, root)
            if made.returncode != 0:
                raise SystemExit(made.stderr)
            secret = json.loads(made.stdout)["secret"]
            server = ServerProcess(root, env, Path(tmp) / f"{label}.log", workers=args.workers).start()
            try:
                server.wait_ready(timeout=3600)  # the build is shared: paid by the first run only
                figures = submit_all(server, secret, claim.id, EQUILIBRIUM_PROOF, args.proofs, label)
            finally:
                server.stop()
            if figures["accepted"] != args.proofs or not audited(db):
                raise SystemExit(f"{label}: not every proof was accepted with an audit: {figures}")
            out[label] = {"batch_size": size, **figures}
            print(json.dumps({label: out[label]}), flush=True)
    out["load_after"] = os.getloadavg()
    out["claim"] = claim.id
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
