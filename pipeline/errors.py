"""One exception tree for the whole package.

    SequentError                      base: anything the CLI turns into a clean message
    ├── InputError                    bad input from a user or agent (exit 2, HTTP 4xx)
    │   ├── NotFoundError             unknown id, missing file, unknown ref
    │   └── PolicyConfigError         a policy or settings value that makes no sense
    ├── SetupError                    the machine is not set up (exit 2): Lean not installed, ...
    ├── LeanError                     the Lean *transport* broke (not a rejected proof)
    │   ├── LeanCrashError            the process died or printed garbage; stderr attached
    │   └── NoWorkerAvailable         the pool had no worker before the deadline
    ├── ClaimError                    the claims registry is inconsistent (names file and field)
    ├── EvidenceError                 a run or check could not be evaluated at all
    ├── ProviderError                 an LLM provider failed after retries, or has no key
    └── GateError                     a git/repository problem in the gate (exit 2)

A proof that Lean rejects is *not* an exception: it is a CheckResult with verdict `rejected`.
Foreign errors (subprocess, SDKs, git, SQLAlchemy) are translated at the boundary where
they occur, with ``raise ... from exc``.
"""

from __future__ import annotations


class SequentError(Exception):
    """Base class. ``str(err)`` is a message fit to show a user."""

    exit_code: int = 1


class InputError(SequentError):
    """Bad input: a missing file, malformed JSON, non-UTF-8, an oversized file, ..."""

    exit_code = 2


class NotFoundError(InputError):
    """An unknown id, file, declaration or git ref."""


class PolicyConfigError(InputError):
    """A configuration value that cannot be used."""


class SetupError(SequentError):
    """The machine is not set up for the request (e.g. Lean is not installed)."""

    exit_code = 2


class LeanError(SequentError):
    """The Lean transport failed (not a rejected proof)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class LeanCrashError(LeanError):
    """The Lean process died unexpectedly or produced unparseable output."""


class NoWorkerAvailable(LeanError):
    """No pooled Lean process became free before the deadline."""


class ClaimError(SequentError):
    """The claims registry is inconsistent. The message names the file and the field."""


class EvidenceError(SequentError):
    """A run could not be loaded or a check could not be evaluated."""


class ProviderError(SequentError):
    """An LLM provider failed after retries, or is not configured."""

    exit_code = 2


class GateError(SequentError):
    """A repository or ref problem in the gate."""

    exit_code = 2


__all__ = [
    "ClaimError",
    "EvidenceError",
    "GateError",
    "InputError",
    "LeanCrashError",
    "LeanError",
    "NoWorkerAvailable",
    "NotFoundError",
    "PolicyConfigError",
    "ProviderError",
    "SequentError",
    "SetupError",
]
