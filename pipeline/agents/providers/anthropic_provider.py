"""Anthropic models through the ``anthropic`` SDK (Messages API)."""

from __future__ import annotations

import time
from typing import Any

import anthropic

from pipeline.agents.models import Completion, Family, Prompt, ProviderName
from pipeline.agents.providers.sdk import SDKProvider
from pipeline.errors import ProviderError


class AnthropicProvider(SDKProvider):
    name: ProviderName = "anthropic"
    family: Family = "anthropic"
    sdk = anthropic
    client_class = anthropic.Anthropic
    base_error = anthropic.AnthropicError

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
        message, retries = self._call(lambda: self._client.messages.create(**request))
        text = "".join(getattr(block, "text", "") for block in message.content
                       if block.type == "text")
        if message.stop_reason == "refusal":
            raise ProviderError(f"anthropic {self.model} refused the request")
        usage = message.usage
        return self._completion(text=text, model=message.model, tokens_in=usage.input_tokens,
                                tokens_out=usage.output_tokens, started=started, retries=retries,
                                truncated=message.stop_reason == "max_tokens")


__all__ = ["AnthropicProvider"]
