"""Benchmark of the submission service on loopback.

1. Accept latency: ``--clients`` concurrent clients POST ``--requests`` submissions to a real
   ``sequent serve`` (no check workers, so this measures persisting + answering 202);
   p50/p99 of the client-side latency.
2. End to end: a server with ``--workers`` check workers takes ``--e2e`` distinct correct
   proofs (a genuine proof of debate_equilibrium, varied so no result is cached) from submission to
   recorded verdict; checks per minute.

    python benchmarks/bench_service.py [--record docs/performance.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from pipeline.claims.registry import load_registry
from pipeline.settings import Settings

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # the service harness lives in tests/service/process.py
    sys.path.insert(0, str(_ROOT))
from common import copy_project, percentile  # benchmarks/ is the script's folder

from tests.service.process import ServerProcess, run_cli, service_env
from tests.service.proofs import EQUILIBRIUM, EQUILIBRIUM_PROOF

REPO = Path(__file__).resolve().parents[1]


def accept_latency(server: ServerProcess, secret: str, claim_id: str, clients: int,
                   requests: int, rate: float | None = None) -> dict[str, float]:
    """Closed loop (each client sends its next submission when the last is answered) or,
    with ``rate``, open loop: the clients together send ``rate`` submissions per second on
    a fixed schedule, and latency counts from the scheduled send time."""
    headers = {"Authorization": f"Bearer {secret}"}
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    per_client = max(requests // clients, 1)
    barrier = threading.Barrier(clients)

    def client(k: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            http.get("/v1/health")  # open the connection before the clock starts
            barrier.wait()
            interval = clients / rate if rate else 0.0
            start = time.perf_counter() + (k * interval / clients if rate else 0.0)
            for i in range(per_client):
                body = {"claim_id": claim_id, "proof": f"by\n  -- {k}.{i}\n  sorry", "agent": f"bench-{k}"}
                if rate:
                    t0 = start + i * interval
                    time.sleep(max(t0 - time.perf_counter(), 0.0))
                else:
                    t0 = time.perf_counter()
                r = http.post("/v1/submissions", json=body)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 202:
                    with lock:
                        failures.append(r.status_code)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    before = httpx.get(server.url + "/v1/health").json()["queue"]["queued"]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if failures:
        raise SystemExit(f"{len(failures)} submissions were not accepted: {sorted(set(failures))}")
    queued = httpx.get(server.url + "/v1/health").json()["queue"]["queued"]
    return {
        "mode": f"open loop, {rate:g}/s" if rate else "closed loop",
        "requests": len(latencies),
        "clients": clients,
        "persisted": queued - before,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "accepted_per_s": round(len(latencies) / wall, 1),
    }


def end_to_end(server: ServerProcess, secret: str, n: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        t0 = time.perf_counter()
        ids = []
        for i in range(n):
            r = http.post("/v1/submissions", json={
                "claim_id": EQUILIBRIUM,
                "proof": EQUILIBRIUM_PROOF.replace("by\n", f"by\n  -- e2e {i} {time.time_ns()}\n", 1),
                "agent": "bench-e2e"})
            r.raise_for_status()
            ids.append(r.json()["id"])
        statuses: dict[str, str] = {}
        while len(statuses) < len(ids):
            for sid in ids:
                if sid not in statuses:
                    view = http.get(f"/v1/submissions/{sid}").json()
                    if view["status"] in ("accepted", "rejected", "error"):
                        statuses[sid] = view["status"]
            time.sleep(0.25)
        wall = time.perf_counter() - t0
    return {
        "checks": len(ids),
        "accepted": sum(s == "accepted" for s in statuses.values()),
        "wall_s": round(wall, 1),
        "checks_per_minute": round(len(ids) / wall * 60, 1),
    }


def record(path: Path, accepts: list[dict[str, float]], e2e: dict[str, float] | None,
           workers: int) -> None:
    memory = round(psutil.virtual_memory().total / 2**30)
    machine = f"{platform.node()}: {psutil.cpu_count()} cores, {memory} GiB, {platform.machine()}"
    lines = [
        "## Service",
        "",
        (f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine} "
         "with `python benchmarks/bench_service.py` (client and server on the same machine; "
         f"load average {os.getloadavg()[1]:.1f} over the last 5 minutes of the run)."),
        "",
    ]
    lines += [
        (f"* Accept latency ({accept['mode']}), {accept['clients']} concurrent clients on "
         f"loopback, {accept['requests']} submissions (persist + 202, SQLite): "
         f"p50 **{accept['p50_ms']} ms**, p99 **{accept['p99_ms']} ms** (max {accept['max_ms']} ms; "
         f"{accept['accepted_per_s']} accepted/s). Target p99 ≤ 50 ms.")
        for accept in accepts
    ]
    if e2e is not None:
        lines.append(
            f"* End to end, {workers} in-process worker(s), embedded Lean: {e2e['checks']} distinct "
            f"proofs submitted to verdict in {e2e['wall_s']} s: **{e2e['checks_per_minute']} checks/minute** "
            f"({e2e['accepted']} accepted)."
        )
    section = "\n".join(lines) + "\n"
    text = path.read_text() if path.exists() else "# Performance\n"
    start = text.find("## Service")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end != -1 else "")
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0,
                    help="aggregate submissions/s of the open-loop run (0: skip it)")
    ap.add_argument("--e2e", type=int, default=12, help="proofs for the end-to-end phase (0: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--record", type=Path, help="write the figures under '## Service' in this file")
    args = ap.parse_args()
    lean_home = Path(os.environ.get("SEQUENT_LEAN_HOME", REPO / ".sequent" / "lean")).resolve()
    with tempfile.TemporaryDirectory(prefix="sequent-bench-") as tmp:
        root = copy_project(Path(tmp) / "proj")
        settings = Settings.load(root, lean_home=lean_home, state_dir=Path(tmp) / "state",
                                 pool_size=args.workers, lean_backend="embedded")
        registry = load_registry(settings)
        claims = registry.claims
        env = service_env(settings, claim_status=False)
        made = run_cli(["token", "create", "--name", "bench", "--rate", "10000000",
                        "--concurrency", "10000000", "--json"], env, root)
        if made.returncode != 0:
            raise SystemExit(made.stderr)
        secret = json.loads(made.stdout)["secret"]
        server = ServerProcess(root, env, Path(tmp) / "accept.log", workers=0).start()
        try:
            server.wait_ready(timeout=1800)  # measure accepting, not accepting beside a build
            accepts = [accept_latency(server, secret, claims[0].id, args.clients, args.requests)]
            if args.rate:
                accepts.append(accept_latency(server, secret, claims[0].id, args.clients,
                                              args.requests, rate=args.rate))
        finally:
            server.stop()
        print(json.dumps({"accept": accepts}, indent=2))
        e2e = None
        if args.e2e:
            fresh = service_env(settings.model_copy(update={"database_url": f"sqlite:///{tmp}/e2e.db"}),
                                claim_status=False)
            made = run_cli(["token", "create", "--name", "bench", "--rate", "10000000",
                            "--concurrency", "10000000", "--json"], fresh, root)
            secret = json.loads(made.stdout)["secret"]
            server = ServerProcess(root, fresh, Path(tmp) / "e2e.log", workers=args.workers).start()
            try:
                server.wait_ready(timeout=1800)
                e2e = end_to_end(server, secret, args.e2e)
            finally:
                server.stop()
            print(json.dumps({"end_to_end": e2e}, indent=2))
        if args.record:
            record(args.record, accepts, e2e, args.workers)


if __name__ == "__main__":
    main()
