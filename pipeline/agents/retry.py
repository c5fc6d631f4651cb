"""A small retry layer with exponential backoff, shared by the SDK providers.

The SDKs' own retries are switched off (``max_retries=0``) so that this module decides,
counts every retry (recorded with the attempt) and can be tuned per configuration.
Pure parts (:func:`backoff_delay`) are separate from the loop that sleeps.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import Field

from pipeline.errors import ProviderError
from pipeline.models import Frozen

T = TypeVar("T")


class RetryPolicy(Frozen):
    max_retries: int = Field(default=4, ge=0)
    base_s: float = Field(default=1.0, ge=0)
    """Delay before the first retry; doubled for each further one."""
    max_s: float = Field(default=30.0, ge=0)
    """No single wait is longer (also caps a server's ``retry-after``)."""
    jitter: float = Field(default=0.25, ge=0, le=1)
    """Each computed delay is shortened by up to this fraction, at random."""


class Failure(Frozen):
    """How a provider error should be handled."""

    retryable: bool
    message: str
    retry_after_s: float | None = None
    """What the server asked for (``retry-after-ms`` / ``retry-after``), if anything."""


def backoff_delay(
    policy: RetryPolicy, retry_index: int, retry_after_s: float | None = None, rand: float = 0.0
) -> float:
    """Seconds to wait before retry number ``retry_index`` (0-based).

    A server's ``retry-after`` wins (capped at ``policy.max_s``); otherwise exponential
    backoff ``base_s * 2**retry_index`` capped at ``max_s``, shortened by ``jitter * rand``.
    """
    if retry_after_s is not None and retry_after_s >= 0:
        return min(retry_after_s, policy.max_s)
    delay = min(policy.base_s * (2.0 ** min(retry_index, 60)), policy.max_s)
    return delay * (1.0 - policy.jitter * rand)


def parse_retry_after(headers: dict[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or a numeric ``retry-after`` header."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def call_with_retries(
    call: Callable[[], T],
    classify: Callable[[Exception], Failure | None],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run ``call``; retry it while ``classify`` calls its error retryable.

    Returns the result and the number of retries used. An error ``classify`` does not
    recognise propagates unchanged; a recognised one becomes :class:`ProviderError`
    (immediately if not retryable, after ``policy.max_retries`` retries otherwise).
    """
    retries = 0
    while True:
        try:
            return call(), retries
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if not failure.retryable:
                raise ProviderError(f"{what}: {failure.message}") from exc
            if retries >= policy.max_retries:
                raise ProviderError(
                    f"{what}: {failure.message} (gave up after {retries} "
                    f"retr{'y' if retries == 1 else 'ies'})"
                ) from exc
            sleep(backoff_delay(policy, retries, failure.retry_after_s, random.random()))
            retries += 1


__all__ = ["Failure", "RetryPolicy", "backoff_delay", "call_with_retries", "parse_retry_after"]
