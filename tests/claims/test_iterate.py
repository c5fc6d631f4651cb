"""Iterating on a claim's proof: positions placed in the text the agent sent, and
minimal_hypotheses decided by weakening a hypothesis to ``True`` (a proof that opens with
``intro`` still lines up). Pure parts, then the real (embedded) Lean on a core-only claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.iterate import (
    minimal_hypotheses,
    proof_position,
    relocate,
    render,
    weaken_binder,
)
from pipeline.claims.models import Claim
from pipeline.errors import InputError
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckResult, Message, Policy, Violation
from tests.conftest import make_settings, needs_lean

STATEMENT = """∀ (n : Nat)
  (h_pos : 0 < n)
  (h_small : n < 5),
  n + 0 = n"""


def _claim(statement: str = STATEMENT, hyps: tuple[str, ...] = ("h_pos", "h_small")) -> Claim:
    return Claim.model_validate({
        "id": "toy", "title": "toy", "statement": "n + 0 = n", "argument": "simp", "source": "test",
        "lean": {"module": "Init", "declaration": "Nat.add_zero", "statement": statement,
                 "witness": "Nat.add_zero"},
        "hypotheses": [{"binder": b, "meaning": b, "assumed": True, "justification": "test"} for b in hyps],
        "path": Path("claims/toy.toml"),
    })


def _msg(line: int, column: int, text: str, severity: str = "error") -> Message:
    return Message.model_validate({"severity": severity, "data": text, "pos": {"line": line, "column": column}})


def _result(*messages: Message, violations: tuple[Violation, ...] = ()) -> CheckResult:
    return CheckResult(verdict="rejected", reasons=("error",), messages=messages, violations=violations,
                       backend="test", lean_version="4", elapsed_s=0.0, cache_key="k",
                       file_name="Submission.lean")


def test_weaken_binder_keeps_every_binder_and_every_line() -> None:
    weaker = weaken_binder(STATEMENT, "h_pos")
    assert weaker == "∀ (n : Nat)\n  (h_pos : True)\n  (h_small : n < 5),\n  n + 0 = n"
    multi = "∀ (n : Nat) (h_a : 0 < n\n   ∧ n < 3) (h_b : n = 1), n = 1"
    assert weaken_binder(multi, "h_a") == "∀ (n : Nat) (h_a : True\n) (h_b : n = 1), n = 1"
    assert weaken_binder(STATEMENT, "h_none") is None
    assert weaken_binder("∀ (h_x h_y : True), True", "h_x") is None  # a group of two: not decided


def test_positions_are_placed_in_the_text_sent() -> None:
    claim = _claim()
    proof = "\nby\n  intro n h_pos h_small\n  exact foo"  # a leading blank line counts as line 1
    request = assemble_proof(claim, proof)
    file_lines = request.source.split("\n")
    at = proof_position(request, proof, 4)
    assert file_lines[at - 1] == "  exact foo"
    with pytest.raises(InputError, match="outside the proof"):
        proof_position(request, proof, 5)
    with pytest.raises(InputError, match="blank"):
        proof_position(request, proof, 1)
    binder_line = file_lines.index("      (h_pos : 0 < n)") + 1
    result = _result(
        _msg(at, 8, "unknown identifier 'foo'"),
        _msg(binder_line, 7, "unused variable `h_pos`\nnote: this linter ...", "warning"),
        _msg(at, 2, "Try this: exact rfl", "information"),
        _msg(2, 0, "something on the header"),
        violations=(Violation(rule="sorry", token="sorry", line=at, column=8, message="no sorry"),),
    )
    placed = relocate(result, request, proof, claim.lean.statement)
    shown = render(placed)
    assert "proof:4:8: error: unknown identifier 'foo'" in shown
    assert "proof:4:2: information: Try this: exact rfl" in shown  # info messages are kept
    assert "proof:4:8: policy: (sorry) no sorry" in shown
    assert "file:2:0: error: something on the header" in shown
    assert "unused variable" not in shown  # the assembled statement's own binders: dropped
    assert "Submission.lean" not in shown
    unused_in_proof = relocate(_result(_msg(at, 2, "unused variable `x`", "warning")), request, proof,
                               claim.lean.statement)
    assert [m.where for m in unused_in_proof] == ["proof"]  # the agent's own: kept


def test_a_timeout_says_so_even_without_a_message() -> None:
    claim = _claim()
    request = assemble_proof(claim, "by simp")
    timed_out = _result().model_copy(update={"reasons": ("timeout",)})
    assert "did not finish within the time limit" in render(relocate(timed_out, request, "by simp"))


@needs_lean
@pytest.mark.lean
def test_minimal_hypotheses_with_intro_decides_each_by_weakening(project: Path) -> None:
    settings = make_settings(project)
    claim = _claim()
    uses_small = "by\n  intro n h_pos h_small\n  have : n < 5 := h_small\n  simp"
    with Checker(settings, warm=False) as checker:
        found = minimal_hypotheses(claim, uses_small, checker.diagnose, Policy())
        broken = minimal_hypotheses(claim, "by\n  intro n h_pos h_small\n  exact nope", checker.diagnose,
                                    Policy())
        timeout = minimal_hypotheses(
            claim, uses_small,
            lambda r: checker.diagnose(r.model_copy(update={"timeout_s": 0.001}))
            if "True" in r.source else checker.diagnose(r), Policy())
    assert found.proof_verdict == "accepted", found
    by_name = {h.binder: h for h in found.hypotheses}
    assert by_name["h_pos"].needed is False and by_name["h_pos"].decided_by == "weakened_accepted"
    assert by_name["h_small"].needed is True, by_name["h_small"]
    assert by_name["h_small"].decided_by == "weakened_rejected_in_proof"
    assert "proof:3:" in by_name["h_small"].diagnostics  # placed in the proof sent
    assert "weakened to True" in found.method
    assert [h.needed for h in broken.hypotheses] == [None, None]  # no accepted proof: unknown
    assert all(h.needed is None and "did not finish" in h.note for h in timeout.hypotheses), timeout
