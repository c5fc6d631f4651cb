"""Anthropic models through the ``anthropic`` SDK (Messages API)."""

from __future__ import annotations

import functools
import time
from typing import Any

import anthropic
import httpx2

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Completion, Family, Prompt, ProviderName
from pipeline.agents.providers.base import api_key, classify_sdk_error
from pipeline.agents.retry import call_with_retries
from pipeline.errors import ProviderError


class AnthropicProvider:
    """Owns one ``anthropic.Anthropic`` client (and, through it, its HTTP client)."""

    name: ProviderName = "anthropic"
    family: Family = "anthropic"

    def __init__(
        self,
        config: AgentConfig,
        *,
        model: str | None = None,
        key: str | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.config = config
        self.model = model or config.anthropic_model
        self._client = anthropic.Anthropic(
            api_key=api_key("anthropic", key),
            base_url=config.anthropic_base_url,
            timeout=config.timeout_s,
            max_retries=0,  # retries are ours: pipeline.agents.retry
            http_client=http_client,
        )
        self._classify = functools.partial(
            classify_sdk_error,
            family="anthropic",
            status_error=anthropic.APIStatusError,
            timeout_error=anthropic.APITimeoutError,
            connection_error=anthropic.APIConnectionError,
        )

    def complete(self, prompt: Prompt) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.config.max_output_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.user}],
        }
        if prompt.response_schema is not None:
            request["output_config"] = {
                "format": {"type": "json_schema", "schema": prompt.response_schema}
            }
        started = time.monotonic()
        try:
            message, retries = call_with_retries(
                lambda: self._client.messages.create(**request),
                self._classify,
                self.config.retry,
                what=f"anthropic {self.model}",
            )
        except anthropic.AnthropicError as exc:  # malformed response and the like
            raise ProviderError(f"anthropic {self.model}: {exc}") from exc
        text = "".join(getattr(block, "text", "") for block in message.content
                       if block.type == "text")
        if message.stop_reason == "refusal":
            raise ProviderError(f"anthropic {self.model} refused the request")
        usage = message.usage
        return Completion(
            text=text,
            provider=self.name,
            family=self.family,
            model=message.model or self.model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=self.config.cost(self.model, usage.input_tokens, usage.output_tokens),
            elapsed_s=time.monotonic() - started,
            retries=retries,
            truncated=message.stop_reason == "max_tokens",
        )

    def close(self) -> None:
        self._client.close()


__all__ = ["AnthropicProvider"]
