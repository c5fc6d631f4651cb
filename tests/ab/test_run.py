"""A/B runs end to end: the real drafting loop and the real (embedded) Lean; replay
recordings offline; a live provider only at its network edge (real SDK client, mock
transport); a submission citing its own target is rejected inside a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.ab import store
from pipeline.ab.models import Suite, Task, Variant
from pipeline.ab.run import RunOptions, run_ab
from pipeline.ab.suite import task_slug
from pipeline.agents.config import AgentConfig
from pipeline.agents.store import attempts_for
from pipeline.errors import InputError
from pipeline.lean.checker import Checker
from pipeline.settings import Settings
from pipeline.store.db import Database
from tests.agents.llm_edge import ScriptedEdge, ok_anthropic, ok_openai
from tests.conftest import REPO, lean_env, make_settings, needs_lean

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

VARIANTS = REPO / "pipeline" / "ab" / "variants"
FAITHFUL = {"verdict": "faithful", "discrepancies": [], "summary": "Says what the task says."}


def sequent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SEQUENT_", "ANTHROPIC_", "OPENAI_"))}
    env.update(lean_env(), SEQUENT_POOL_SIZE="1")
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env,
                          check=False, capture_output=True, text=True, timeout=900)


def test_two_replay_variants_run_compare_and_resume(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test project\n")
    args = ["ab", "run", "--suite", "sequent", "--task", "core:ab_add_comm", "--task",
            "core:ab_sub_add", "--variant", str(VARIANTS / "terse.toml"),
            "--variant", str(VARIANTS / "stepwise.toml"), "--json"]
    first = sequent(*args, cwd=root)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    by_name = {v["name"]: v for v in result["variants"]}
    # terse: ab_add_comm fails once then is repaired; ab_sub_add repeats a failing proof
    assert by_name["terse"]["successes"] == 1 and by_name["stepwise"]["successes"] == 2
    assert by_name["terse"]["mean_attempts_to_accept"] == 2.0
    assert by_name["stepwise"]["reviewer_agreement"] == 1.0
    assert by_name["terse"]["reviewer_agreement"] is None  # reviewer off
    assert result["outcomes"] == {"core:ab_add_comm": {"terse": "A", "stepwise": "A"},
                                  "core:ab_sub_add": {"terse": "x", "stepwise": "A"}}
    pair = result["pairs"][0]
    assert (pair["test"]["a_only"], pair["test"]["b_only"]) == (0, 1)
    assert pair["test"]["p_value"] == 1.0 and not pair["significant"]  # 2 tasks decide nothing
    run_id = result["run_id"]

    again = sequent("ab", "compare", run_id, "--json", cwd=root)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcomes"] == result["outcomes"]

    resumed = sequent(*args, "--resume", run_id, cwd=root)  # nothing left to do: no Lean call
    assert resumed.returncode == 0, resumed.stderr
    db = Database(make_settings(root).db_url)
    try:
        assert len(store.trials(db, run_id)) == 4
        assert store.get_run(db, run_id).status == "complete"
    finally:
        db.close()
    listed = sequent("ab", "runs", "--json", cwd=root)
    assert run_id in listed.stdout
    missing = sequent("ab", "compare", "nope", cwd=root)
    assert missing.returncode == 2 and "no A/B run" in missing.stderr


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Checker]]:
    root = tmp_path_factory.mktemp("abrun") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test project\n")
    settings = make_settings(root, pool_size=1)
    with Checker(settings) as checker:
        yield settings, checker


ATTACK = Task(id="core:attack_succ_le", kind="core", module="Init", declaration="Nat.succ_le_of_lt",
              statement="∀ (n m : Nat), n < m → n + 1 ≤ m", reference_proof="by\n  omega")
"""A task whose target exists in the imported environment, so that a proof can cite it."""


def _recording(folder: Path, task: Task, replies: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{task_slug(task.id)}.json").write_text(json.dumps({
        "claim_id": task_slug(task.id),
        "drafter": {"family": "anthropic", "model": "claude-sonnet-4-6"},
        "reviewer": {"family": "openai", "model": "gpt-5"},
        "exchanges": [{"role": "drafter", "kind": k, "output": t} for k, t in replies],
    }))


def test_a_proof_citing_its_own_target_does_not_count(env: tuple[Settings, Checker],
                                                      tmp_path: Path) -> None:
    settings, checker = env
    cite = "```lean\nby\n  intro n m h\n  exact Nat.succ_le_of_lt h\n```"
    honest = "```lean\nby\n  intro n m h\n  omega\n```"
    _recording(tmp_path / "a", ATTACK, [("argument", "Cite the library."), ("proof", cite),
                                        ("repair", cite)])
    _recording(tmp_path / "b", ATTACK, [("argument", "Linear."), ("proof", honest)])
    variants = [Variant(name="cites", rounds=2, reviewer=False, recordings_dir=str(tmp_path / "a")),
                Variant(name="honest", rounds=2, reviewer=False, recordings_dir=str(tmp_path / "b"))]
    db = Database(settings.db_url)
    try:
        run_id = run_ab(settings, checker, AgentConfig.from_env(), db,
                        Suite(name="attack", version="1", tasks=(ATTACK,)), variants, RunOptions())
        records = {r.variant: r for r in store.trials(db, run_id)}
        assert not records["cites"].success and records["cites"].verdict == "repeated"
        assert records["honest"].success
        first = attempts_for(db, task_slug(ATTACK.id), session_id=records["cites"].session_id)[1]
        assert first.outcome == "rejected" and first.check is not None
        assert "Nat.succ_le_of_lt, the declaration it must prove" in first.check.model_dump_json()
        with pytest.raises(InputError, match="deterministic"):
            run_ab(settings, checker, AgentConfig.from_env(), db,
                   Suite(name="attack", version="1", tasks=(ATTACK,)), variants, RunOptions(seeds=2))
    finally:
        db.close()


def test_a_live_variant_through_the_sdk_edge(env: tuple[Settings, Checker], monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """Anthropic drafts, OpenAI reviews, both real SDK clients over one mock transport; the
    variant's instructions reach the system prompt; tokens and cost are recorded."""
    settings, checker = env
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test-key")
    for name in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    task = ATTACK.model_copy(update={"id": "core:live_succ_le"})
    edge = ScriptedEdge([ok_anthropic("Linear arithmetic."),
                         ok_anthropic("```lean\nby\n  intro n m h\n  omega\n```"),
                         ok_openai(json.dumps(FAITHFUL))])
    _recording(tmp_path / "r", task, [("argument", "x"), ("proof", "```lean\nby\n  trivial\n```")])
    live = Variant(name="live", provider="anthropic", instructions="PREFER OMEGA.", rounds=1)
    replay = Variant(name="replay", rounds=1, reviewer=False, recordings_dir=str(tmp_path / "r"))
    db = Database(settings.db_url)
    try:
        run_id = run_ab(settings, checker, AgentConfig.from_env(max_retries=0), db,
                        Suite(name="live", version="1", tasks=(task,)), [live, replay],
                        RunOptions(http_client=edge.client))
        records = {r.variant: r for r in store.trials(db, run_id)}
    finally:
        db.close()
    assert records["live"].success and records["live"].reviewer_agrees is True
    assert records["live"].input_tokens > 0 and records["live"].cost_usd is not None
    assert records["live"].cost_usd > 0
    assert not records["replay"].success
    assert "PREFER OMEGA." in json.dumps(edge.seen[0].body)


