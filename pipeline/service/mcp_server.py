"""The MCP server (``sequent mcp``, stdio): the service's operations as tools for agents.

Tools: ``check_proof`` (check a proof of a claim without submitting it), ``submit_proof``
(persist, queue, and wait for the verdict), ``get_submission``, ``list_claims``,
``get_claim``, ``hypothesis_status``; for iterating on a proof (resident Lean workers, nothing
recorded): ``check_lean`` (a snippet under the claim's imports), ``goal_state`` (the goals
around a line of an attempt), ``multi_attempt`` (several candidates side by side),
``minimal_hypotheses`` (which named hypotheses a proof needs) and ``review`` (the cross-family
faithfulness review); ``search`` and ``declaration`` (constants of core and the project, from
the compiled environment); ``list_submissions``. The server runs over a local pipe for the user who
started it, so it needs no token and has no rate limit; submissions are recorded with
channel ``mcp``. Package errors become tool errors with their message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Annotated, ParamSpec, TypeVar

import anyio.from_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import ClaimReview, Family
from pipeline.claims.iterate import MinimalHypotheses
from pipeline.errors import SequentError
from pipeline.lean.olean.lookup import DeclarationInfo, SearchResult
from pipeline.service.adhoc_checks import AdhocChecks
from pipeline.service.claim_views import ClaimViews, Declarations
from pipeline.service.health import package_version
from pipeline.service.lean_host import LeanHost
from pipeline.service.models import (
    Attempt,
    CheckedProof,
    CheckedSnippet,
    ClaimSummary,
    ClaimView,
    HypothesisView,
    ProofGoals,
    SubmissionIn,
    SubmissionPage,
    SubmissionView,
)
from pipeline.service.submission_service import SubmissionService

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

INSTRUCTIONS = """\
Sequent links Lean proofs of AI-alignment guarantees with empirical checks of their
hypotheses. Call list_claims, then get_claim to read a claim's pinned Lean statement.
Write a proof (a tactic block starting with `by`, or a term) of exactly that statement;
try it with check_proof, then record it with submit_proof. You never send a statement:
the server builds the Lean file from the pinned one.
While iterating: goal_state shows the goals before and after a line of an attempt (sorry is
fine there); multi_attempt checks several candidates at once; check_lean checks a helper
lemma or an #check-free example under the claim's imports. Iteration checks take ~0.1-1 s
once a worker holds the claim's imports. Only submit_proof records a verdict (compiled and
audited). minimal_hypotheses tells which h_… hypotheses an accepted proof really uses; review
asks a model of the other family whether the statement is faithful to the claim. search finds
lemmas by name or by the constants their type mentions; declaration shows a constant's type,
docstring and source. Positions in answers count in the text you sent (proof:line:col; lines
from 1, columns from 0).
"""


PROGRESS_EVERY_S = 2.0
"""A call that takes longer than this reports progress every as often (when the client asked
for progress with a progressToken)."""


def _with_progress(ctx: Context, work: Callable[[], R], describe: Callable[[], str]) -> R:
    """Run ``work`` (in a thread of its own) while this tool's worker thread sends an MCP
    progress notification every :data:`PROGRESS_EVERY_S` seconds: elapsed seconds and what it
    waits for (the engine's phase, the submission's state)."""
    done: list[R] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except Exception as exc:  # noqa: BLE001 - re-raised in the tool's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="sequent-mcp-call", daemon=True)
    started = time.monotonic()
    thread.start()
    while True:
        thread.join(PROGRESS_EVERY_S)
        if not thread.is_alive():
            break
        try:
            anyio.from_thread.run(ctx.report_progress, round(time.monotonic() - started, 1), None, describe())
        except Exception:  # a client that went away: the work still finishes
            log.debug("progress notification failed", exc_info=True)
    if failed:
        raise failed[0]
    if not done:
        raise ToolError("the call was interrupted")
    return done[0]


def _tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Package errors become tool errors carrying their user-facing message."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SequentError as exc:
            raise ToolError(str(exc)) from exc
        except ValidationError as exc:
            raise ToolError(f"invalid arguments: {exc.errors()[0].get('msg', exc)}") from exc

    return wrapper


def build_server(*, claims: ClaimViews, checks: AdhocChecks, declarations: Declarations,
                 submissions: SubmissionService, host: LeanHost, agents: AgentConfig) -> MCPServer:
    """The MCP server; each group of tools gets the focused service it needs (and the engine's
    progress line from ``host``, for the calls that wait on it)."""
    server: MCPServer = MCPServer(
        name="sequent", version=package_version(), instructions=INSTRUCTIONS
    )
    lean_timeout_s = host.settings.lean_timeout_s
    _claim_tools(server, claims, agents)
    _iteration_tools(server, checks, host.progress_message, ready_wait_s=lean_timeout_s)  # may come while Formal/ builds
    _lookup_tools(server, declarations)
    _submission_tools(server, submissions, host.progress_message,
                      max_wait_s=max(submissions.wait_max_s, 2 * lean_timeout_s))  # one local client
    return server


def _claim_tools(server: MCPServer, claims: ClaimViews, agents: AgentConfig) -> None:
    @server.tool()
    @_tool_errors
    def list_claims() -> list[ClaimSummary]:
        """Every claim: id, title, Lean module and declaration, and its proof status."""
        return claims.claims()

    @server.tool()
    @_tool_errors
    def get_claim(claim_id: str) -> ClaimView:
        """One claim: informal statement, the pinned Lean statement to prove, proof status,
        and its hypotheses with their latest empirical verdicts."""
        return claims.claim(claim_id)

    @server.tool()
    @_tool_errors
    def hypothesis_status(claim_id: str) -> list[HypothesisView]:
        """The claim's hypotheses, each with its latest empirical verdicts."""
        return list(claims.hypotheses(claim_id))

    @server.tool()
    @_tool_errors
    def review(claim_id: str, drafter_family: Family, statement: str | None = None,
               replay: bool = False) -> ClaimReview:
        """Cross-family faithfulness review: a model of the other family than yours
        (drafter_family) judges whether the Lean statement (default: the claim's pinned one)
        says what the informal claim says. replay=true uses the claim's recorded reviewer."""
        return claims.review(claim_id, drafter_family, agents, statement, replay=replay)


