"""The Anthropic provider: the real SDK client over a mock HTTP edge (and a real loopback
server for timeouts)."""

from __future__ import annotations

import pytest

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Prompt
from pipeline.agents.prompts import REVIEW_SCHEMA
from pipeline.agents.providers import make_provider
from pipeline.agents.providers.anthropic_provider import AnthropicProvider
from pipeline.errors import ProviderError
from tests.agents.llm_edge import Reply, ScriptedEdge, anthropic_error, ok_anthropic
from tests.agents.slow_server import SlowServer

PROMPT = Prompt(kind="proof", system="You are careful.", user="Prove it.")


def test_request_shape_and_accounting(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([ok_anthropic("```lean\nby omega\n```", input_tokens=2000,
                                      output_tokens=500)])
    provider = AnthropicProvider(config, http_client=edge.client())
    completion = provider.complete(PROMPT)

    [seen] = edge.seen
    assert seen.method == "POST" and seen.path == "/v1/messages"
    # the key travels as x-api-key or as a bearer token, depending on the SDK version
    credential = seen.headers.get("x-api-key", "") + seen.headers.get("authorization", "")
    assert "sk-ant-test-key" in credential
    assert "anthropic-version" in seen.headers
    assert seen.body["model"] == "claude-sonnet-4-6"
    assert seen.body["system"] == "You are careful."
    assert seen.body["messages"] == [{"role": "user", "content": "Prove it."}]
    assert seen.body["max_tokens"] == config.max_output_tokens
    assert "output_config" not in seen.body

    assert completion.text == "```lean\nby omega\n```"
    assert completion.provider == "anthropic" and completion.family == "anthropic"
    assert completion.model == "claude-sonnet-4-6"
    assert (completion.input_tokens, completion.output_tokens) == (2000, 500)
    # $3 / $15 per million tokens for claude-sonnet-4-6
    assert completion.cost_usd == pytest.approx(2000 * 3e-6 + 500 * 15e-6)
    assert completion.retries == 0 and not completion.truncated
    provider.close()


def test_structured_output_is_requested(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([ok_anthropic('{"verdict": "faithful", "discrepancies": [], '
                                      '"summary": "ok"}')])
    provider = AnthropicProvider(config, model="claude-opus-4-6", http_client=edge.client())
    provider.complete(Prompt(kind="review", system="s", user="u",
                             response_schema=REVIEW_SCHEMA, schema_name="review_judgement"))
    body = edge.seen[0].body
    assert body["model"] == "claude-opus-4-6"
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": REVIEW_SCHEMA}}


def test_retries_on_429_and_5xx_then_succeeds(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([
        Reply(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after-ms": "5"}),
        Reply(529, anthropic_error("overloaded_error", "Overloaded")),
        Reply(500, anthropic_error("api_error", "Internal server error")),
        ok_anthropic("by simp"),
    ])
    provider = AnthropicProvider(config, http_client=edge.client())
    completion = provider.complete(PROMPT)
    assert completion.text == "by simp"
    assert completion.retries == 3
    assert len(edge.seen) == 4
    assert all(s.body == edge.seen[0].body for s in edge.seen)


def test_gives_up_after_max_retries(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(503, anthropic_error("api_error", "unavailable"))] * 10)
    provider = AnthropicProvider(config, http_client=edge.client())
    with pytest.raises(ProviderError, match=r"HTTP 503.*gave up after 3 retries"):
        provider.complete(PROMPT)
    assert len(edge.seen) == 4  # one try + max_retries


def test_client_errors_are_not_retried(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(401, anthropic_error("authentication_error", "invalid x-api-key"))])
    provider = AnthropicProvider(config, http_client=edge.client())
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY") as info:
        provider.complete(PROMPT)
    assert "invalid x-api-key" in str(info.value)
    assert len(edge.seen) == 1

    edge = ScriptedEdge([Reply(400, anthropic_error("invalid_request_error", "bad model"))])
    provider = AnthropicProvider(config, http_client=edge.client())
    with pytest.raises(ProviderError, match="HTTP 400: bad model"):
        provider.complete(PROMPT)
    assert len(edge.seen) == 1


def test_missing_key_names_the_variable(no_keys: None, config: AgentConfig) -> None:
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY"):
        make_provider("anthropic", config)


def test_truncated_and_unpriced(keys: None) -> None:
    config = AgentConfig.from_env(prices={})
    edge = ScriptedEdge([ok_anthropic("by\n  intro", stop_reason="max_tokens")])
    completion = AnthropicProvider(config, http_client=edge.client()).complete(PROMPT)
    assert completion.truncated
    assert completion.cost_usd is None


def test_timeout_on_a_real_slow_server(keys: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with SlowServer(delay_s=2.0) as server:
        config = AgentConfig.from_env(anthropic_base_url=server.url, timeout_s=0.25,
                                      max_retries=1, retry_base_s=0.001)
        provider = AnthropicProvider(config)
        with pytest.raises(ProviderError, match=r"timed out.*gave up after 1 retry"):
            provider.complete(PROMPT)
        provider.close()
        assert server.hits_settled(2) == 2
