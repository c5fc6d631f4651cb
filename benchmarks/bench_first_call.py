"""Ready time, and the cold (first) and warm (second) latency of every MCP tool and every HTTP
route, from a fresh ``git clone`` of the project (issue 27, "Done when").

The clone gets its own empty state folder; the Python environment and the embedded Lean install
are the checkout's own (``SEQUENT_LEAN_HOME``, as ``make setup`` leaves them for a clone beside
them). The server runs with the product's defaults (start-up warming included).

1. From nothing built: ``sequent mcp`` through the SDK's stdio client; ``initialize``, then the
   first ``check_proof`` (it waits for the engine and for building what it imports).
2. ``Formal/`` built (``sequent build`` of what step 1 left): a new ``sequent mcp``; ``initialize``, then every tool
   twice in a row (first: cold, second: warm), in the order an agent meets them.
3. ``Formal/`` built: ``sequent serve`` on loopback until ``lean_ready``, then every route twice.

Prints one side-by-side table (an MCP tool and the HTTP route that does the same on one row)
for docs/performance.md, with the load average at the start and the end.

    python benchmarks/bench_first_call.py [--source PATH]

Wrap it in the machine's Lean slot wrapper when the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client, StdioServerParameters

_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
from pipeline.service.config import ServiceConfig
from pipeline.service.local import LOCAL_SECRET_HEADER, read_server_file
from pipeline.settings import Settings
from tests.service.helpers import BAYES, bayes_proof
from tests.service.process import CLI, ServerProcess, run_cli, service_env

Timing = tuple[float, float, str]
"""(first call s, second call s, a note: an answer that was not a success)."""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fresh_clone(source: Path, folder: Path) -> Settings:
    root = folder / "clone"
    subprocess.run(["git", "clone", "--quiet", str(source), str(root)], check=True)
    return Settings.load(root, state_dir=root / ".sequent", lean_home=Settings.load(source).lean_dir)


def env_for(settings: Settings) -> dict[str, str]:
    """The product's service defaults, start-up warming, ``initialize`` waiting for ready and
    the claims' library status included (the test helper turns the first two off)."""
    defaults = ServiceConfig()
    return service_env(settings, warm_headers=defaults.warm_headers, mcp_ready_wait_s=defaults.mcp_ready_wait_s)


def _mcp_params(settings: Settings) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-c", CLI, "mcp", "--project", str(settings.project_root)],
        env=env_for(settings), cwd=str(settings.project_root))


async def _timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, str, Any]:
    """(seconds, "error" when the tool answered an error, the answer's structured content)."""
    started = time.monotonic()
    answer = await fn()
    note = "error" if getattr(answer, "is_error", False) else ""
    return time.monotonic() - started, note, getattr(answer, "structured_content", None)


def mcp_from_nothing(settings: Settings) -> tuple[float, float]:
    """(initialize s, first check_proof s) with nothing built."""
    proof = bayes_proof(settings.project_root) + "\n  -- from nothing"
    out = [0.0, 0.0]

    async def session() -> None:
        started = time.monotonic()
        async with Client(_mcp_params(settings), read_timeout_seconds=1800) as client:
            out[0] = time.monotonic() - started
            out[1], _, _ = await _timed(lambda: client.call_tool("check_proof", {"claim_id": BAYES, "proof": proof}))

    anyio.run(session)
    return out[0], out[1]


def mcp_calls(proof: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("list_claims", {}),
        ("get_claim", {"claim_id": BAYES}),
        ("hypothesis_status", {"claim_id": BAYES}),
        ("check_proof", {"claim_id": BAYES, "proof": proof}),
        ("goal_state", {"claim_id": BAYES, "proof": proof, "line": 2}),
        ("multi_attempt", {"claim_id": BAYES, "proofs": [proof + "\n  -- b", "by\n  sorry"]}),
        ("check_lean", {"claim_id": BAYES, "source": "#check @Formal.Bayes.surprises"}),
        ("search", {"query": "succ_le_succ"}),
        ("declaration", {"name": "Formal.Bayes.bayes_surprise_bound"}),
        ("minimal_hypotheses", {"claim_id": BAYES, "proof": proof}),
        ("review", {"claim_id": BAYES, "drafter_family": "openai", "replay": True}),
        ("submit_proof", {"claim_id": BAYES, "proof": proof + "\n  -- s", "wait_s": 600}),
        ("list_submissions", {"claim_id": BAYES}),
        ("get_submission", {"submission_id": "", "wait_s": 0}),
    ]


