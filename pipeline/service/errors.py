"""Service-specific errors, all inside the package's one tree (:mod:`pipeline.errors`).

:func:`status_of` maps any package error to the HTTP status and the machine-readable code
the API answers with. Bad input is always a 4xx; a 503 means the server itself is not able
to serve (Lean not installed, a broken claims registry).
"""

from __future__ import annotations

from pipeline.errors import (
    ClaimError,
    EvidenceError,
    GateError,
    InputError,
    LeanError,
    NotFoundError,
    ProviderError,
    SequentError,
    SetupError,
)


class Unauthorized(InputError):
    """No token, an unknown token, or a revoked one."""


class RetryLater(SequentError):
    """An error the client may retry: it carries the seconds to wait (a 429's ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimited(RetryLater, InputError):
    """The token made too many writes in the last minute, or has too many open submissions."""


class TooLarge(InputError):
    """A request body or a proof above the configured cap."""


class Conflict(InputError):
    """The request does not fit the resource's state (e.g. exporting a rejected proof)."""


class BadEncoding(InputError):
    """A body that is not UTF-8."""


class Busy(RetryLater):
    """The server has no capacity for this request right now (429 with a retry hint: the
    client is asking for more Lean time than the server has, as with a rate limit)."""


def status_of(err: SequentError) -> tuple[int, str]:
    """HTTP status and error code for a package error."""
    match err:
        case Unauthorized():
            return 401, "unauthorized"
        case RateLimited():
            return 429, "rate_limited"
        case TooLarge():
            return 413, "too_large"
        case Conflict():
            return 409, "conflict"
        case BadEncoding():
            return 400, "bad_encoding"
        case NotFoundError():
            return 404, "not_found"
        case InputError():
            return 422, "invalid_input"
        case GateError():
            return 409, "repository"
        case ProviderError():  # no key for the reviewer's family, or the provider failed: the
            return 424, "provider"  # request depended on it (never a 5xx of this service)
        case Busy():
            return 429, "busy"
        case ClaimError():
            return 503, "claims_registry"
        case EvidenceError():
            return 503, "evidence"
        case SetupError() | LeanError():
            return 503, "unavailable"
        case _:
            return 500, "internal"


def retry_after(err: SequentError) -> float | None:
    return err.retry_after_s if isinstance(err, RetryLater) else None


__all__ = [
    "BadEncoding",
    "Busy",
    "Conflict",
    "RateLimited",
    "RetryLater",
    "TooLarge",
    "Unauthorized",
    "retry_after",
    "status_of",
]
