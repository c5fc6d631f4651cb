"""`sequent draft` as a user runs it: a real process; real Lean for the replayed demo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.agents.providers.replay import PACKAGED_RECORDINGS
from tests.agents.toy import ARGUMENT, make_toy_project, write_recording
from tests.conftest import REPO, lean_env, needs_lean

pytestmark = pytest.mark.heavy


def sequent(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SEQUENT_", "ANTHROPIC_", "OPENAI_"))}
    base.update(lean_env(), SEQUENT_POOL_SIZE="1", **env)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=base, check=False,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["draft", "toy_budget", "--provider", "anthropic"], {}, "ANTHROPIC_API_KEY"),
        (["draft", "toy_budget", "--provider", "openai"], {}, "OPENAI_API_KEY"),
        # the drafter's key is there, the reviewer's (the other family) is not: refused up front
        (["draft", "toy_budget", "--provider", "anthropic"], {"ANTHROPIC_API_KEY": "sk-test"},
         "review of the statement needs its provider: the openai provider needs an API key"),
        (["draft", "toy_budget", "--provider", "openai"], {"OPENAI_API_KEY": "sk-test"},
         "ANTHROPIC_API_KEY"),
        (["draft", "nope", "--provider", "replay"], {}, "unknown claim 'nope'"),
        (["draft", "toy_budget", "--provider", "gemini"], {}, "--provider must be one of"),
        (["draft", "toy_budget", "--rounds", "0"], {}, "--rounds must be at least 1"),
        (["draft", "toy_budget", "--recording", "x.json"], {}, "--recording needs --provider replay"),
        (["draft", "toy_budget", "--provider", "replay"], {}, "no replay recording for claim 'toy_budget'"),
        (["draft", "toy_budget", "--provider", "replay", "--recording", "bad.json"], {},
         "invalid recording"),
        (["draft", "toy_budget", "--provider", "replay", "--recording", "latin1.json"], {},
         "not UTF-8"),
        (["draft"], {}, "Missing argument"),
        (["draft", "toy_budget", "--provider", "replay", "--tool", "shell"], {},
         "unknown tool 'shell' (known tools: search, declaration)"),
        (["draft", "toy_budget", "--provider", "replay", "--prompt-set", "nope"], {},
         "prompt set nope: no such folder"),
    ],
)
def test_bad_input_exits_2_before_lean_starts(tmp_path: Path, args: list[str],
                                             env: dict[str, str], needle: str) -> None:
    root = make_toy_project(tmp_path / "proj")
    (root / "bad.json").write_text('{"claim_id": "toy_budget"}')
    (root / "latin1.json").write_bytes(b'{"claim_id": "caf\xe9"}')
    result = sequent(*args, cwd=root, **env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / ".sequent" / "proofs").exists()


@pytest.mark.lean
@needs_lean
def test_a_session_without_a_proof_exits_1(tmp_path: Path) -> None:
    root = make_toy_project(tmp_path / "proj")
    recordings = write_recording(tmp_path / "recordings", [
        ("argument", ARGUMENT),
        ("proof", "```lean\ntheorem mine : True := trivial\n```"),  # refused before Lean runs
    ]).parent
    result = sequent("draft", "toy_budget", "--provider", "replay", "--rounds", "1", cwd=root,
                     SEQUENT_AGENT_RECORDINGS_DIR=str(recordings))
    assert result.returncode == 1, result.stderr
    assert "exhausted after 1 of 1 Lean attempts" in result.stdout
    assert "`theorem` starts a command" in result.stderr
    assert not (root / ".sequent" / "proofs").exists()


@pytest.mark.lean
@needs_lean
def test_messages_with_brackets_print_as_written(tmp_path: Path) -> None:
    """The terminal escapes (or does not interpret) what it prints; the command must not escape
    again, or ``[1]`` shows as ``\\[1]``."""
    root = make_toy_project(tmp_path / "proj")
    recordings = write_recording(tmp_path / "recordings", [
        ("argument", ARGUMENT),
        ("proof", "```lean\ntheorem mine : True := trivial\n```"),
    ]).parent
    result = sequent("draft", "toy_budget", "--provider", "replay", "--rounds", "1",
                     "--record", "session[1].json", cwd=root,
                     SEQUENT_AGENT_RECORDINGS_DIR=str(recordings))
    assert result.returncode == 1, result.stderr
    assert "recording saved to" in result.stderr
    assert "session[1].json" in result.stderr.replace("\n", "")
    assert "\\[" not in result.stderr


@pytest.mark.lean
@needs_lean
def test_the_packaged_demo_recording_fails_first_and_passes_after_repair(tmp_path: Path) -> None:
    """The shipped recording against the real claim and Lean module of this repository."""
    root = tmp_path / "repo"
    (root / "Formal").mkdir(parents=True)
    (root / "claims").mkdir()
    shutil.copy2(REPO / "lakefile.lean", root / "lakefile.lean")
    for module in ("Basic", "Equilibrium"):
        shutil.copy2(REPO / "Formal" / f"{module}.lean", root / "Formal" / f"{module}.lean")
    for claim in ("debate_equilibrium", "debate_tree"):  # debate_tree: a declared dependency
        shutil.copy2(REPO / "claims" / f"{claim}.toml", root / "claims" / f"{claim}.toml")
    assert (PACKAGED_RECORDINGS / "debate_equilibrium.json").is_file()

    result = sequent("draft", "debate_equilibrium", "--provider", "replay", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    lean = [a for a in outcome["attempts"] if a["index"] > 0]
    assert [a["outcome"] for a in lean] == ["rejected", "accepted"]
    assert "`grind` failed" in lean[0]["check"]["messages"][0]["text"]
    assert lean[1]["diff"].count("\n+  have h") == 2  # the repair bounds both products first
    assert "attempt 1/4: rejected: error" in result.stderr
    assert outcome["review"]["reviewer_family"] == "openai"
    assert outcome["review"]["judgement"]["discrepancies"]
    assert (root / ".sequent" / "proofs" / "debate_equilibrium.lean").is_file()