def mcp_built(settings: Settings) -> tuple[float, dict[str, Timing]]:
    """(initialize s, tool -> timing) with ``Formal/`` built."""
    proof = bayes_proof(settings.project_root) + "\n  -- mcp"
    rows: dict[str, Timing] = {}
    init = [0.0]

    async def session() -> None:
        started = time.monotonic()
        async with Client(_mcp_params(settings), read_timeout_seconds=1800) as client:
            init[0] = time.monotonic() - started
            submission = ""
            for name, args in mcp_calls(proof):
                if name == "get_submission":
                    args = {**args, "submission_id": submission}
                first, note, answer = await _timed(partial(client.call_tool, name, args))
                if name == "submit_proof":  # a new submission: the same text again is a re-check
                    submission = str((answer or {}).get("id", ""))
                    args = {**args, "proof": args["proof"] + "\n"}
                second, note2, _ = await _timed(partial(client.call_tool, name, args))
                rows[name] = (first, second, note or note2)
                print(f"mcp {name}: {first:.2f} / {second:.2f} s {note or note2} (load {load()})", file=sys.stderr)

    anyio.run(session)
    return init[0], rows


def http_built(settings: Settings, folder: Path) -> tuple[float, dict[str, Timing]]:
    """(seconds to ``lean_ready``, route -> timing) with ``Formal/`` built."""
    env = env_for(settings)
    secret = run_cli(["token", "create", "--name", "bench", "--json"], env, settings.project_root).stdout
    auth = {"Authorization": f"Bearer {json.loads(secret)['secret']}"}
    started = time.monotonic()
    server = ServerProcess(settings.project_root, env, folder / "server.log", workers=1).start()
    rows: dict[str, Timing] = {}
    try:
        server.wait_ready(timeout=1800)
        ready = time.monotonic() - started
        print(f"http ready after {ready:.1f} s (load {load()})", file=sys.stderr)
        local = read_server_file(settings)
        local_auth = {LOCAL_SECRET_HEADER: local.secret} if local is not None else {}
        proof = bayes_proof(settings.project_root) + "\n  -- http"  # never a result cached by the MCP runs
        module = (settings.project_root / "Formal" / "Bayes.lean").read_text(encoding="utf-8")
        lines = module.split("\n")
        at = next(i for i, text in enumerate(lines, 1) if text.rstrip().endswith(":= by")) + 1
        routes: list[tuple[str, str, str, Any]] = [
            ("GET /v1/health", "GET", "/v1/health", None),
            ("GET /v1/claims", "GET", "/v1/claims", None),
            ("GET /v1/claims/{id}", "GET", f"/v1/claims/{BAYES}", None),
            ("POST /v1/check", "POST", "/v1/check",
             {"source": "theorem t : 1 + 1 = 2 := rfl", "imports": ["Formal.Bayes"]}),
            ("POST /v1/check_proof", "POST", "/v1/check_proof", {"claim_id": BAYES, "proof": proof}),
            ("POST /v1/goal_state", "POST", "/v1/goal_state", {"claim_id": BAYES, "proof": proof, "line": 2}),
            ("POST /v1/goals", "POST", "/v1/goals", {"source": module, "line": at, "column": 2}),
            ("POST /v1/multi_attempt", "POST", "/v1/multi_attempt",
             {"claim_id": BAYES, "proofs": [proof + "\n  -- b", "by\n  sorry"]}),
            ("POST /v1/check_lean", "POST", "/v1/check_lean",
             {"claim_id": BAYES, "source": "#check @Formal.Bayes.surprises"}),
            ("GET /v1/search", "GET", "/v1/search?q=succ_le_succ", None),
            ("GET /v1/declarations/{name}", "GET", "/v1/declarations/Formal.Bayes.bayes_surprise_bound", None),
            ("POST /v1/minimal_hypotheses", "POST", "/v1/minimal_hypotheses", {"claim_id": BAYES, "proof": proof}),
            ("POST /v1/review", "POST", "/v1/review", {"claim_id": BAYES, "drafter_family": "openai", "replay": True}),
            ("POST /v1/submissions", "POST", "/v1/submissions",
             {"claim_id": BAYES, "proof": proof + "\n  -- s", "agent": "bench"}),
            ("GET /v1/submissions/{id}?wait", "GET", "/v1/submissions/{id}?wait=600", None),
            ("GET /v1/submissions", "GET", f"/v1/submissions?claim={BAYES}", None),
            ("POST /v1/submissions/{id}/export", "POST", "/v1/submissions/{id}/export", None),
        ]
        submission = ""
        with httpx.Client(base_url=server.url, timeout=1800, headers=auth) as http:
            for label, method, path, body in routes:
                times: list[float] = []
                notes: list[str] = []
                for attempt in range(2):
                    if label == "POST /v1/submissions" and attempt == 1:
                        body = {**body, "proof": body["proof"] + "\n"}
                    t0 = time.monotonic()
                    r = http.request(method, path.replace("{id}", submission), json=body,
                                     headers=local_auth if label == "POST /v1/goals" else None)
                    times.append(time.monotonic() - t0)
                    if r.status_code >= 300:
                        notes.append(f"HTTP {r.status_code}")
                    if label == "POST /v1/submissions" and attempt == 0 and r.status_code < 300:
                        submission = str(r.json().get("id", ""))
                rows[label] = (times[0], times[1], ", ".join(dict.fromkeys(notes)))
                print(f"http {label}: {times[0]:.2f} / {times[1]:.2f} s {rows[label][2]} (load {load()})",
                      file=sys.stderr)
    finally:
        server.stop()
    return ready, rows


