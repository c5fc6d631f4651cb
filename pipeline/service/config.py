"""Tunables of the service, built once (environment prefix ``SEQUENT_SERVICE_``) and passed down.

They sit beside :class:`pipeline.settings.Settings` (which holds the project and the engine)
because only the service reads them.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceConfig(BaseSettings):
    """Limits, queue timing and worker counts of the submission service."""

    model_config = SettingsConfigDict(env_prefix="SEQUENT_SERVICE_", frozen=True, extra="ignore")

    workers: int = Field(default=1, ge=0, le=64)
    """In-process check workers (threads calling the engine). 0: only enqueue; run
    ``sequent worker`` elsewhere against the same database."""
    lease_s: float = Field(default=60.0, gt=0)
    """How long a claimed job stays leased without a heartbeat before another worker may take it."""
    poll_s: float = Field(default=0.5, gt=0)
    """How often an idle worker looks for queued jobs."""
    max_attempts: int = Field(default=3, ge=1)
    """A job whose Lean transport broke this many times is finished as an error."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """Largest request body (413 above)."""
    max_proof_bytes: int = Field(default=64 * 1024, ge=16)
    """Largest proof text of a submission (413 above)."""
    max_check_bytes: int = Field(default=200 * 1024, ge=16)
    """Largest draft file of an ad-hoc check (413 above)."""
    max_agent_chars: int = Field(default=200, ge=1)
    rate_per_minute: int = Field(default=120, ge=1)
    """Default for new tokens: writes (submissions and checks) per rolling minute."""
    max_concurrent: int = Field(default=16, ge=1)
    """Default for new tokens: submissions queued or running at once."""
    check_timeout_s: float | None = Field(default=None, gt=0)
    """Wall-clock limit of an ad-hoc check (``None``: the engine's ``lean_timeout_s``)."""
    submission_timeout_s: float | None = Field(default=None, gt=0)
    """Wall-clock limit of checking one submission (``None``: the engine's default)."""
    batch_size: int = Field(default=8, ge=1, le=64)
    """Queued submissions of one claim a worker checks together, compiled as one Lean module
    (the batched acceptance path, docs/lean-backends.md); 1: each on its own."""
    batch_wait_s: float = Field(default=0.5, ge=0, le=10)
    """With batching on, how long a worker that claimed fewer than ``batch_size`` submissions
    waits for more of the same claim before compiling (a burst of submissions then shares one
    compile instead of the first ones paying a compile each; a check takes seconds)."""
    max_attempts_per_call: int = Field(default=8, ge=1, le=64)
    """Candidate proofs in one MCP ``multi_attempt`` call."""
    adhoc_concurrency: int = Field(default=2, ge=1, le=64)
    """Ad-hoc checks (``POST /v1/check``, MCP ``check_proof``) running at once in one
    process; more get 429 ``busy`` with a retry hint."""
    claim_status: bool = True
    """Evaluate the claims' status in the project's library once at start (a few Lean
    checks, cached), shown as ``library`` by ``/v1/claims``."""
    warm_headers: int = Field(default=1, ge=0, le=16)
    """Resident Lean workers started before the server reports ready: one per import header
    of the claims, the header most claims share first (at most the resident pool's size), so
    that the first ``check_proof`` finds a warm worker; 0: none (each first call starts one)."""
    mcp_ready_wait_s: float = Field(default=30.0, ge=0, le=600)
    """How long ``sequent mcp`` waits for the engine to be ready (the project built as far as
    the warmed claims need, their workers warm) before it answers ``initialize``: "ready" means
    ready. Past it, ``initialize`` answers anyway and a first call waits for the rest with
    progress notifications. 30 s is issue 27's ready target; a client's start-up timeout must
    exceed it (``sequent mcp --print-config`` sets 60 s)."""
    wait_max_s: float = Field(default=60.0, ge=0)
    """Longest ``?wait=`` a client may ask for on ``GET /v1/submissions/{id}``."""

    @property
    def heartbeat_s(self) -> float:
        return max(self.lease_s / 3.0, 0.05)


__all__ = ["ServiceConfig"]
