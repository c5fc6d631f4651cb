"""Resident Lean workers (iteration path) against the one-shot path, side by side in one run.

    .venv/bin/python benchmarks/bench_resident.py [--rechecks 200] [--oneshot 6] [--api 60]

Prints, for the embedded backend:

0. a cold one-shot check (fresh process): the upstream module (the main thread serves the wasm
   threads' system calls in 1 ms slices) with the full glue and the glue's 4 pre-started
   threads, with the slim glue and 4 threads, with the slim glue and 1 thread; then the patched
   module (0.05 ms slices, ``WASM_PATCHES``) with the slim glue without the start-up patches
   (``START_UP_PATCHES``) and with them (the default), 1 thread: wall time, CPU time, peak memory;
1. warm one-shot check (a pre-started process per check, idle pool): p50 / p90 of ``--oneshot``,
   with the upstream module and with the patched one;
2. a resident worker with the glue without and with the start-up patches (``--start-up``
   re-checks each): first check and the worker's CPU; then the resident re-check of small
   proofs with an unchanged header (``Checker.diagnose``): the first
   check (worker start and import included), then p50 / p90 / max of ``--rechecks`` re-checks,
   whether every verdict was the expected one, and the worker's resident memory (first, peak,
   last) with the recycling count;
3. the API end to end (``POST /v1/check`` of distinct drafts importing a claim's module, 2
   concurrent clients, a real ``sequent serve`` on loopback): checks/minute.

The figures go to docs/performance.md by hand, with the date and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Policy, Reason
from pipeline.lean.process import tree_rss_mb
from pipeline.settings import Settings, cpu_count

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:  # the service harness lives in tests/service/process.py
    sys.path.insert(0, str(_ROOT))
from common import copy_project, percentile  # benchmarks/ is the script's folder

from tests.service.process import ServerProcess, run_cli, service_env

REPO = Path(__file__).resolve().parents[1]
CASES: list[tuple[tuple[Reason, ...], str]] = [
    ((), "theorem t{i} (a b : Nat) : a + b + {i} = b + a + {i} := by omega"),
    ((Reason.error,), "theorem bad{i} : 2 + 2 = {i} + 5 := by decide"),
    ((), "theorem l{i} (l : List Nat) : (l ++ [] ++ [{i}]).length = l.length + 1 := by simp"),
    ((Reason.error,), 'theorem ty{i} : ({i} : Nat) = "a" := rfl'),
    ((), "theorem f{i} (f : Nat → Nat) (h : ∀ x, f x = x) : f {i} = {i} := by simp [h]"),
]


def upstream_home(lean_home: Path, dest: Path, *, without_start_up: bool = False) -> Path:
    """A Lean home like ``lean_home`` (the same library and Node) whose runtime has the npm
    package's own ``lean.wasm`` (no module patch) and the installed glue; or
    (``without_start_up``) the patched module and the glue derived without the start-up
    patches (``START_UP_PATCHES``)."""
    from pipeline.lean.install import derive_runtime, load_install
    from pipeline.lean.patches import START_UP_PATCHES

    install = load_install(Settings.load(dest, lean_home=lean_home))
    package = install.package
    runtime = dest / "runtime"
    runtime.mkdir(parents=True)
    shutil.copy2(install.launcher, runtime / install.launcher.name)
    if without_start_up:
        derive_runtime(package, runtime, skip=START_UP_PATCHES)
    else:
        for f in (install.glue, install.thread_glue):
            if f is not None:
                shutil.copy2(f, runtime / f.name)
        (runtime / "lean.wasm").symlink_to(package / "lean.wasm")
    (dest / "core-index.json").symlink_to(lean_home / "core-index.json")
    moved = install.model_copy(update={
        "root": dest, "glue": runtime / install.glue.name, "launcher": runtime / install.launcher.name,
        "thread_glue": runtime / install.thread_glue.name if install.thread_glue else None})
    (dest / "install.json").write_text(moved.model_dump_json())
    return dest


def cold_glue(settings: Settings, upstream: Settings, no_start_up: Settings) -> dict[str, dict[str, float]]:
    """A cold one-shot check: the upstream module with the full glue and 4 pre-started threads,
    the slim glue and 4, the slim glue and 1; the patched module, slim glue without the start-up
    patches, 1 thread; the patched module, slim glue, 1 thread (the default)."""
    from pipeline.lean.install import embedded_command, load_install
    from pipeline.lean.process import LeanProcess

    install, before, plain = load_install(settings), load_install(upstream), load_install(no_start_up)
    out: dict[str, dict[str, float]] = {}
    full = before.model_copy(update={"thread_glue": None})
    for label, inst, threads in (("upstream module, full glue, 4 threads", full, 4),
                                 ("upstream module, slim glue, 4 threads", before, 4),
                                 ("upstream module, slim glue, 1 thread", before, 1),
                                 ("patched module, slim glue without the start-up patches, 1 thread", plain, 1),
                                 ("patched module, slim glue, 1 thread", install, 1)):
        workdir = Path(tempfile.mkdtemp(prefix="sequent-bench-cold-"))
        (workdir / "Check.lean").write_text(CASES[0][1].format(i=7) + "\n")
        cmd, env = embedded_command(inst, workdir, settings.build_dir, threads=threads)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        with LeanProcess([*cmd, "--json", "Check.lean"], workdir=workdir, env=env, warm=False,
                         memory_mb=settings.lean_memory_mb) as proc:
            raw = proc.start().run(None, 900)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out[label] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(raw.peak_rss_mb),
                      "rc": raw.returncode if raw.returncode is not None else -1}
    return out


def oneshot(settings: Settings, runs: int, first: int) -> list[float]:
    """``runs`` warm checks of distinct sources (numbered from ``first``: never a cache hit)."""
    times: list[float] = []
    with Checker(settings, prestart=True) as checker:  # a pool that keeps a process ready
        pool = checker.backend
        for i in range(runs):
            deadline = time.time() + 300
            while pool.pool_stats()["idle"] < 1 and time.time() < deadline:  # type: ignore[attr-defined]
                time.sleep(0.2)
            t = time.perf_counter()
            result = checker.check(CheckRequest(source=CASES[0][1].format(i=first + i) + "\n"))
            if result.cached or not result.accepted:
                raise SystemExit(f"one-shot check {first + i}: expected a fresh accepted check, got {result.summary()}")
            times.append(time.perf_counter() - t)
    return times


def resident(settings: Settings, rechecks: int) -> dict[str, object]:
    times: list[float] = []
    rss: list[float] = []
    right = 0
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Checker(settings, warm=False) as checker:
        t = time.perf_counter()
        checker.diagnose(CheckRequest(source="theorem first : 1 + 1 = 2 := rfl\n"))
        first = time.perf_counter() - t
        pool = checker.iteration.pool()
        for i in range(rechecks):
            reasons, template = CASES[i % len(CASES)]
            t = time.perf_counter()
            result = checker.diagnose(CheckRequest(source=template.format(i=i) + "\n", policy=Policy()))
            times.append(time.perf_counter() - t)
            right += result.reasons == reasons
            pids = pool.worker_pids()
            if pids:
                rss.append(tree_rss_mb(pids[0]))
        stats = pool.stats()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "first_s": round(first, 2), "n": rechecks, "worker_cpu_s": round(cpu, 1), "p50_ms": round(1000 * statistics.median(times), 1),
        "p90_ms": round(1000 * percentile(times, 0.9), 1), "max_ms": round(1000 * max(times), 1),
        "right_verdicts": right, "rss_first_mb": round(rss[0]) if rss else None,
        "rss_peak_mb": round(max(rss)) if rss else None, "rss_last_mb": round(rss[-1]) if rss else None,
        "workers_started": stats.started, "recycled": stats.recycled, "crashed": stats.crashed,
    }


def api(root: Path, settings: Settings, drafts: int, clients: int, log: Path) -> dict[str, object]:
    env = service_env(settings, claim_status=False)
    made = run_cli(["token", "create", "--name", "bench", "--rate", "10000000",
                    "--concurrency", "10000000", "--json"], env, root)
    if made.returncode != 0:
        raise SystemExit(made.stderr)
    secret = json.loads(made.stdout)["secret"]
    server = ServerProcess(root, env, log, workers=0).start()
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        server.wait_ready(timeout=3600)
        with httpx.Client(base_url=server.url, headers=headers, timeout=600) as http:
            t = time.perf_counter()  # the first draft pays the worker's start and import
            r = http.post("/v1/check", json={"source": "theorem warm : 1 = 1 := rfl\n",
                                             "imports": ["Formal.Basic"]})
            r.raise_for_status()
            first = time.perf_counter() - t
        done: list[float] = []
        failures: list[str] = []
        verdicts: dict[str, int] = {}
        next_i = iter(range(drafts))
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=600) as http:
                while True:
                    with lock:
                        i = next(next_i, None)
                    if i is None:
                        return
                    src = (f"open Formal in\ntheorem d{i} (a b : Rat) (h : ({i} : Nat) = {i}) : "
                           "0 ≤ absDiff a b + absDiff b a := by\n"
                           "  have := absDiff_nonneg a b; have := absDiff_nonneg b a; grind\n")
                    t0 = time.perf_counter()
                    resp = http.post("/v1/check", json={"source": src, "imports": ["Formal.Basic"]})
                    with lock:
                        done.append(time.perf_counter() - t0)
                        if resp.status_code != 200:
                            failures.append(f"{resp.status_code} {resp.text[:200]}")
                        else:
                            verdict = resp.json()["result"]["verdict"]
                            verdicts[verdict] = verdicts.get(verdict, 0) + 1

        t = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - t
    finally:
        server.stop()
    if failures:
        print("API failures:", failures[:5])
    return {"first_s": round(first, 2), "drafts": drafts, "clients": clients, "wall_s": round(wall, 1),
            "checks_per_minute": round(60 * len(done) / wall, 1), "p50_ms": round(1000 * statistics.median(done), 1),
            "failures": len(failures), "verdicts": verdicts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rechecks", type=int, default=200)
    ap.add_argument("--oneshot", type=int, default=6)
    ap.add_argument("--api", type=int, default=60, help="drafts for the API phase (0: skip)")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--cold", action=argparse.BooleanOptionalAction, default=True,
                    help="measure a cold check: full glue with 4 threads, slim with 4, slim with 1")
    ap.add_argument("--start-up", type=int, default=20,
                    help="re-checks of a resident worker with the glue without and with the start-up "
                         "patches, side by side (first check and worker CPU; 0: skip)")
    ap.add_argument("--state", type=Path, help="reuse this state folder (a built Formal/)")
    args = ap.parse_args()
    lean_home = Path(os.environ.get("SEQUENT_LEAN_HOME", REPO / ".sequent" / "lean")).resolve()
    print(f"machine: {platform.platform()}, {cpu_count()} cores, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="sequent-bench-") as tmp:
        root = copy_project(Path(tmp) / "proj")
        state = args.state or Path(tmp) / "state"
        settings = Settings.load(root, lean_home=lean_home, state_dir=state, pool_size=1,
                                 resident_workers=1, lean_backend="embedded")
        settings.ensure_state()
        settings.build_dir.mkdir(parents=True, exist_ok=True)
        upstream = settings.model_copy(update={"lean_home": upstream_home(lean_home, Path(tmp) / "upstream")})
        no_start_up = settings.model_copy(update={"lean_home": upstream_home(
            lean_home, Path(tmp) / "no-start-up", without_start_up=True)})
        if args.cold:
            print(json.dumps({"cold_oneshot": cold_glue(settings, upstream, no_start_up)}), flush=True)
        if args.oneshot:
            for n, (label, conf) in enumerate((("upstream module", upstream), ("patched module", settings))):
                one = oneshot(conf, args.oneshot, first=1000 + 100 * n)
                print(json.dumps({"oneshot_warm": {"module": label, "n": len(one),
                                                   "p50_ms": round(1000 * statistics.median(one), 1),
                                                   "p90_ms": round(1000 * percentile(one, 0.9), 1)}}), flush=True)
        if args.rechecks:
            if args.start_up:
                print(json.dumps({"resident_without_start_up_patches": resident(no_start_up, args.start_up)}),
                      flush=True)
                print(json.dumps({"resident_with_start_up_patches": resident(settings, args.start_up)}),
                      flush=True)
            print(json.dumps({"resident": resident(settings, args.rechecks)}), flush=True)
        if args.api:
            db = settings.model_copy(update={"database_url": f"sqlite:///{tmp}/api.db"})
            print(json.dumps({"api": api(root, db, args.api, args.clients, Path(tmp) / "api.log")}), flush=True)
        print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
