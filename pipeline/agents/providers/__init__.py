"""LLM providers: Anthropic, OpenAI (through their SDKs) and replay (recorded exchanges)."""

from __future__ import annotations

from pathlib import Path

import httpx2

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import ProviderName, other_family
from pipeline.agents.providers.base import KEY_VARIABLES, Provider, api_key
from pipeline.agents.providers.replay import ReplayProvider
from pipeline.errors import InputError

PROVIDER_NAMES: tuple[ProviderName, ...] = ("anthropic", "openai", "replay")


def make_provider(
    name: str,
    config: AgentConfig,
    *,
    claim_id: str | None = None,
    recording: Path | None = None,
    model: str | None = None,
    http_client: httpx2.Client | None = None,
) -> Provider:
    """Build a provider by name. ``replay`` plays ``recording`` (default: the packaged
    recording of ``claim_id``). Raises ProviderError when the key is missing."""
    if name == "anthropic":
        from pipeline.agents.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(config, model=model, http_client=http_client)
    if name == "openai":
        from pipeline.agents.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(config, model=model, http_client=http_client)
    if name == "replay":
        if recording is not None:
            return ReplayProvider.from_file(recording)
        if claim_id is None:
            raise InputError("the replay provider needs a claim id or a recording file")
        return ReplayProvider.for_claim(claim_id, config.recordings_dir)
    raise InputError(f"unknown provider '{name}' (choose from {', '.join(PROVIDER_NAMES)})")


def reviewer_for(
    drafter: Provider, config: AgentConfig, *, http_client: httpx2.Client | None = None
) -> Provider:
    """A provider of the other family than ``drafter``. For replay: the recorded reviewer."""
    if isinstance(drafter, ReplayProvider):
        return drafter.reviewer()
    return make_provider(other_family(drafter.family), config, http_client=http_client)


__all__ = [
    "KEY_VARIABLES",
    "PROVIDER_NAMES",
    "Provider",
    "ReplayProvider",
    "api_key",
    "make_provider",
    "reviewer_for",
]
