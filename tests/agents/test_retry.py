from __future__ import annotations

import pytest

from pipeline.agents.retry import (
    Failure,
    RetryPolicy,
    backoff_delay,
    call_with_retries,
    parse_retry_after,
)
from pipeline.errors import ProviderError


def test_backoff_doubles_and_caps() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=10.0, jitter=0.25)
    assert [backoff_delay(policy, i) for i in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff_delay(policy, 2, rand=1.0) == pytest.approx(3.0)  # 4 * (1 - 0.25)
    assert backoff_delay(policy, 10_000) == 10.0  # no overflow


def test_server_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=10.0)
    assert backoff_delay(policy, 3, retry_after_s=0.5) == 0.5
    assert backoff_delay(policy, 0, retry_after_s=120.0) == 10.0
    assert backoff_delay(policy, 0, retry_after_s=0.0) == 0.0


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After-Ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after(None) is None


class Flaky(Exception):
    pass


def classify(exc: Exception) -> Failure | None:
    if isinstance(exc, Flaky):
        return Failure(retryable=str(exc) != "fatal", message=str(exc), retry_after_s=0.0)
    return None


def test_call_with_retries_counts_and_sleeps() -> None:
    outcomes: list[Exception | str] = [Flaky("busy"), Flaky("busy"), "done"]
    slept: list[float] = []

    def call() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    result, retries = call_with_retries(call, classify, RetryPolicy(max_retries=5),
                                        what="test", sleep=slept.append)
    assert (result, retries) == ("done", 2)
    assert slept == [0.0, 0.0]


def test_call_with_retries_gives_up_and_keeps_the_cause() -> None:
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1
        raise Flaky("busy")

    with pytest.raises(ProviderError, match="test: busy \\(gave up after 2 retries\\)") as info:
        call_with_retries(call, classify, RetryPolicy(max_retries=2), what="test",
                          sleep=lambda _s: None)
    assert calls == 3
    assert isinstance(info.value.__cause__, Flaky)


def test_non_retryable_and_unknown_errors() -> None:
    def fatal() -> None:
        raise Flaky("fatal")

    with pytest.raises(ProviderError, match="test: fatal"):
        call_with_retries(fatal, classify, RetryPolicy(), what="test", sleep=lambda _s: None)

    def bug() -> None:
        raise KeyError("not a provider error")

    with pytest.raises(KeyError):
        call_with_retries(bug, classify, RetryPolicy(), what="test", sleep=lambda _s: None)
