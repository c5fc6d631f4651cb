"""Configuration of the drafting agents: model names, limits, retries and the price table.

Built once by the command (``AgentConfig.from_env()``, environment prefix
``SEQUENT_AGENT_``) and passed down, like :class:`pipeline.settings.Settings`.
API keys are *not* settings: providers read ``ANTHROPIC_API_KEY`` / ``OPENAI_API_KEY``.

The price table (``prices.toml``, shipped with the package) maps a model name (or a prefix
of one, e.g. ``claude-sonnet-4-5`` also prices ``claude-sonnet-4-5-20250929``) to US dollars
per million tokens. Override it with
``SEQUENT_AGENT_PRICES='{"my-model": {"input_per_mtok": 1, "output_per_mtok": 4}}'``.
"""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

from pydantic import Field, TypeAdapter
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.agents.retry import RetryPolicy
from pipeline.models import Frozen

DEFAULT_ROUNDS = 4
"""Most Lean attempts of one drafting session (the first draft counts)."""


class Price(Frozen):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


def _list_prices() -> dict[str, Price]:
    """The price table shipped with the package (``prices.toml``: data, not code)."""
    by_family = TypeAdapter(dict[str, dict[str, Price]]).validate_python(
        tomllib.loads(files(__package__).joinpath("prices.toml").read_text(encoding="utf-8")))
    return {name: price for family in by_family.values() for name, price in family.items()}


DEFAULT_PRICES: dict[str, Price] = _list_prices()
"""List prices of the providers' models (``prices.toml``)."""


def price_for(prices: dict[str, Price], model: str) -> Price | None:
    """The entry for ``model``: an exact match, else the longest name that prefixes it."""
    if model in prices:
        return prices[model]
    best = max((name for name in prices if model.startswith(name)), key=len, default=None)
    return prices[best] if best is not None else None


class AgentConfig(BaseSettings):
    """Every tunable of the drafting agents."""

    model_config = SettingsConfigDict(env_prefix="SEQUENT_AGENT_", frozen=True, extra="ignore")

    anthropic_model: str = "claude-sonnet-4-6"
    openai_model: str = "gpt-5"
    anthropic_base_url: str | None = None
    """``None``: the SDK default (or ``ANTHROPIC_BASE_URL``)."""
    openai_base_url: str | None = None
    max_output_tokens: int = Field(default=8192, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature sent to the drafting model; ``None``: the provider's default."""
    timeout_s: float = Field(default=120.0, gt=0)
    """Wall-clock limit of one HTTP request to a provider."""
    max_retries: int = Field(default=4, ge=0)
    """Retries on 429, 5xx, timeouts and connection errors."""
    retry_base_s: float = Field(default=1.0, ge=0)
    retry_max_s: float = Field(default=30.0, ge=0)
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    recordings_dir: Path | None = None
    """Where replay recordings live. ``None``: the recordings shipped with the package."""

    @classmethod
    def from_env(cls, **overrides: object) -> AgentConfig:
        return cls(**overrides)  # type: ignore[arg-type]

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries, base_s=self.retry_base_s, max_s=self.retry_max_s
        )

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """Cost in USD of one request, or ``None`` if ``model`` has no price."""
        price = price_for(self.prices, model)
        return price.cost(input_tokens, output_tokens) if price is not None else None


__all__ = ["DEFAULT_PRICES", "DEFAULT_ROUNDS", "AgentConfig", "Price", "price_for"]
