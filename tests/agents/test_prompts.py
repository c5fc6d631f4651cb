"""Prompt templates: what the model is shown (with a real claim from the registry loader)."""

from __future__ import annotations

from pathlib import Path

from pipeline.agents.prompts import argument_prompt, proof_prompt, repair_prompt, review_prompt
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.lean.models import CheckResult, Message, Position, Reason, Severity, Verdict
from pipeline.settings import Settings
from tests.agents.toy import make_toy_project

STATEMENT = "∀ (n : Nat) (h_small : n < 10), 0 < 2 * n + 1"


def toy_claim(tmp_path: Path) -> Claim:
    root = make_toy_project(tmp_path / "proj")
    return load_registry(Settings.load(root, state_dir=root / ".sequent")).get("toy_budget")



def test_argument_and_proof_prompts(tmp_path: Path) -> None:
    claim = toy_claim(tmp_path)
    arg = argument_prompt(claim, context="def helper := 1")
    assert arg.kind == "argument"
    assert "toy_budget" in arg.user and "below ten" in arg.user
    assert "`h_small`: The number of steps is below ten. (assumed)" in arg.user
    assert "def helper := 1" in arg.user and "import Init" in arg.user
    assert "$" not in arg.user

    proof = proof_prompt(claim, "Use omega.", claim.lean.statement.strip(), "sequent_submission")
    assert proof.kind == "proof"
    assert f"theorem sequent_submission :\n    {STATEMENT} :=\n  <PROOF>" in proof.user
    assert "ONLY the proof" in proof.user and "Use omega." in proof.user
    assert proof.digest != arg.digest and len(proof.digest) == 64

    unpinned = proof_prompt(claim, "Use omega.", None, "sequent_submission")
    assert unpinned.kind == "statement" and "-- statement" in unpinned.user
    assert "<STATEMENT>" in unpinned.user


def test_repair_prompt_feeds_back_positions_and_goals(tmp_path: Path) -> None:
    claim = toy_claim(tmp_path)
    source = "import Init\n\ntheorem sequent_submission :\n    True\n    :=\nby\n  exact 1\n"
    result = CheckResult(
        verdict=Verdict.rejected, reasons=(Reason.error,), backend="embedded",
        lean_version="4.28.0", elapsed_s=2.0, cache_key="k", file_name="Submission.lean",
        messages=(Message(severity=Severity.error, pos=Position(line=7, column=2),
                          text="type mismatch\n  1\nhas type\n  Nat\nbut is expected to have type\n  True"),),
    )
    prompt = repair_prompt(claim, "argument", "by\n  exact 1", source, result, None,
                           statement_pinned=True, attempt=1, rounds=4)
    assert prompt.kind == "repair"
    assert "Attempt 1 of 4 was rejected." in prompt.user
    assert "Lean's verdict: rejected: error" in prompt.user
    assert "Submission.lean:7:2: error: type mismatch" in prompt.user
    assert "7 |   exact 1" in prompt.user  # numbered source, so positions can be read
    assert "$" not in prompt.user

    refused = repair_prompt(claim, "argument", "theorem x : True := trivial", None, None,
                            "the proof must not contain commands", statement_pinned=True,
                            attempt=2, rounds=4)
    assert "refused to assemble" in refused.user and "theorem x : True" in refused.user


def test_review_prompt_asks_for_the_schema(tmp_path: Path) -> None:
    claim = toy_claim(tmp_path)
    prompt = review_prompt(claim, STATEMENT)
    assert prompt.kind == "review" and prompt.schema_name == "review_judgement"
    assert prompt.response_schema is not None
    assert set(prompt.response_schema["properties"]) == {"verdict", "discrepancies", "summary"}
    assert STATEMENT in prompt.user and "toy_budget_pos" in prompt.user
    assert "faithful" in prompt.system or "faithful" in prompt.user
