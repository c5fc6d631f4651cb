"""Replay: recordings load with clear errors, play back in order, and round-trip through
the recorder wrapped around a real SDK provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.agents.config import AgentConfig
from pipeline.agents.models import Prompt
from pipeline.agents.providers import make_provider, reviewer_for
from pipeline.agents.providers.anthropic_provider import AnthropicProvider
from pipeline.agents.providers.openai_provider import OpenAIProvider
from pipeline.agents.providers.replay import (
    PACKAGED_RECORDINGS,
    RecordingLog,
    ReplayProvider,
    load_recording,
)
from pipeline.errors import InputError, NotFoundError, ProviderError
from tests.agents.llm_edge import ScriptedEdge, ok_anthropic, ok_openai

RECORDING = {
    "claim_id": "toy",
    "drafter": {"family": "openai", "model": "gpt-5"},
    "reviewer": {"family": "anthropic", "model": "claude-sonnet-4-6"},
    "exchanges": [
        {"role": "drafter", "kind": "argument", "output": "Induction on n."},
        {"role": "reviewer", "kind": "review",
         "output": '{"verdict": "faithful", "discrepancies": [], "summary": "ok"}'},
        {"role": "drafter", "kind": "proof", "output": "```lean\nby simp\n```",
         "input_tokens": 10, "output_tokens": 5},
    ],
}


def write(tmp_path: Path, data: object, name: str = "toy.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def p(kind: str) -> Prompt:
    return Prompt(kind=kind, system="s", user="u")


def test_plays_each_role_in_order(tmp_path: Path) -> None:
    drafter = ReplayProvider.from_file(write(tmp_path, RECORDING))
    assert (drafter.name, drafter.family, drafter.model) == ("replay", "openai", "gpt-5")
    assert drafter.complete(p("argument")).text == "Induction on n."
    proof = drafter.complete(p("proof"))
    assert proof.text == "```lean\nby simp\n```"
    assert (proof.input_tokens, proof.output_tokens, proof.cost_usd) == (10, 5, 0.0)
    with pytest.raises(ProviderError, match="no more recorded drafter replies"):
        drafter.complete(p("repair"))

    reviewer = reviewer_for(drafter, AgentConfig.from_env())
    assert reviewer.family == "anthropic" and reviewer.model == "claude-sonnet-4-6"
    assert "faithful" in reviewer.complete(p("review")).text


def test_kind_mismatch_fails_loudly(tmp_path: Path) -> None:
    drafter = ReplayProvider.from_file(write(tmp_path, RECORDING))
    with pytest.raises(ProviderError, match="answers a 'argument' prompt but the loop asked for 'proof'"):
        drafter.complete(p("proof"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "invalid recording"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
        (json.dumps({**RECORDING, "reviewer": {"family": "openai", "model": "gpt-5"}}).encode(),
         "other family"),
        (json.dumps({**RECORDING, "exchanges": [{"role": "judge", "kind": "proof",
                                                 "output": ""}]}).encode(),
         "exchanges.0.role"),
    ],
)
def test_bad_recordings_give_clear_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        load_recording(path)
    assert str(path) in str(info.value)


def test_missing_recordings(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no replay recording for claim 'nope'"):
        make_provider("replay", AgentConfig.from_env(recordings_dir=tmp_path), claim_id="nope")
    with pytest.raises(NotFoundError):
        make_provider("replay", AgentConfig.from_env(), recording=tmp_path / "absent.json")
    with pytest.raises(InputError, match="unknown provider 'gemini'"):
        make_provider("gemini", AgentConfig.from_env())


def test_recorder_round_trip_through_real_sdks(tmp_path: Path, keys: None,
                                               config: AgentConfig) -> None:
    drafter_edge = ScriptedEdge([ok_anthropic("Argument."), ok_anthropic("```lean\nby rfl\n```")])
    reviewer_edge = ScriptedEdge([ok_openai('{"verdict": "uncertain", "discrepancies": [], '
                                            '"summary": "?"}')])
    log = RecordingLog()
    drafter = log.wrap(AnthropicProvider(config, http_client=drafter_edge.client()), "drafter")
    reviewer = log.wrap(OpenAIProvider(config, http_client=reviewer_edge.client()), "reviewer")
    live = [drafter.complete(p("argument")).text, drafter.complete(p("proof")).text,
            reviewer.complete(p("review")).text]
    path = log.save(tmp_path / "rec" / "toy.json", "toy", "round trip")

    replay = ReplayProvider.from_file(path)
    assert replay.family == "anthropic" and replay.model == "claude-sonnet-4-6"
    played = [replay.complete(p("argument")).text, replay.complete(p("proof")).text,
              replay.reviewer().complete(p("review")).text]
    assert played == live
    assert load_recording(path).exchanges[1].prompt_hash == p("proof").digest


def test_packaged_recordings_are_valid() -> None:
    paths = sorted(PACKAGED_RECORDINGS.glob("*.json"))
    assert paths, "at least one recording ships with the package"
    for path in paths:
        recording = load_recording(path)
        assert path.stem == recording.claim_id
        assert recording.reviewer is not None
        kinds = [e.kind for e in recording.exchanges if e.role == "drafter"]
        assert kinds[0] == "argument" and kinds[1] in ("proof", "statement")
        assert all(k == "repair" for k in kinds[2:])
