"""The drafting loop end to end with the real Lean checker.

Drafts come through the real SDK clients over the mock HTTP edge, or through replay
recordings. The project's claim lives in ``Init`` (no build) and the checker's result cache
is shared by the module, so identical files are checked by Lean once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.agents import store
from pipeline.agents.config import AgentConfig
from pipeline.agents.loop import draft, proof_path
from pipeline.agents.providers.anthropic_provider import AnthropicProvider
from pipeline.agents.providers.openai_provider import OpenAIProvider
from pipeline.agents.providers.replay import ReplayProvider
from pipeline.claims.registry import load_registry
from pipeline.commands.draft_cmd import _show
from pipeline.commands.terminal import Terminal
from pipeline.errors import NotFoundError, ProviderError
from pipeline.lean.checker import Checker
from pipeline.settings import Settings
from pipeline.store.db import Database
from tests.agents.llm_edge import Reply, ScriptedEdge, anthropic_error, ok_anthropic, ok_openai
from tests.agents.toy import ARGUMENT, FAILING, PASSING, make_toy_project, write_recording
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

UNFAITHFUL = {
    "verdict": "unfaithful",
    "discrepancies": [{"element": "h_small",
                       "problem": "The claim restricts n below ten but the proof never uses it; "
                                  "the statement is stronger than claimed, not weaker."}],
    "summary": "The hypothesis h_small is idle.",
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Checker]]:
    root = make_toy_project(tmp_path_factory.mktemp("loop") / "proj")
    settings = make_settings(root, pool_size=1)
    with Checker(settings) as checker:
        yield settings, checker


@pytest.fixture
def db(env: tuple[Settings, Checker]) -> Iterator[Database]:
    database = Database(env[0].db_url)
    yield database
    database.close()


def test_fail_then_repair_then_review_through_the_sdks(
    env: tuple[Settings, Checker], db: Database, keys: None, config: AgentConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, checker = env
    drafter_edge = ScriptedEdge([
        ok_anthropic(ARGUMENT, input_tokens=1000, output_tokens=100),
        ok_anthropic("Close it with the unit bound.\n" + FAILING, input_tokens=2000,
                     output_tokens=200),
        Reply(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after-ms": "1"}),
        ok_anthropic("The goal is linear.\n" + PASSING, input_tokens=3000, output_tokens=300),
    ])
    reviewer_edge = ScriptedEdge([ok_openai(json.dumps(UNFAITHFUL), prompt_tokens=1500,
                                            completion_tokens=150)])
    drafter = AnthropicProvider(config, http_client=drafter_edge.client())
    reviewer = OpenAIProvider(config, http_client=reviewer_edge.client())
    steps: list[str] = []

    outcome = draft(settings, checker, load_registry(settings).get("toy_budget"), drafter, rounds=4, reviewer=reviewer,
                    config=config, db=db, progress=steps.append)

    assert outcome.status == "accepted" and outcome.accepted
    assert [(a.index, a.kind, a.outcome) for a in outcome.attempts] == [
        (0, "argument", "informal"), (1, "proof", "rejected"), (2, "repair", "accepted")]
    _, first, second = outcome.attempts
    assert outcome.argument == ARGUMENT
    # attempt 1: Lean's own rejection, with a position inside the assembled file
    assert first.check is not None and not first.check.accepted
    error = first.check.errors()[0]
    assert error.pos is not None and first.source is not None
    assert "exact Nat.zero_lt_one" in first.source.split("\n")[error.pos.line - 1]
    assert first.proof == "by\n  intro n h_small\n  exact Nat.zero_lt_one"
    assert first.statement is not None and "h_small : n < 10" in first.statement
    # the repair prompt fed back that error, with its position, and the numbered file
    repair_request = drafter_edge.seen[2].body["messages"][0]["content"]
    assert f"Submission.lean:{error.pos.line}:{error.pos.column}: error:" in repair_request
    assert f"{error.pos.line} |   exact Nat.zero_lt_one" in repair_request
    assert drafter_edge.seen[3].body == drafter_edge.seen[2].body  # the retried request
    # attempt 2: accepted, with its diff and its retry counted
    assert second.check is not None and second.check.accepted
    assert "-  exact Nat.zero_lt_one\n+  omega\n" in second.diff
    assert second.retries == 1 and first.retries == 0
    assert second.prompt_hash != first.prompt_hash
    # the accepted file is saved where the registry finds it, and recorded
    assert outcome.proof is not None
    assert outcome.proof.path == proof_path(settings, "toy_budget") == settings.state / "proofs" / "toy_budget.lean"
    assert outcome.proof.path.read_text() == second.source
    assert outcome.proof.statement_pinned and outcome.proof.cache_key == second.check.cache_key
    assert store.latest_proof(db, "toy_budget") == outcome.proof
    # the review: the other family, structured output, stored with the claim and flagged
    assert reviewer_edge.seen[0].body["response_format"]["type"] == "json_schema"
    assert outcome.review is not None and outcome.review_error is None
    assert (outcome.review.reviewer_family, outcome.review.drafter_family) == ("openai", "anthropic")
    assert outcome.review.judgement.verdict == "unfaithful" and outcome.review.flagged
    assert store.latest_review(db, "toy_budget") == outcome.review
    # the attempt log in the database is the outcome's
    assert store.attempts_for(db, "toy_budget", session_id=outcome.session_id) == list(outcome.attempts)
    [session] = [s for s in store.sessions_for(db, "toy_budget") if s.id == outcome.session_id]
    assert session.status == "accepted" and session.finished_at is not None
    # accounting: claude-sonnet-4-6 at $3/$15, gpt-5 at $1.25/$10 per million tokens
    assert (outcome.input_tokens, outcome.output_tokens) == (7500, 750)
    expected = (6000 * 3 + 600 * 15 + 1500 * 1.25 + 150 * 10) / 1e6
    assert outcome.cost_usd == pytest.approx(expected)
    assert any("attempt 1/4: rejected" in s for s in steps)
    # what `sequent draft` prints for it
    _show(Terminal(), outcome)
    shown = capsys.readouterr().out
    assert "accepted after 2 of 4 Lean attempts" in shown
    assert "review by openai gpt-5-2025-08-07: unfaithful" in shown
    assert "h_small: The claim restricts n" in shown and "flagged for a human" in shown
    assert f"cost ${expected:.4f}" in shown


def test_never_passing_stops_after_k_rounds(
    env: tuple[Settings, Checker], db: Database, tmp_path: Path, config: AgentConfig
) -> None:
    settings, checker = env
    recording = write_recording(tmp_path, [
        ("argument", ARGUMENT),
        ("proof", FAILING),                                      # Lean rejects it
        ("repair", "```lean\nby\n  intro n h_small\n  sorry\n```"),  # the trust policy rejects it
        ("repair", "```lean\ntheorem mine : True := trivial\n```"),  # refused before Lean
        ("repair", PASSING),                                     # never asked for: K = 3
    ], review=UNFAITHFUL)
    before = store.latest_proof(db, "toy_budget")
    provider = ReplayProvider.from_file(recording)

    outcome = draft(settings, checker, load_registry(settings).get("toy_budget"), provider, rounds=3,
                    config=config, db=db)

    assert outcome.status == "exhausted" and not outcome.accepted
    assert [a.outcome for a in outcome.lean_attempts] == ["rejected", "rejected", "invalid"]
    sorry = outcome.attempts[2].check
    assert sorry is not None and [v.rule for v in sorry.violations] == ["sorry"]
    refused = outcome.attempts[3]
    assert refused.check is None and refused.error is not None
    assert "`theorem` starts a command" in refused.error
    assert provider.remaining == 1
    assert outcome.proof is None and outcome.review is None
    assert store.latest_proof(db, "toy_budget") == before
    assert len(store.attempts_for(db, "toy_budget", session_id=outcome.session_id)) == 4


def test_a_repeated_attempt_stops_early_without_lean(
    env: tuple[Settings, Checker], db: Database, tmp_path: Path, config: AgentConfig
) -> None:
    settings, checker = env
    same_again = ("```lean\nby intro n h_small -- same proof, new layout\n"
                  "   exact Nat.zero_lt_one\n```")
    recording = write_recording(tmp_path, [
        ("argument", ARGUMENT), ("proof", FAILING), ("repair", same_again)])

    outcome = draft(settings, checker, load_registry(settings).get("toy_budget"), ReplayProvider.from_file(recording),
                    rounds=4, config=config, db=db)

    assert outcome.status == "repeated"
    assert [a.outcome for a in outcome.lean_attempts] == ["rejected", "repeated"]
    repeated = outcome.attempts[-1]
    assert repeated.check is None and repeated.source is None
    assert repeated.error == "identical to attempt 1, which failed"
    [session] = [s for s in store.sessions_for(db, "toy_budget") if s.id == outcome.session_id]
    assert session.status == "repeated"


def test_unpinned_statement_is_drafted_too(
    env: tuple[Settings, Checker], db: Database, tmp_path: Path, config: AgentConfig
) -> None:
    settings, checker = env
    pinned = load_registry(settings).get("toy_budget")
    unpinned = pinned.model_copy(update={"lean": pinned.lean.model_copy(update={"statement": ""})})
    both = ("```lean\n-- statement\n∀ (n : Nat), 0 < 2 * n + 1\n```\n"
            "```lean\n-- proof\nby\n  intro n\n  omega\n```")
    recording = write_recording(tmp_path, [
        ("argument", ARGUMENT),
        ("statement", PASSING),  # no labelled blocks: refused, not checked
        ("repair", both),
    ])

    outcome = draft(settings, checker, unpinned, ReplayProvider.from_file(recording),
                    rounds=4, config=config, db=db)

    assert outcome.status == "accepted"
    assert [a.outcome for a in outcome.lean_attempts] == ["invalid", "accepted"]
    assert "-- statement" in (outcome.attempts[1].error or "")
    assert outcome.proof is not None and not outcome.proof.statement_pinned
    assert outcome.proof.statement == "∀ (n : Nat), 0 < 2 * n + 1"
    assert outcome.proof.path == proof_path(settings, "toy_budget", pinned=False)
    assert outcome.proof.path.name == "toy_budget.draft.lean"
    # the recording has no reviewer reply: the review is missing, the proof still stands
    assert outcome.review is None and outcome.review_error is not None


def test_a_draft_that_cites_its_own_target_is_rejected(
    env: tuple[Settings, Checker], db: Database, tmp_path: Path, config: AgentConfig
) -> None:
    """Issue 25, item 4: the loop's proof may not cite the claim's declaration (decided on the
    compiled proof term); the model is told why and repairs."""
    settings, checker = env
    toy = load_registry(settings).get("toy_budget")
    claim = toy.model_copy(update={"lean": toy.lean.model_copy(
        update={"statement": "∀ (n : Nat), 0 < Nat.succ n", "declaration": "Nat.succ_pos"})})
    recording = write_recording(tmp_path, [
        ("argument", ARGUMENT),
        ("proof", "```lean\nby\n  intro n\n  exact Nat.succ_pos n\n```"),
        ("repair", "```lean\nby\n  intro n\n  omega\n```"),
    ])

    outcome = draft(settings, checker, claim, ReplayProvider.from_file(recording),
                    rounds=3, config=config, db=db)

    assert [a.outcome for a in outcome.lean_attempts] == ["rejected", "accepted"], outcome.lean_attempts
    cited = outcome.lean_attempts[0].check
    assert cited is not None and "the proof uses Nat.succ_pos" in cited.diagnostics(), cited
    assert outcome.status == "accepted"


def test_provider_failure_marks_the_session_failed(
    env: tuple[Settings, Checker], db: Database, keys: None, config: AgentConfig
) -> None:
    settings, checker = env
    edge = ScriptedEdge([ok_anthropic(ARGUMENT)] + [
        Reply(500, anthropic_error("api_error", "Internal server error"))] * 5)
    with pytest.raises(ProviderError, match="gave up after 3 retries"):
        draft(settings, checker, load_registry(settings).get("toy_budget"),
              AnthropicProvider(config, http_client=edge.client()), config=config, db=db)
    latest = store.sessions_for(db, "toy_budget")[0]
    assert latest.status == "failed" and "HTTP 500" in (latest.error or "")
    assert [a.kind for a in store.attempts_for(db, "toy_budget", session_id=latest.id)] == ["argument"]
    with pytest.raises(NotFoundError, match="unknown claim 'nope'"):  # before any draft
        load_registry(settings).get("nope")
