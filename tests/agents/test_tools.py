"""Tool use and prompt sets of the drafting loop, at the providers' network edge: the real
Anthropic and OpenAI SDK clients over a mock transport; replay of recorded tool calls; prompt
set folders and their digests. No Lean here: the calls below are answered without the look-up
(bad calls are error results); tests/ab/test_run.py sends calls through the real look-up."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from pipeline.ab.models import Variant
from pipeline.ab.run import resolve_variant
from pipeline.ab.variant_file import load_variant
from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Prompt
from pipeline.agents.prompts import DEFAULT_PROMPTS, load_prompt_set, proof_prompt
from pipeline.agents.providers.anthropic_provider import AnthropicProvider
from pipeline.agents.providers.openai_provider import OpenAIProvider
from pipeline.agents.providers.replay import RecordingLog, ReplayProvider
from pipeline.agents.tools import SPECS, Toolbox, complete_with_tools
from pipeline.claims.models import Claim
from pipeline.errors import InputError, ProviderError
from tests.agents.llm_edge import (
    Reply,
    ScriptedEdge,
    anthropic_tool_use,
    ok_anthropic,
    ok_openai,
    openai_tool_calls,
)
from tests.agents.toy import TOY_TOML
from tests.conftest import make_settings

PROMPT = Prompt(kind="proof", system="You are careful.", user="Prove it.")


def no_lookup() -> object:
    pytest.fail("these calls must be answered without the look-up")


def test_anthropic_tool_rounds_go_back_natively_and_are_bounded(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([
        Reply(200, anthropic_tool_use([("toolu_1", "shell", {"cmd": "ls"}),
                                       ("toolu_2", "declaration", {"name": 5})],
                                      text="Let me look.", input_tokens=100, output_tokens=10)),
        Reply(200, anthropic_tool_use([("toolu_3", "search", {"query": " "})],
                                      input_tokens=200, output_tokens=20)),
        ok_anthropic("```lean\nby omega\n```", input_tokens=300, output_tokens=30),
    ])
    provider = AnthropicProvider(config, http_client=edge.client())
    toolbox = Toolbox(["declaration", "search"], no_lookup, rounds=2)  # type: ignore[arg-type]
    completion, exchanges = complete_with_tools(provider, PROMPT, toolbox)
    provider.close()

    first, second, third = (s.body for s in edge.seen)
    assert [t["name"] for t in first["tools"]] == ["declaration", "search"]
    assert first["tools"][0]["input_schema"] == SPECS["declaration"].input_schema
    assert first["tool_choice"] == {"type": "auto"}
    assert first["messages"] == [{"role": "user", "content": "Prove it."}]
    said, answered = second["messages"][1:]
    assert said == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "shell", "input": {"cmd": "ls"}},
        {"type": "tool_use", "id": "toolu_2", "name": "declaration", "input": {"name": 5}}]}
    results = answered["content"]
    assert answered["role"] == "user" and [r["tool_use_id"] for r in results] == ["toolu_1", "toolu_2"]
    assert all(r["type"] == "tool_result" and r["is_error"] for r in results)
    assert "no tool 'shell' is offered (offered: declaration, search)" in results[0]["content"]
    assert "invalid arguments (name:" in results[1]["content"]
    # the last round keeps the tools declared (the history holds tool blocks) but forbids calls
    assert third["tool_choice"] == {"type": "none"} and len(third["messages"]) == 5
    assert "give a name to search for" in third["messages"][4]["content"][0]["content"]

    assert completion.text == "```lean\nby omega\n```" and completion.tool_calls == ()
    assert (completion.input_tokens, completion.output_tokens) == (600, 60)
    assert [(e.round, e.call.name, e.result.is_error) for e in exchanges] == [
        (1, "shell", True), (1, "declaration", True), (2, "search", True)]


def test_openai_function_calls_go_back_as_tool_messages(keys: None, config: AgentConfig) -> None:
    edge = ScriptedEdge([Reply(200, openai_tool_calls([("call_1", "declaration", '{"name": ')])),
                         ok_openai("```lean\nby omega\n```")])
    provider = OpenAIProvider(config, http_client=edge.client())
    completion, exchanges = complete_with_tools(
        provider, PROMPT, Toolbox(["declaration"], no_lookup))  # type: ignore[arg-type]
    provider.close()
    first, second = (s.body for s in edge.seen)
    assert first["tools"] == [{"type": "function", "function": {
        "name": "declaration", "description": SPECS["declaration"].description,
        "parameters": SPECS["declaration"].input_schema}}]
    assert first["tool_choice"] == "auto"
    said, answered = second["messages"][2:]
    assert said == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "declaration", "arguments": '{"name": '}}]}
    assert answered["role"] == "tool" and answered["tool_call_id"] == "call_1"
    assert "not a JSON object" in answered["content"]
    assert completion.text == "```lean\nby omega\n```"
    assert exchanges[0].call.malformed == '{"name": ' and exchanges[0].result.is_error


def test_a_recorded_session_with_tool_calls_replays_the_same(keys: None, config: AgentConfig,
                                                             tmp_path: Path) -> None:
    edge = ScriptedEdge([Reply(200, anthropic_tool_use([("toolu_1", "declaration", {"name": ""})])),
                         ok_anthropic("```lean\nby omega\n```")])
    log = RecordingLog()
    live = log.wrap(AnthropicProvider(config, http_client=edge.client()), "drafter")
    toolbox = Toolbox(["declaration"], no_lookup)  # type: ignore[arg-type]
    said, used = complete_with_tools(live, PROMPT, toolbox)
    live.close()
    path = log.save(tmp_path / "r.json", "toy")
    saved = json.loads(path.read_text())["exchanges"]
    assert saved[0]["tool_calls"] == [{"id": "toolu_1", "name": "declaration", "arguments": {"name": ""}}]
    assert "tool_calls" not in saved[1]

    again, reused = complete_with_tools(ReplayProvider.from_file(path), PROMPT, toolbox)
    assert again.text == said.text and reused == used  # the tool ran again, same result
    # a replay that offers other tools (or none) refuses the recorded call
    with pytest.raises(ProviderError, match="calls the tool 'declaration', which the loop does not offer"):
        complete_with_tools(ReplayProvider.from_file(path), PROMPT,
                            Toolbox(["search"], no_lookup))  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match="offered: none"):
        complete_with_tools(ReplayProvider.from_file(path), PROMPT, None)


def test_unknown_tools_are_refused_with_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown tool 'grep' \(known tools: search, declaration\)"):
        Toolbox(["grep"], no_lookup)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="known tools: search, declaration"):
        Variant(name="a", tools=("grep",))
    assert Variant(name="a", tools=("search",)).digest != Variant(name="a").digest


def test_a_prompt_set_folder_is_read_checked_and_digested(tmp_path: Path) -> None:
    one = tmp_path / "prompts" / "one"
    one.mkdir(parents=True)
    (one / "system.md").write_text("Prefer omega.\n$environment\n")
    (one / "proof.md").write_text("$claim\nCheck:\n$skeleton\n$format\n")
    prompts = load_prompt_set(one)
    assert prompts.argument == DEFAULT_PROMPTS.argument  # a missing template is the built-in one
    shown = proof_prompt(Claim.model_validate({**tomllib.loads(TOY_TOML), "path": "claims/toy_budget.toml"}), "arg", "True", "sequent_submission", "", prompts)
    assert shown.system.startswith("Prefer omega.\nThe checker runs Lean 4.28")
    assert shown.user.startswith("Claim `") and "theorem sequent_submission" in shown.user
    assert "Informal argument" not in shown.user  # this set leaves the argument out

    two = tmp_path / "prompts" / "two"
    two.mkdir()
    (two / "system.md").write_text("Prefer simp.\n$environment\n")
    settings = make_settings(tmp_path)
    a = resolve_variant(settings, Variant(name="a", prompt_set=str(one)))
    b = resolve_variant(settings, Variant(name="a", prompt_set=str(two)))
    plain = resolve_variant(settings, Variant(name="a"))
    assert a.prompt_digest == prompts.digest and plain.prompt_digest == DEFAULT_PROMPTS.digest
    assert len({a.digest, b.digest, plain.digest}) == 3
    (one / "system.md").write_text("Prefer grind.\n$environment\n")
    with pytest.raises(InputError, match="the prompt set .* changed"):
        resolve_variant(settings, a)  # a resumed run whose prompts were edited

    # a variant file names its prompt set relative to itself
    (tmp_path / "v.toml").write_text('name = "v"\nprompt_set = "prompts/two"\n')
    assert load_variant(tmp_path / "v.toml").prompt_set == str(two.resolve())

    (two / "proof.md").write_text("$claim $hint\n")
    with pytest.raises(InputError, match=r"uses \$hint; it may use \$argument, \$claim"):
        load_prompt_set(two)
    (two / "proof.md").unlink()
    (two / "sytem.md").write_text("x")
    with pytest.raises(InputError, match="unexpected sytem.md"):
        load_prompt_set(two)
    with pytest.raises(InputError, match="variant a: prompt set .* no such folder"):
        resolve_variant(settings, Variant(name="a", prompt_set=str(tmp_path / "nope")))


def test_calls_after_the_last_round_are_ignored_and_replay_the_same(keys: None, config: AgentConfig,
                                                                    tmp_path: Path) -> None:
    edge = ScriptedEdge([
        Reply(200, anthropic_tool_use([("toolu_1", "declaration", {"name": ""})])),
        # asked to answer in text (tool_choice none), the model still calls: the call is ignored
        Reply(200, anthropic_tool_use([("toolu_2", "declaration", {"name": ""})],
                                      text="```lean\nby omega\n```")),
    ])
    log = RecordingLog()
    live = log.wrap(AnthropicProvider(config, http_client=edge.client()), "drafter")
    toolbox = Toolbox(["declaration"], no_lookup, rounds=1)  # type: ignore[arg-type]
    said, used = complete_with_tools(live, PROMPT, toolbox)
    live.close()
    assert edge.seen[1].body["tool_choice"] == {"type": "none"}
    assert said.text == "```lean\nby omega\n```" and [e.call.id for e in used] == ["toolu_1"]
    again, reused = complete_with_tools(
        ReplayProvider.from_file(log.save(tmp_path / "r.json", "toy")), PROMPT, toolbox)
    assert (again.text, reused) == (said.text, used)
