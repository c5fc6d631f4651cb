"""Anthropic models through the ``anthropic`` SDK (Messages API)."""

from __future__ import annotations

from typing import Any

import anthropic

from pipeline.agents.models import Family, Prompt, ToolCall
from pipeline.agents.providers.sdk import Reply, SDKProvider
from pipeline.errors import ProviderError


class AnthropicProvider(SDKProvider):
    family: Family = "anthropic"
    sdk = anthropic
    client_class = anthropic.Anthropic
    base_error = anthropic.AnthropicError

    def _request(self, prompt: Prompt) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.config.max_output_tokens,
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.user}, *_turns(prompt)],
        }
        if prompt.tools:
            request["tools"] = [{"name": t.name, "description": t.description,
                                 "input_schema": t.input_schema} for t in prompt.tools]
            request["tool_choice"] = {"type": prompt.tool_choice}
        if prompt.response_schema is not None:
            request["output_config"] = {
                "format": {"type": "json_schema", "schema": prompt.response_schema}
            }
        return request

    def _create(self, request: dict[str, Any]) -> Any:
        return self._client.messages.create(**request)

    def _read(self, message: Any) -> Reply:
        text = "".join(getattr(block, "text", "") for block in message.content
                       if block.type == "text")
        if message.stop_reason == "refusal":
            raise ProviderError(f"anthropic {self.model} refused the request")
        calls = tuple(
            ToolCall(id=block.id, name=block.name, arguments=block.input)
            if isinstance(block.input, dict) else
            ToolCall(id=block.id, name=block.name, malformed=str(block.input))
            for block in message.content if block.type == "tool_use"
        )
        usage = message.usage
        return Reply(text=text, model=message.model, tokens_in=usage.input_tokens,
                     tokens_out=usage.output_tokens, truncated=message.stop_reason == "max_tokens",
                     tool_calls=calls)


def _turns(prompt: Prompt) -> list[dict[str, Any]]:
    """The tool rounds as Messages API turns: the assistant's text and ``tool_use`` blocks, then
    a user turn of ``tool_result`` blocks."""
    messages: list[dict[str, Any]] = []
    for turn in prompt.turns:
        said: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text.strip() else []
        said += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                 for c in turn.calls]
        messages.append({"role": "assistant", "content": said})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content,
             "is_error": r.is_error} for r in turn.results]})
    return messages


__all__ = ["AnthropicProvider"]
