"""The OpenAI provider: the real SDK client over a mock HTTP edge (and a real loopback
server for timeouts)."""

from __future__ import annotations

import pytest

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Prompt
from pipeline.agents.prompts import REVIEW_SCHEMA
from pipeline.agents.providers import make_provider
from pipeline.agents.providers.openai_provider import OpenAIProvider
from pipeline.errors import ProviderError
from tests.agents.llm_edge import Reply, ScriptedEdge, ok_openai, openai_completion, openai_error
from tests.agents.slow_server import SlowServer

PROMPT = Prompt(kind="repair", system="You are careful.", user="Fix it.")


def test_request_shape_and_accounting(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([ok_openai("by decide", prompt_tokens=4000, completion_tokens=1000)])
    provider = OpenAIProvider(config, http_client=edge.client())
    completion = provider.complete(PROMPT)

    [seen] = edge.seen
    assert seen.method == "POST" and seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-openai-test-key"
    assert seen.body["model"] == "gpt-5"
    assert seen.body["messages"] == [
        {"role": "system", "content": "You are careful."},
        {"role": "user", "content": "Fix it."},
    ]
    assert seen.body["max_completion_tokens"] == config.max_output_tokens
    assert "response_format" not in seen.body and "temperature" not in seen.body

    assert completion.text == "by decide"
    assert (completion.provider, completion.family) == ("openai", "openai")
    assert completion.model == "gpt-5-2025-08-07"
    assert (completion.input_tokens, completion.output_tokens) == (4000, 1000)
    # $1.25 / $10 per million tokens for gpt-5
    assert completion.cost_usd == pytest.approx(4000 * 1.25e-6 + 1000 * 10e-6)
    assert completion.retries == 0
    provider.close()


def test_a_configured_temperature_is_sent(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([ok_openai("by decide")])
    provider = OpenAIProvider(config.model_copy(update={"temperature": 0.3}), http_client=edge.client())
    provider.complete(PROMPT)
    assert edge.seen[0].body["temperature"] == 0.3
    provider.close()


def test_structured_output_is_requested(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([ok_openai('{"verdict": "uncertain", "discrepancies": [], '
                                   '"summary": "?"}')])
    provider = OpenAIProvider(config, model="gpt-5-mini", http_client=edge.client())
    completion = provider.complete(Prompt(kind="review", system="s", user="u",
                                          response_schema=REVIEW_SCHEMA,
                                          schema_name="review_judgement"))
    assert edge.seen[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "review_judgement", "schema": REVIEW_SCHEMA, "strict": True},
    }
    # gpt-5-mini is priced by its own entry, not by the shorter prefix gpt-5
    assert completion.cost_usd == pytest.approx(900 * 0.25e-6 + 250 * 2e-6)


def test_retries_on_429_and_5xx_then_succeeds(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([
        Reply(429, openai_error("requests", "Rate limit reached"), {"retry-after": "0.01"}),
        Reply(502, openai_error("server_error", "Bad gateway")),
        ok_openai("by omega"),
    ])
    completion = OpenAIProvider(config, http_client=edge.client()).complete(PROMPT)
    assert completion.text == "by omega"
    assert completion.retries == 2
    assert len(edge.seen) == 3


def test_gives_up_after_max_retries(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(429, openai_error("requests", "Rate limit reached"))] * 10)
    with pytest.raises(ProviderError, match=r"HTTP 429: Rate limit reached.*after 3 retries"):
        OpenAIProvider(config, http_client=edge.client()).complete(PROMPT)
    assert len(edge.seen) == 4


def test_bad_key_is_not_retried(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(401, openai_error("invalid_request_error", "Incorrect API key"))])
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        OpenAIProvider(config, http_client=edge.client()).complete(PROMPT)
    assert len(edge.seen) == 1


def test_refusal_and_truncation(keys: None, config: AgentConfig) -> None:
    refusal = openai_completion("")
    refusal["choices"][0]["message"].update(content=None, refusal="I can't help with that.")
    edge = ScriptedEdge([Reply(200, refusal), ok_openai("by", finish_reason="length")])
    provider = OpenAIProvider(config, http_client=edge.client())
    with pytest.raises(ProviderError, match="refused: I can't help"):
        provider.complete(PROMPT)
    assert provider.complete(PROMPT).truncated


def test_malformed_body_is_a_provider_error(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(200, {"id": "x", "object": "chat.completion", "choices": []})])
    with pytest.raises(ProviderError, match="no choices"):
        OpenAIProvider(config, http_client=edge.client()).complete(PROMPT)


def test_missing_key_names_the_variable(no_keys: None, config: AgentConfig) -> None:
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        make_provider("openai", config)


def test_timeout_on_a_real_slow_server(keys: None) -> None:
    with SlowServer(delay_s=2.0) as server:
        config = AgentConfig.from_env(openai_base_url=server.url + "/v1", timeout_s=0.25,
                                      max_retries=2, retry_base_s=0.001)
        provider = OpenAIProvider(config)
        with pytest.raises(ProviderError, match=r"timed out.*gave up after 2 retries"):
            provider.complete(PROMPT)
        provider.close()
        assert server.hits_settled(3) == 3
