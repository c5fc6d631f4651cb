"""OpenAI models through the ``openai`` SDK (Chat Completions API)."""

from __future__ import annotations

import json
from typing import Any

import openai

from pipeline.agents.models import Family, Prompt, ToolCall
from pipeline.agents.providers.sdk import Reply, SDKProvider
from pipeline.errors import ProviderError


class OpenAIProvider(SDKProvider):
    family: Family = "openai"
    sdk = openai
    client_class = openai.OpenAI
    base_error = openai.OpenAIError

    def _request(self, prompt: Prompt) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "max_completion_tokens": self.config.max_output_tokens,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
                *_turns(prompt),
            ],
        }
        if prompt.tools:
            request["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.input_schema}}
                for t in prompt.tools]
            request["tool_choice"] = prompt.tool_choice
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
        return request

    def _create(self, request: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**request)

    def _read(self, response: Any) -> Reply:
        if not response.choices:
            raise ProviderError(f"openai {self.model}: the response has no choices")
        choice = response.choices[0]
        if choice.message.refusal:
            raise ProviderError(f"openai {self.model} refused: {choice.message.refusal}")
        calls = tuple(_call(c.id, c.function.name, c.function.arguments)
                      for c in choice.message.tool_calls or () if c.type == "function")
        usage = response.usage
        return Reply(text=choice.message.content or "", model=response.model,
                     tokens_in=usage.prompt_tokens if usage else 0,
                     tokens_out=usage.completion_tokens if usage else 0,
                     truncated=choice.finish_reason == "length", tool_calls=calls)


def _call(call_id: str, name: str, arguments: str) -> ToolCall:
    """A function call; its arguments arrive as a JSON string, which may not parse."""
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return ToolCall(id=call_id, name=name, malformed=arguments)
    return ToolCall(id=call_id, name=name, arguments=parsed)


def _turns(prompt: Prompt) -> list[dict[str, Any]]:
    """The tool rounds as Chat Completions messages: the assistant's ``tool_calls``, then one
    ``tool`` message per result."""
    messages: list[dict[str, Any]] = []
    for turn in prompt.turns:
        messages.append({"role": "assistant", "content": turn.text or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {
                "name": c.name,
                "arguments": c.malformed if c.malformed is not None else json.dumps(c.arguments)}}
            for c in turn.calls]})
        messages += [{"role": "tool", "tool_call_id": r.call_id, "content": r.content}
                     for r in turn.results]
    return messages


__all__ = ["OpenAIProvider"]
