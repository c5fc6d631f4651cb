"""What every provider offers, and the translation of SDK errors shared by the SDK providers."""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from pipeline.agents.models import Completion, Family, Prompt, ProviderName
from pipeline.agents.retry import Failure, parse_retry_after
from pipeline.errors import ProviderError

KEY_VARIABLES: dict[Family, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


@runtime_checkable
class Provider(Protocol):
    """A source of completions. Owns its HTTP client; close it when done."""

    name: ProviderName
    family: Family
    model: str

    def complete(self, prompt: Prompt) -> Completion:
        """One stateless request. Raises ProviderError when the provider fails after retries."""
        ...

    def close(self) -> None: ...


def api_key(family: Family, explicit: str | None = None) -> str:
    """The key for ``family``: ``explicit`` or the environment variable, else ProviderError."""
    variable = KEY_VARIABLES[family]
    key = explicit if explicit is not None else os.environ.get(variable, "")
    if not key.strip():
        raise ProviderError(
            f"the {family} provider needs an API key: set the environment variable {variable}"
        )
    return key.strip()


def classify_sdk_error(
    exc: Exception,
    *,
    family: Family,
    status_error: type[Exception],
    timeout_error: type[Exception],
    connection_error: type[Exception],
) -> Failure | None:
    """Map an SDK exception to a retry decision (both SDKs share the same error shapes).

    Retry: 408, 409, 429, 5xx, timeouts, connection errors. Not: other 4xx (bad key,
    bad request, unknown model). Anything that is not an SDK API error: ``None``.
    """
    if isinstance(exc, timeout_error):
        return Failure(retryable=True, message="request timed out")
    if isinstance(exc, connection_error):
        return Failure(retryable=True, message=f"connection failed ({exc})")
    if isinstance(exc, status_error):
        status: int = getattr(exc, "status_code", 0)
        response = getattr(exc, "response", None)
        headers = dict(response.headers) if response is not None else None
        detail = _error_detail(exc)
        if status == 401:
            return Failure(
                retryable=False,
                message=f"authentication failed (HTTP 401): check {KEY_VARIABLES[family]}"
                + (f" — {detail}" if detail else ""),
            )
        retryable = status in (408, 409, 429) or status >= 500
        return Failure(
            retryable=retryable,
            message=f"HTTP {status}" + (f": {detail}" if detail else ""),
            retry_after_s=parse_retry_after(headers) if retryable else None,
        )
    return None


def _error_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:300]
    return ""


__all__ = ["KEY_VARIABLES", "Provider", "api_key", "classify_sdk_error"]
