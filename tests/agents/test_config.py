from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.agents.config import DEFAULT_PRICES, AgentConfig, Price, price_for


def test_price_lookup_exact_then_longest_prefix() -> None:
    prices = {"gpt-5": Price(input_per_mtok=1, output_per_mtok=2),
              "gpt-5-mini": Price(input_per_mtok=0.1, output_per_mtok=0.2)}
    assert price_for(prices, "gpt-5") == prices["gpt-5"]
    assert price_for(prices, "gpt-5-2025-08-07") == prices["gpt-5"]
    assert price_for(prices, "gpt-5-mini-2025-08-07") == prices["gpt-5-mini"]
    assert price_for(prices, "o3") is None


def test_cost_per_request() -> None:
    config = AgentConfig.from_env()
    assert config.cost("claude-sonnet-4-6", 1_000_000, 1_000_000) == pytest.approx(18.0)
    assert config.cost("unknown-model", 10, 10) is None
    assert config.prices == DEFAULT_PRICES


def test_shipped_price_table_prices_the_default_models() -> None:
    config = AgentConfig.from_env()
    assert len(DEFAULT_PRICES) == 13  # prices.toml: 7 Anthropic and 6 OpenAI models
    assert price_for(DEFAULT_PRICES, config.anthropic_model) is not None
    assert price_for(DEFAULT_PRICES, config.openai_model) == Price(input_per_mtok=1.25, output_per_mtok=10.0)
    assert DEFAULT_PRICES["claude-opus-4-1"].cost(1_000_000, 1_000_000) == pytest.approx(90.0)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUENT_AGENT_OPENAI_MODEL", "gpt-5-mini")
    monkeypatch.setenv("SEQUENT_AGENT_MAX_RETRIES", "7")
    monkeypatch.setenv("SEQUENT_AGENT_PRICES",
                       '{"my-model": {"input_per_mtok": 1, "output_per_mtok": 4}}')
    config = AgentConfig.from_env()
    assert config.openai_model == "gpt-5-mini"
    assert config.retry.max_retries == 7
    assert config.cost("my-model", 1_000_000, 500_000) == pytest.approx(3.0)


def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUENT_AGENT_TIMEOUT_S", "-1")
    with pytest.raises(ValidationError):
        AgentConfig.from_env()