def _iteration_tools(server: MCPServer, checks: AdhocChecks, progress: Callable[[], str], *,
                     ready_wait_s: float) -> None:
    @server.tool()
    @_tool_errors
    def check_proof(claim_id: str, proof: str, ctx: Context, include_file: bool = False) -> CheckedProof:
        """Check a proof of the claim's pinned statement under the trust policy, without
        recording it. Returns Lean's verdict and messages, placed in the proof you sent
        (`proof:line:col`, lines from 1, columns from 0); include_file=true also returns the
        Lean file the server assembled."""
        sub = SubmissionIn(claim_id=claim_id, proof=proof, agent="mcp-client")
        return _with_progress(ctx, lambda: checks.check_proof(
            sub.claim_id, sub.proof, ready_wait_s=ready_wait_s, include_file=include_file), progress)

    @server.tool()
    @_tool_errors
    def multi_attempt(claim_id: str, proofs: list[str], ctx: Context) -> list[Attempt]:
        """Check several candidate proofs of the claim's pinned statement (as check_proof does),
        results side by side in the order given. Nothing is recorded."""
        return _with_progress(ctx, lambda: checks.multi_attempt(claim_id, proofs, ready_wait_s=ready_wait_s),
                              progress)

    @server.tool()
    @_tool_errors
    def check_lean(source: str, ctx: Context, claim_id: str | None = None) -> CheckedSnippet:
        """Check an arbitrary Lean snippet (helper lemmas, examples) under the trust policy;
        with claim_id, after the claim's imports and opens. Never counts as a proof. Positions
        count in the snippet you sent."""
        return _with_progress(ctx, lambda: checks.check_lean(source, claim_id, ready_wait_s=ready_wait_s),
                              progress)

    @server.tool()
    @_tool_errors
    def goal_state(claim_id: str, proof: str, line: Annotated[int, Field(ge=1)], ctx: Context) -> ProofGoals:
        """The goals before and after a line (from 1, counted in the proof you send) of a proof
        attempt of the claim's pinned statement; `sorry` may stand for unfinished parts."""
        return _with_progress(ctx, lambda: checks.goal_state(claim_id, proof, line, ready_wait_s=ready_wait_s),
                              progress)

    @server.tool()
    @_tool_errors
    def minimal_hypotheses(claim_id: str, proof: str, ctx: Context) -> MinimalHypotheses:
        """Which of the claim's named hypotheses (h_…) the proof needs: each keeps its binder
        but its type is weakened to True in turn, and the proof re-checked (intro still works).
        needed=false: the proof also proves the weaker statement, so the hypothesis needs no
        empirical test; needed=true: the proof fails inside the proof without it; needed=null:
        unknown (see note). decided_by says how each answer was decided."""
        return _with_progress(ctx, lambda: checks.minimal_hypotheses(claim_id, proof, ready_wait_s=ready_wait_s),
                              progress)


