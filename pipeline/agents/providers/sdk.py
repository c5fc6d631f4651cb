"""What the two SDK providers share: one SDK client built the same way, our retries around
each call, SDK errors translated to ProviderError, and the Completion they return.

A subclass names its SDK module (``anthropic`` or ``openai``: same client arguments, same
error classes), its client class and root error, and writes only what differs: the request and
reading the response.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import httpx2

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Completion, Family, ProviderName, ToolCall
from pipeline.agents.providers.base import api_key, classify_sdk_error
from pipeline.agents.retry import call_with_retries
from pipeline.errors import ProviderError

T = TypeVar("T")


class SDKProvider:
    """Owns one SDK client (and, through it, its HTTP client)."""

    name: ProviderName
    family: Family
    sdk: ModuleType
    """The SDK module, for its ``APIStatusError``, ``APITimeoutError``, ``APIConnectionError``."""
    client_class: type[Any]
    """The SDK's client class, e.g. ``anthropic.Anthropic``."""
    base_error: type[Exception]
    """The SDK's root error class (a malformed response and the like)."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        model: str | None = None,
        key: str | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.config = config
        self.model: str = model or getattr(config, f"{self.family}_model")
        self._client: Any = self.client_class(
            api_key=api_key(self.family, key),
            base_url=getattr(config, f"{self.family}_base_url"),
            timeout=config.timeout_s,
            max_retries=0,  # retries are ours: pipeline.agents.retry
            http_client=http_client,
        )
        self._classify = functools.partial(
            classify_sdk_error,
            family=self.family,
            status_error=self.sdk.APIStatusError,
            timeout_error=self.sdk.APITimeoutError,
            connection_error=self.sdk.APIConnectionError,
        )

    def _call(self, create: Callable[[], T]) -> tuple[T, int]:
        """``create()`` under our retry policy: (response, retries), or ProviderError."""
        try:
            return call_with_retries(create, self._classify, self.config.retry,
                                     what=f"{self.family} {self.model}")
        except self.base_error as exc:
            raise ProviderError(f"{self.family} {self.model}: {exc}") from exc

    def _completion(self, *, text: str, model: str | None, tokens_in: int, tokens_out: int,
                    started: float, retries: int, truncated: bool,
                    tool_calls: tuple[ToolCall, ...] = ()) -> Completion:
        return Completion(
            text=text,
            provider=self.name,
            family=self.family,
            model=model or self.model,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=self.config.cost(self.model, tokens_in, tokens_out),
            elapsed_s=time.monotonic() - started,
            retries=retries,
            truncated=truncated,
            tool_calls=tool_calls,
        )

    def close(self) -> None:
        self._client.close()


__all__ = ["SDKProvider"]
