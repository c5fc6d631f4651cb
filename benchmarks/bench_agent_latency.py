"""Cold and warm latency of every MCP tool and every HTTP route an agent uses, from a fresh
copy of the project (its own empty state folder: nothing built; the Lean install shared).

1. MCP: ``sequent mcp`` started by the SDK's stdio client; ``initialize``, then each tool called
   twice in a row (first: cold, second: warm), in the order an agent meets them.
2. HTTP: ``sequent serve`` on loopback, ready (``lean_ready``), then each route twice.

    python benchmarks/bench_agent_latency.py [--skip-http]

Prints a Markdown table for docs/performance.md ("Agent latency"). Wrap it in the machine's
Lean slot wrapper when the machine is shared.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client, StdioServerParameters

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
from common import copy_project  # benchmarks/ is the script's folder

from pipeline.settings import Settings
from tests.service.helpers import BAYES, bayes_proof
from tests.service.process import CLI, ServerProcess, run_cli, service_env

Row = tuple[str, float, float]


def fresh_project(folder: Path) -> Settings:
    root = copy_project(folder / "project")
    return Settings.load(root, state_dir=root / ".sequent",
                         lean_home=Settings.load(_ROOT).lean_dir)


def calls(proof: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("list_claims", {}),
        ("get_claim", {"claim_id": BAYES}),
        ("check_proof", {"claim_id": BAYES, "proof": proof}),
        ("goal_state", {"claim_id": BAYES, "proof": proof, "line": 2}),
        ("multi_attempt", {"claim_id": BAYES, "proofs": [proof, "by\n  sorry"]}),
        ("check_lean", {"claim_id": BAYES, "source": "#check @Formal.Bayes.surprises"}),
        ("search", {"query": "succ_le_succ"}),
        ("declaration", {"name": "Formal.Bayes.bayes_surprise_bound"}),
        ("minimal_hypotheses", {"claim_id": BAYES, "proof": proof}),
        ("submit_proof", {"claim_id": BAYES, "proof": proof, "wait_s": 600}),
        ("list_submissions", {"claim_id": BAYES}),
    ]


async def _timed(fn: Callable[[], Awaitable[Any]]) -> float:
    started = time.monotonic()
    await fn()
    return time.monotonic() - started


def bench_mcp(settings: Settings) -> tuple[float, list[Row]]:
    params = StdioServerParameters(
        command=sys.executable, args=["-c", CLI, "mcp", "--project", str(settings.project_root)],
        env=service_env(settings, claim_status=False), cwd=str(settings.project_root))
    proof = bayes_proof(settings.project_root)
    rows: list[Row] = []
    init = [0.0]

    async def session() -> None:
        started = time.monotonic()
        async with Client(params, read_timeout_seconds=1800) as client:
            init[0] = time.monotonic() - started
            for name, args in calls(proof):
                cold = await _timed(lambda n=name, a=args: client.call_tool(n, a))
                if name == "submit_proof":  # a new submission each time: the warm one is a re-check
                    args = {**args, "proof": args["proof"] + "\n"}
                warm = await _timed(lambda n=name, a=args: client.call_tool(n, a))
                rows.append((name, cold, warm))
                print(f"mcp {name}: {cold:.2f} / {warm:.2f} s", file=sys.stderr)

    anyio.run(session)
    return init[0], rows


def bench_http(settings: Settings, folder: Path) -> tuple[float, list[Row]]:
    env = service_env(settings, claim_status=False)
    secret = run_cli(["token", "create", "--name", "bench", "--json"], env, settings.project_root).stdout
    import json

    token = json.loads(secret)["secret"]
    auth = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    server = ServerProcess(settings.project_root, env, folder / "server.log", workers=1).start()
    rows: list[Row] = []
    try:
        server.wait_ready(timeout=1800)
        ready = time.monotonic() - started
        proof = bayes_proof(settings.project_root)
        routes: list[tuple[str, str, str, Any]] = [
            ("GET /v1/claims", "GET", "/v1/claims", None),
            ("POST /v1/check_proof", "POST", "/v1/check_proof", {"claim_id": BAYES, "proof": proof}),
            ("POST /v1/goal_state", "POST", "/v1/goal_state", {"claim_id": BAYES, "proof": proof, "line": 2}),
            ("POST /v1/check_lean", "POST", "/v1/check_lean",
             {"claim_id": BAYES, "source": "#check @Formal.Bayes.surprises"}),
            ("GET /v1/search", "GET", "/v1/search?q=succ_le_succ", None),
            ("GET /v1/declarations/{name}", "GET", "/v1/declarations/Formal.Bayes.bayes_surprise_bound", None),
            ("POST /v1/minimal_hypotheses", "POST", "/v1/minimal_hypotheses", {"claim_id": BAYES, "proof": proof}),
            ("GET /v1/submissions", "GET", f"/v1/submissions?claim={BAYES}", None),
        ]
        with httpx.Client(base_url=server.url, timeout=1800, headers=auth) as http:
            for label, method, path, body in routes:
                times = []
                for _ in range(2):
                    t0 = time.monotonic()
                    r = http.request(method, path, json=body)
                    r.raise_for_status()
                    times.append(time.monotonic() - t0)
                rows.append((label, times[0], times[1]))
                print(f"http {label}: {times[0]:.2f} / {times[1]:.2f} s", file=sys.stderr)
        # `sequent goals FILE:LINE:COL` finds the server through the state folder (its workers)
        lines = (settings.project_root / "Formal" / "Bayes.lean").read_text(encoding="utf-8").split("\n")
        at = next(i for i, text in enumerate(lines, 1) if text.rstrip().endswith(":= by")) + 1
        times = []
        for _ in range(2):
            t0 = time.monotonic()
            run_cli(["goals", f"Formal/Bayes.lean:{at}:2", "--json", "--no-build"], env,
                    settings.project_root, timeout=1800).check_returncode()
            times.append(time.monotonic() - t0)
        rows.append(("sequent goals (CLI, server up)", times[0], times[1]))
    finally:
        server.stop()
    return ready, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-mcp", action="store_true")
    args = parser.parse_args()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="sequent-latency-") as tmp:
        folder = Path(tmp)
        print(f"\nMeasured {when} on {platform.node()} ({platform.machine()}), a fresh copy of the project"
              " (nothing built; the Lean install shared).\n")
        if not args.skip_mcp:
            init, mcp_rows = bench_mcp(fresh_project(folder / "mcp"))
            print(f"MCP `initialize`: {init:.2f} s\n")
            print("| MCP tool | first call (cold) | second call (warm) |\n|---|---|---|")
            for name, cold, warm in mcp_rows:
                print(f"| `{name}` | {cold:.2f} s | {warm:.2f} s |")
        if not args.skip_http:
            ready, http_rows = bench_http(fresh_project(folder / "http"), folder)
            print(f"\nHTTP: `sequent serve` ready (`lean_ready`) after {ready:.1f} s\n")
            print("| HTTP route | first call | second call |\n|---|---|---|")
            for label, cold, warm in http_rows:
                print(f"| `{label}` | {cold:.2f} s | {warm:.2f} s |")


if __name__ == "__main__":
    main()