def _lookup_tools(server: MCPServer, declarations: Declarations) -> None:
    @server.tool()
    @_tool_errors
    def search(query: str = "", mentions: list[str] | None = None,
               limit: Annotated[int, Field(ge=1, le=200)] = 20) -> SearchResult:
        """Find constants of the core library and of the project, in milliseconds: by name
        (query: a substring, e.g. "add_comm") and by type shape (mentions: constants the type
        must mention, full names like "Nat.succ" or last components like "le"). Best first:
        exact names, prefixes, the project's before core's."""
        return declarations.search(query, mentions, limit)

    @server.tool()
    @_tool_errors
    def declaration(name: str) -> DeclarationInfo:
        """A constant's type (as the kernel holds it), docstring and source ``location`` (project
        constants: file, line from 1, column from 0, end_line, end_column; core constants: null,
        their module only)."""
        return declarations.declaration(name)


def _submission_tools(server: MCPServer, submissions: SubmissionService, progress: Callable[[], str], *,
                      max_wait_s: float) -> None:
    @server.tool()
    @_tool_errors
    def submit_proof(
        claim_id: str,
        proof: str,
        ctx: Context,
        agent: str = "mcp-client",
        wait_s: Annotated[float, Field(ge=0)] = 120.0,
    ) -> SubmissionView:
        """Submit a proof of the claim's pinned statement. It is persisted and checked by
        the workers; waits up to wait_s seconds for the verdict (status stays queued or
        running if it takes longer: poll get_submission)."""
        sub = SubmissionIn(claim_id=claim_id, proof=proof, agent=agent)
        accepted = submissions.submit(sub, token_id=None, channel="mcp")

        def state() -> str:
            return f"submission {accepted.id} is {submissions.get(accepted.id).status}; {progress()}"

        return _with_progress(ctx, lambda: submissions.wait(accepted.id, min(wait_s, max_wait_s)), state)

    @server.tool()
    @_tool_errors
    def list_submissions(claim_id: str | None = None, agent: str | None = None,
                         verdict: str | None = None, since: datetime | None = None,
                         limit: Annotated[int, Field(ge=1, le=500)] = 50,
                         cursor: str | None = None) -> SubmissionPage:
        """Submissions newest first, filtered by claim, agent, verdict (accepted, rejected,
        error, queued, running) and creation time (ISO 8601); pass next_cursor as cursor for
        the next page."""
        return submissions.page(claim_id=claim_id, agent=agent, verdict=verdict, since=since,
                                limit=limit, cursor=cursor)

    @server.tool()
    @_tool_errors
    def get_submission(submission_id: str, wait_s: Annotated[float, Field(ge=0)] = 0.0) -> SubmissionView:
        """A submission with its status, verdict and Lean's messages."""
        return submissions.wait(submission_id, min(wait_s, max_wait_s))


def serve_stdio(server: MCPServer, host: LeanHost, *, ready_wait_s: float = 0.0) -> None:
    """Run ``server`` (:func:`build_server`) on stdin/stdout until the client closes the pipe.
    It reads nothing, so it answers ``initialize``, until the engine is ready or
    ``ready_wait_s`` has passed: "ready" means ready (a first call then finds the workers warm)."""
    if host.wait_ready(ready_wait_s):
        log.info("the Lean engine is ready; answering initialize")
    else:
        log.info("the Lean engine is not ready after %.0f s (%s); answering initialize, calls wait "
                 "for it with progress", ready_wait_s, host.progress_message())
    server.run("stdio")


__all__ = ["Attempt", "CheckedProof", "CheckedSnippet", "build_server", "serve_stdio"]  # models: re-exported
