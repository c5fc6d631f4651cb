"""OpenAI models through the ``openai`` SDK (Chat Completions API)."""

from __future__ import annotations

import time
from typing import Any

import openai

from pipeline.agents.models import Completion, Family, Prompt, ProviderName
from pipeline.agents.providers.sdk import SDKProvider
from pipeline.errors import ProviderError


class OpenAIProvider(SDKProvider):
    name: ProviderName = "openai"
    family: Family = "openai"
    sdk = openai
    client_class = openai.OpenAI
    base_error = openai.OpenAIError

    def complete(self, prompt: Prompt) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "max_completion_tokens": self.config.max_output_tokens,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
        }
        if self.config.temperature is not None:
            request["temperature"] = self.config.temperature
        if prompt.response_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": prompt.schema_name or "reply",
                    "schema": prompt.response_schema,
                    "strict": True,
                },
            }
        started = time.monotonic()
        response, retries = self._call(lambda: self._client.chat.completions.create(**request))
        if not response.choices:
            raise ProviderError(f"openai {self.model}: the response has no choices")
        choice = response.choices[0]
        if choice.message.refusal:
            raise ProviderError(f"openai {self.model} refused: {choice.message.refusal}")
        usage = response.usage
        return self._completion(text=choice.message.content or "", model=response.model,
                                tokens_in=usage.prompt_tokens if usage else 0,
                                tokens_out=usage.completion_tokens if usage else 0,
                                started=started, retries=retries,
                                truncated=choice.finish_reason == "length")


__all__ = ["OpenAIProvider"]