def test_tools_reach_the_real_lookup_and_a_recorded_run_replays_offline(
        env: tuple[Settings, Checker], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two live variants with tools (Anthropic tool_use, OpenAI function calls) over one mock
    transport: each call is answered by the real look-up in the compiled environment and its
    result is in the next request's body; the calls are stored with the attempts; the variant's
    prompt set is what the model is sent. ``record_dir`` saves the run, and the replay variants it
    writes run it again offline (no key, no transport) with the same outcomes and tool results."""
    from pipeline.ab.variant_file import load_variant
    from tests.agents.llm_edge import Reply, anthropic_tool_use, openai_tool_calls

    settings, checker = env
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-test-key")
    for name in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    task = ATTACK.model_copy(update={"id": "core:tools_succ_le"})
    lemma = "```lean\nby\n  intro n m h\n  exact Nat.lt_iff_add_one_le.mp h\n```"
    edge = ScriptedEdge([
        Reply(200, anthropic_tool_use([("toolu_1", "search", {"query": "lt_iff_add_one_le"})])),
        ok_anthropic("Nat.lt_iff_add_one_le turns n < m into n + 1 ≤ m."),
        Reply(200, anthropic_tool_use([("toolu_2", "declaration", {"name": "Nat.lt_iff_add_one_le"})])),
        ok_anthropic(lemma),
        Reply(200, openai_tool_calls([("call_1", "declaration", '{"name": "Nat.lt_iff_add_one_le"}')])),
        ok_openai("Use the iff."),
        ok_openai(lemma),
    ])
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "system.md").write_text("LOOK LEMMAS UP BEFORE YOU USE THEM.\n$environment\n")
    claude = Variant(name="claude", provider="anthropic", tools=("search", "declaration"), rounds=1,
                     reviewer=False, prompt_set=str(prompts))
    gpt = Variant(name="gpt", provider="openai", tools=("declaration",), rounds=1, reviewer=False)
    suite = Suite(name="tools", version="1", tasks=(task,))
    record = tmp_path / "rec"
    db = Database(settings.db_url)
    try:
        run_id = run_ab(settings, checker, AgentConfig.from_env(max_retries=0), db, suite,
                        [claude, gpt], RunOptions(http_client=edge.client, record_dir=record))
        live = {r.variant: r for r in store.trials(db, run_id)}
        steps = {v: attempts_for(db, task_slug(task.id), session_id=live[v].session_id)
                 for v in live}
    finally:
        db.close()
    assert live["claude"].success and live["gpt"].success, live
    bodies = [s.body for s in edge.seen]
    assert len(bodies) == 7 and bodies[0]["system"].startswith("LOOK LEMMAS UP")
    assert [t["name"] for t in bodies[0]["tools"]] == ["search", "declaration"]
    found = json.loads(bodies[1]["messages"][-1]["content"][0]["content"])  # the search's result
    assert {h["name"] for h in found["hits"]} >= {"Nat.lt_iff_add_one_le", "Int.lt_iff_add_one_le"}
    shown = json.loads(bodies[3]["messages"][-1]["content"][0]["content"])  # the declaration's
    assert (shown["name"], shown["origin"], shown["module"]) == (
        "Nat.lt_iff_add_one_le", "core", "Init.Data.Nat.Lemmas")
    assert "instLTNat" in shown["type"]
    tool_message = bodies[5]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    assert json.loads(tool_message["content"])["name"] == "Nat.lt_iff_add_one_le"
    assert [(a.index, [e.call.name for e in a.tools]) for a in steps["claude"]] == [
        (0, ["search"]), (1, ["declaration"])]
    assert steps["gpt"][0].tools[0].result.content == tool_message["content"]

    # the recording replays offline: no key, no transport; the tools run again
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name)
    replays = [load_variant(record / "claude.json"), load_variant(record / "gpt.json")]
    assert [(v.provider, v.tools, v.prompt_set) for v in replays] == [
        ("replay", ("search", "declaration"), str(prompts)), ("replay", ("declaration",), "default")]
    db = Database(settings.db_url)
    try:
        again = run_ab(settings, checker, AgentConfig.from_env(), db, suite, replays, RunOptions())
        replayed = {r.variant: r for r in store.trials(db, again)}
        steps_again = {v: attempts_for(db, task_slug(task.id), session_id=replayed[v].session_id)
                       for v in replayed}
    finally:
        db.close()
    assert len(edge.seen) == 7
    assert {v: (r.verdict, r.attempts) for v, r in replayed.items()} == {
        v: (r.verdict, r.attempts) for v, r in live.items()}
    assert {v: [a.tools for a in s] for v, s in steps_again.items()} == {
        v: [a.tools for a in s] for v, s in steps.items()}