PAIRS: list[tuple[str, str]] = [
    ("", "GET /v1/health"),
    ("list_claims", "GET /v1/claims"),
    ("get_claim", "GET /v1/claims/{id}"),
    ("hypothesis_status", ""),
    ("", "POST /v1/check"),
    ("check_proof", "POST /v1/check_proof"),
    ("goal_state", "POST /v1/goal_state"),
    ("", "POST /v1/goals"),
    ("multi_attempt", "POST /v1/multi_attempt"),
    ("check_lean", "POST /v1/check_lean"),
    ("search", "GET /v1/search"),
    ("declaration", "GET /v1/declarations/{name}"),
    ("minimal_hypotheses", "POST /v1/minimal_hypotheses"),
    ("review", "POST /v1/review"),
    ("submit_proof", "POST /v1/submissions"),
    ("get_submission", "GET /v1/submissions/{id}?wait"),
    ("list_submissions", "GET /v1/submissions"),
    ("", "POST /v1/submissions/{id}/export"),
]


def _cell(t: Timing | None) -> str:
    if t is None:
        return "— | —"
    note = f" ({t[2]})" if t[2] else ""
    return f"{t[0]:.2f} s{note} | {t[1]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=_ROOT, help="the repository to clone")
    parser.add_argument("--http-only", action="store_true",
                        help="only `sequent build`, then the HTTP routes (no MCP runs)")
    args = parser.parse_args()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    start_load = load()
    init0 = first0 = init1 = 0.0
    mcp_rows: dict[str, Timing] = {}
    with tempfile.TemporaryDirectory(prefix="sequent-first-call-") as tmp:
        settings = fresh_clone(args.source, Path(tmp))
        print(f"cloned (load {load()})", file=sys.stderr)
        if not args.http_only:
            init0, first0 = mcp_from_nothing(settings)
            print(f"from nothing built: initialize {init0:.2f} s, first check_proof {first0:.2f} s "
                  f"(load {load()})", file=sys.stderr)
        t0 = time.monotonic()  # (the rest of) Formal/, as `sequent build` after `make setup`
        run_cli(["build"], env_for(settings), settings.project_root, timeout=3600).check_returncode()
        rest = time.monotonic() - t0
        print(f"sequent build: {rest:.1f} s (load {load()})", file=sys.stderr)
        if not args.http_only:
            init1, mcp_rows = mcp_built(settings)
        ready, http_rows = http_built(settings, Path(tmp))
    print(f"\nMeasured {when} on {platform.node()} ({platform.machine()}, {os.cpu_count()} cores), a fresh "
          f"git clone; load average (1/5/15 min) {start_load} at the start, {load()} at the end.\n")
    if not args.http_only:
        print(f"- From nothing built: MCP `initialize` {init0:.2f} s, then the first `check_proof` {first0:.2f} s "
              f"(building what it needs included); `sequent build` of the rest then {rest:.1f} s.")
        print(f"- `Formal/` built: MCP `initialize` {init1:.2f} s.")
    else:
        print(f"- `sequent build` from nothing: {rest:.1f} s.")
    print(f"- `Formal/` built: `sequent serve` ready (`lean_ready`) after {ready:.1f} s.\n")
    print("| MCP tool | first | second | HTTP route | first | second |\n|---|---|---|---|---|---|")
    for tool, route in PAIRS:
        print(f"| {f'`{tool}`' if tool else '—'} | {_cell(mcp_rows.get(tool))} "
              f"| {f'`{route}`' if route else '—'} | {_cell(http_rows.get(route))} |")


if __name__ == "__main__":
    main()
