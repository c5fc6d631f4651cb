"""The network edge of the LLM providers, for tests: an ``httpx2.MockTransport`` that
answers with responses shaped like the real APIs' (Anthropic Messages, OpenAI Chat
Completions) and keeps every request it saw. The SDK clients above it are real."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2


def anthropic_message(
    text: str, *, model: str = "claude-sonnet-4-6", input_tokens: int = 1200,
    output_tokens: int = 300, stop_reason: str = "end_turn",
) -> dict[str, Any]:
    """A Messages API response body, as the API sends it."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


def anthropic_tool_use(calls: list[tuple[str, str, dict[str, Any]]], text: str = "",
                       **kw: Any) -> dict[str, Any]:
    """A Messages API response that asks for tools: ``(id, name, input)`` per ``tool_use``."""
    body = anthropic_message(text, stop_reason="tool_use", **kw)
    body["content"] = ([{"type": "text", "text": text}] if text else []) + [
        {"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls]
    return body


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


def openai_completion(
    text: str, *, model: str = "gpt-5-2025-08-07", prompt_tokens: int = 900,
    completion_tokens: int = 250, finish_reason: str = "stop",
) -> dict[str, Any]:
    """A Chat Completions response body, as the API sends it."""
    return {
        "id": "chatcmpl-C9xk2dQ1Yq3mJ0",
        "object": "chat.completion",
        "created": 1756400000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": None,
                        "annotations": []},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 128, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


def openai_tool_calls(calls: list[tuple[str, str, str]], **kw: Any) -> dict[str, Any]:
    """A Chat Completions response that calls functions: ``(id, name, arguments JSON text)``."""
    body = openai_completion("", finish_reason="tool_calls", **kw)
    message = body["choices"][0]["message"]
    message["content"] = None
    message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                             for i, n, a in calls]
    return body


def openai_error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class ScriptedEdge:
    """Answers requests with the scripted replies, in order; records what it was sent."""

    def __init__(self, replies: Iterable[Reply] = ()) -> None:
        self.replies: deque[Reply] = deque(replies)
        self.seen: list[Seen] = []

    def add(self, *replies: Reply) -> ScriptedEdge:
        self.replies.extend(replies)
        return self

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content) if request.content else {}
        self.seen.append(Seen(request.method, request.url.path, dict(request.headers), body))
        if not self.replies:
            return httpx2.Response(500, json={"error": {"message": "script exhausted"}})
        reply = self.replies.popleft()
        return httpx2.Response(reply.status, json=reply.body, headers=reply.headers)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))


def ok_anthropic(text: str, **kw: Any) -> Reply:
    return Reply(200, anthropic_message(text, **kw), {"request-id": "req_01"})


def ok_openai(text: str, **kw: Any) -> Reply:
    return Reply(200, openai_completion(text, **kw), {"x-request-id": "req_01"})
