"""What the two SDK providers share: one SDK client built the same way, our retries around
each call, SDK errors translated to ProviderError, and the Completion they return.

A subclass names its SDK module (``anthropic`` or ``openai``: same client arguments, same
error classes), its client class and root error, and writes only what differs: the request and
reading the response.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import httpx2

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Completion, Family, Prompt, ProviderName, ToolCall
from pipeline.agents.providers.base import api_key, classify_sdk_error
from pipeline.agents.retry import call_with_retries
from pipeline.errors import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """What a provider reads from its SDK's response."""

    text: str
    model: str | None
    tokens_in: int
    tokens_out: int
    truncated: bool
    tool_calls: tuple[ToolCall, ...] = ()


class SDKProvider(ABC):
    """Owns one SDK client (and, through it, its HTTP client)."""

    name: ProviderName
    """The provider's name: its family's."""
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
        self.name = self.family
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

    def complete(self, prompt: Prompt) -> Completion:
        """One call: the SDK request built from ``prompt``, sent under our retries, its
        response read back; timing and cost are measured here."""
        request = self._request(prompt)
        started = time.monotonic()
        response, retries = self._call(lambda: self._create(request))
        reply = self._read(response)
        return Completion(
            text=reply.text,
            provider=self.name,
            family=self.family,
            model=reply.model or self.model,
            input_tokens=reply.tokens_in,
            output_tokens=reply.tokens_out,
            cost_usd=self.config.cost(self.model, reply.tokens_in, reply.tokens_out),
            elapsed_s=time.monotonic() - started,
            retries=retries,
            truncated=reply.truncated,
            tool_calls=reply.tool_calls,
        )

    @abstractmethod
    def _request(self, prompt: Prompt) -> dict[str, Any]:
        """The SDK's keyword arguments for ``prompt``."""

    @abstractmethod
    def _create(self, request: dict[str, Any]) -> Any:
        """One SDK call with ``request``."""

    @abstractmethod
    def _read(self, response: Any) -> Reply:
        """What the SDK's response says (:class:`ProviderError` for a refusal and the like)."""

    def close(self) -> None:
        self._client.close()


__all__ = ["Reply", "SDKProvider"]
