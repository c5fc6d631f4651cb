"""Admission under a token's limits (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import InputError
from pipeline.service.errors import Busy, RateLimited, retry_after, status_of
from pipeline.service.limits import Limits, Usage, admit

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
LIMITS = Limits(rate_per_minute=3, max_concurrent=2)


def usage(writes: int, open_: int, oldest_s_ago: float | None = None) -> Usage:
    oldest = NOW - timedelta(seconds=oldest_s_ago) if oldest_s_ago is not None else None
    return Usage(writes_in_window=writes, oldest_write_in_window=oldest, open_submissions=open_)


def test_under_both_limits_is_admitted() -> None:
    admit(usage(2, 1, 10), LIMITS, now=NOW, opens_submission=True)


def test_rate_limit_gives_the_time_until_the_oldest_write_leaves_the_window() -> None:
    with pytest.raises(RateLimited) as info:
        admit(usage(3, 0, 45), LIMITS, now=NOW, opens_submission=False)
    assert info.value.retry_after_s == pytest.approx(15.0)
    assert "3 writes per minute" in str(info.value)
    assert status_of(info.value) == (429, "rate_limited")
    assert isinstance(info.value, InputError)


def test_both_retry_hints_reach_the_client_and_keep_their_status() -> None:
    """A rate limit (the client's fault, a 4xx InputError) and a busy server (not the client's
    input) both carry the seconds to wait; no other error carries one."""
    limited, busy = RateLimited("too many writes", 15.0), Busy("every Lean worker is busy", 5.0)
    assert (status_of(limited), retry_after(limited), limited.exit_code) == ((429, "rate_limited"), 15.0, 2)
    assert (status_of(busy), retry_after(busy), isinstance(busy, InputError)) == ((429, "busy"), 5.0, False)
    assert retry_after(InputError("bad")) is None


def test_concurrency_cap_applies_only_to_submissions() -> None:
    admit(usage(1, 2, 5), LIMITS, now=NOW, opens_submission=False)
    with pytest.raises(RateLimited, match="concurrency limit"):
        admit(usage(1, 2, 5), LIMITS, now=NOW, opens_submission=True)


def test_a_provider_without_its_key_is_a_client_visible_4xx(monkeypatch: pytest.MonkeyPatch) -> None:
    """POST /v1/review with no reviewer key gave 500 under the fuzzer: a provider the request
    depends on is 424 with the message naming the variable, never a 5xx."""
    from pipeline.agents.providers.base import api_key
    from pipeline.errors import ProviderError

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY") as info:
        api_key("anthropic")
    assert status_of(info.value) == (424, "provider")
