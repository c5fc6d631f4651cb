"""OpenAI models through the ``openai`` SDK (Chat Completions API)."""

from __future__ import annotations

import functools
import time
from typing import Any

import httpx2
import openai

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Completion, Family, Prompt, ProviderName
from pipeline.agents.providers.base import api_key, classify_sdk_error
from pipeline.agents.retry import call_with_retries
from pipeline.errors import ProviderError


class OpenAIProvider:
    """Owns one ``openai.OpenAI`` client (and, through it, its HTTP client)."""

    name: ProviderName = "openai"
    family: Family = "openai"

    def __init__(
        self,
        config: AgentConfig,
        *,
        model: str | None = None,
        key: str | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.config = config
        self.model = model or config.openai_model
        self._client = openai.OpenAI(
            api_key=api_key("openai", key),
            base_url=config.openai_base_url,
            timeout=config.timeout_s,
            max_retries=0,  # retries are ours: pipeline.agents.retry
            http_client=http_client,
        )
        self._classify = functools.partial(
            classify_sdk_error,
            family="openai",
            status_error=openai.APIStatusError,
            timeout_error=openai.APITimeoutError,
            connection_error=openai.APIConnectionError,
        )

    def complete(self, prompt: Prompt) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "max_completion_tokens": self.config.max_output_tokens,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
        }
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
        try:
            response, retries = call_with_retries(
                lambda: self._client.chat.completions.create(**request),
                self._classify,
                self.config.retry,
                what=f"openai {self.model}",
            )
        except openai.OpenAIError as exc:  # malformed response and the like
            raise ProviderError(f"openai {self.model}: {exc}") from exc
        if not response.choices:
            raise ProviderError(f"openai {self.model}: the response has no choices")
        choice = response.choices[0]
        if choice.message.refusal:
            raise ProviderError(f"openai {self.model} refused: {choice.message.refusal}")
        usage = response.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        return Completion(
            text=choice.message.content or "",
            provider=self.name,
            family=self.family,
            model=response.model or self.model,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=self.config.cost(self.model, tokens_in, tokens_out),
            elapsed_s=time.monotonic() - started,
            retries=retries,
            truncated=choice.finish_reason == "length",
        )

    def close(self) -> None:
        self._client.close()


__all__ = ["OpenAIProvider"]
