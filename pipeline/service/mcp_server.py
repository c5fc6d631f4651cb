"""The MCP server (``sequent mcp``, stdio): the service's operations as tools for agents.

Tools: ``check_proof`` (check a proof of a claim without submitting it), ``submit_proof``
(persist, queue, and wait for the verdict), ``get_submission``, ``list_claims``,
``get_claim``, ``hypothesis_status``. The server runs over a local pipe for the user who
started it, so it needs no token and has no rate limit; submissions are recorded with
channel ``mcp``. Package errors become tool errors with their message.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from pipeline.errors import SequentError
from pipeline.lean.models import CheckResult
from pipeline.models import Frozen
from pipeline.service.core import ServiceCore, package_version
from pipeline.service.models import (
    ClaimSummary,
    ClaimView,
    HypothesisView,
    SubmissionIn,
    SubmissionView,
)

P = ParamSpec("P")
R = TypeVar("R")

INSTRUCTIONS = """\
Sequent links Lean proofs of AI-alignment guarantees with empirical checks of their
hypotheses. Call list_claims, then get_claim to read a claim's pinned Lean statement.
Write a proof (a tactic block starting with `by`, or a term) of exactly that statement;
try it with check_proof, then record it with submit_proof. You never send a statement:
the server builds the Lean file from the pinned one.
"""


class CheckedProof(Frozen):
    claim_id: str
    verdict: str
    summary: str
    diagnostics: str
    result: CheckResult


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


def build_server(core: ServiceCore) -> MCPServer:
    server: MCPServer = MCPServer(
        name="sequent", version=package_version(), instructions=INSTRUCTIONS
    )
    max_wait = max(core.config.wait_max_s, 2 * core.settings.lean_timeout_s)  # one local client
    ready_wait = core.settings.lean_timeout_s  # the first call may come while Formal/ builds

    @server.tool()
    @_tool_errors
    def list_claims() -> list[ClaimSummary]:
        """Every claim: id, title, Lean module and declaration, and its proof status."""
        return core.claims()

    @server.tool()
    @_tool_errors
    def get_claim(claim_id: str) -> ClaimView:
        """One claim: informal statement, the pinned Lean statement to prove, proof status,
        and its hypotheses with their latest empirical verdicts."""
        return core.claim(claim_id)

    @server.tool()
    @_tool_errors
    def hypothesis_status(claim_id: str) -> list[HypothesisView]:
        """The claim's hypotheses, each with its latest empirical verdicts."""
        return list(core.hypotheses(claim_id))

    @server.tool()
    @_tool_errors
    def check_proof(claim_id: str, proof: str) -> CheckedProof:
        """Check a proof of the claim's pinned statement under the trust policy, without
        recording it. Returns Lean's verdict and messages."""
        sub = SubmissionIn(claim_id=claim_id, proof=proof, agent="mcp-client")
        result = core.check_proof(sub.claim_id, sub.proof, ready_wait_s=ready_wait)
        return CheckedProof(
            claim_id=claim_id,
            verdict=result.verdict.value,
            summary=result.summary(),
            diagnostics=result.diagnostics(),
            result=result,
        )

    @server.tool()
    @_tool_errors
    def submit_proof(
        claim_id: str,
        proof: str,
        agent: str = "mcp-client",
        wait_s: Annotated[float, Field(ge=0)] = 120.0,
    ) -> SubmissionView:
        """Submit a proof of the claim's pinned statement. It is persisted and checked by
        the workers; waits up to wait_s seconds for the verdict (status stays queued or
        running if it takes longer: poll get_submission)."""
        sub = SubmissionIn(claim_id=claim_id, proof=proof, agent=agent)
        accepted = core.submit(sub, token_id=None, channel="mcp")
        return core.wait(accepted.id, min(wait_s, max_wait))

    @server.tool()
    @_tool_errors
    def get_submission(submission_id: str, wait_s: Annotated[float, Field(ge=0)] = 0.0) -> SubmissionView:
        """A submission with its status, verdict and Lean's messages."""
        return core.wait(submission_id, min(wait_s, max_wait))

    return server


def serve_stdio(core: ServiceCore) -> None:
    """Run the MCP server on stdin/stdout until the client closes the pipe."""
    build_server(core).run("stdio")


__all__ = ["CheckedProof", "build_server", "serve_stdio"]
