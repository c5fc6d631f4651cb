from __future__ import annotations

import pytest

from pipeline.agents.config import AgentConfig


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both API keys set (to values only the mock edge ever sees)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test-key")


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> AgentConfig:
    """Fast retries (milliseconds) so retry tests really sleep, but briefly."""
    for name in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return AgentConfig.from_env(max_retries=3, retry_base_s=0.002, retry_max_s=0.02,
                                timeout_s=10.0)
