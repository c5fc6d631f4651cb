"""`sequent trace` as a user runs it (real process, real Lean): JSON Lines of tactic steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands.test_check_cmd import sequent
from tests.conftest import needs_lean


@pytest.mark.lean
@needs_lean
def test_trace_writes_json_lines(project: Path) -> None:
    (project / "T.lean").write_text(
        "theorem t (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n  constructor\n  · exact hp\n  · exact hq\n")
    out = project / "trace.jsonl"
    done = sequent("trace", "T.lean", "--out", str(out), cwd=project)
    assert done.returncode == 0, done.stderr
    assert "traced 5 tactics from 1 files" in done.stderr
    steps = [json.loads(line) for line in out.read_text().splitlines()]
    # a ``·`` focus is a tactic, and so is each tactic of its block (LeanDojo's records)
    assert [s["tactic"] for s in steps] == ["constructor", "· exact hp", "exact hp", "· exact hq", "exact hq"]
    assert steps[0]["state_before"].endswith("⊢ p ∧ q") and "⊢ p" in steps[0]["state_after"]
    assert {"file", "declaration", "statement", "state_before", "state_after", "premises"} <= set(steps[0])
    assert {s["file"] for s in steps} == {"T.lean"}  # relative to the project
    missing = sequent("trace", "Nope.lean", cwd=project)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_trace_with_lean_dojo_where_it_cannot_run_says_why(project: Path) -> None:
    from pipeline.lean import dojo

    reason = dojo.unavailable()
    if reason is None:
        pytest.skip("lean-dojo-v2 and a native toolchain are installed here")
    done = sequent("trace", "--engine", "dojo", cwd=project)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot trace with LeanDojo" in done.stderr and reason.split(" (")[0] in done.stderr
    both = sequent("trace", "T.lean", "--engine", "dojo", cwd=project)
    assert both.returncode == 2 and "no FILE" in both.stderr


# The hand-checked trace of Formal/Equilibrium.lean (checked against the source and the
# lemmas' statements; see docs/lean-backends.md). ``dishonesty_bound``'s context:
_CTX = ("p q ε v wHonest wDishonest : Rat\nh_prob : 0 ≤ p ∧ p ≤ 1\nh_win_prob : wHonest ≤ 1\nh_q : q < 1\n"
        "h_honest_value : 1 - q ≤ v\nh_honest_win_rate : wDishonest ≤ q\n"
        "h_exploitable : v - ε ≤ (1 - p) * wHonest + p * wDishonest\n")
_H1 = "h1 : (1 - p) * wHonest ≤ (1 - p) * 1\n"
_H2 = "h2 : p * wDishonest ≤ p * q\n"
_GOAL = "⊢ p ≤ (q + ε) / (1 - q)"
_MUL_LE = {"full_name": "Rat.mul_le_mul_of_nonneg_left", "module": "Init.Data.Rat.Lemmas", "origin": "core",
           "location": None}
_LE_DIV = {"full_name": "Formal.le_div_of_mul_le", "module": "Formal.Basic", "origin": "project",
           "location": {"file": "Formal/Basic.lean", "line": 49, "column": 0, "end_line": 54,
                        "end_column": 7}}  # doc comment to the last `grind`
_BOUND, _WITNESS = "Formal.Equilibrium.dishonesty_bound", "Formal.Equilibrium.dishonesty_bound_nonvacuous"
# (declaration, tactic, line, column, end_line, end_column, state_before, state_after, premises)
EQUILIBRIUM = [
    # a multi-line `have` is one record, whole; its nested `(by grind)` is another
    (_BOUND, "have h1 : (1 - p) * wHonest ≤ (1 - p) * 1 :=\n    Rat.mul_le_mul_of_nonneg_left h_win_prob (by grind)",
     35, 2, 36, 55, _CTX + _GOAL, _CTX + _H1 + _GOAL, [_MUL_LE]),
    # Rat.mul_le_mul_of_nonneg_left (h : a ≤ b) (hc : 0 ≤ c) : c * a ≤ c * b, with c = 1 - p
    (_BOUND, "grind", 36, 49, 36, 54, _CTX + "⊢ 0 ≤ 1 - p", "no goals", []),
    # `h_prob.1` and the hypotheses are locals, not premises
    (_BOUND, "have h2 : p * wDishonest ≤ p * q := Rat.mul_le_mul_of_nonneg_left h_honest_win_rate h_prob.1",
     37, 2, 37, 94, _CTX + _H1 + _GOAL, _CTX + _H1 + _H2 + _GOAL, [_MUL_LE]),
    # le_div_of_mul_le {a b c} (hb : 0 < b) (h : a * b ≤ c) : a ≤ c / b, a = p, b = 1 - q, c = q + ε
    (_BOUND, "apply le_div_of_mul_le (by grind)", 38, 2, 38, 35,
     _CTX + _H1 + _H2 + _GOAL, _CTX + _H1 + _H2 + "⊢ p * (1 - q) ≤ q + ε", [_LE_DIV]),
    (_BOUND, "grind", 38, 29, 38, 34, _CTX + _H1 + _H2 + "⊢ 0 < 1 - q", "no goals", []),
    (_BOUND, "grind", 39, 2, 39, 7, _CTX + _H1 + _H2 + "⊢ p * (1 - q) ≤ q + ε", "no goals", []),
    # a term-mode proof: its six nested `by` blocks, one per hypothesis of dishonesty_bound
    # at p = 1/20, q = 1/10, ε = 1/100, v = 9/10, wHonest = 1, wDishonest = 1/10
    *[(_WITNESS, "grind", 46, column, 46, column + 5, before, "no goals", []) for column, before in zip(
        (8, 19, 30, 41, 52, 63),
        ("⊢ 0 ≤ 1 / 20 ∧ 1 / 20 ≤ 1", "⊢ 1 ≤ 1", "⊢ 1 / 10 < 1", "⊢ 1 - 1 / 10 ≤ 9 / 10", "⊢ 1 / 10 ≤ 1 / 10",
         "⊢ 9 / 10 - 1 / 100 ≤ (1 - 1 / 20) * 1 + 1 / 20 * (1 / 10)"), strict=True)],
]


@pytest.mark.lean
@needs_lean
def test_trace_of_a_formal_file_matches_the_hand_checked_records(project: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    (project / "Formal").mkdir()
    for name in ("Basic.lean", "Equilibrium.lean"):
        (project / "Formal" / name).write_text((repo / "Formal" / name).read_text(encoding="utf-8"), encoding="utf-8")
    out = project / "trace.jsonl"
    done = sequent("trace", str(project / "Formal" / "Equilibrium.lean"), "--out", str(out), cwd=project)
    assert done.returncode == 0, done.stderr
    steps = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    got = [(s["declaration"], s["tactic"], s["line"], s["column"], s["end_line"], s["end_column"],
            s["state_before"], s["state_after"], s["premises"]) for s in steps]
    for have, want in zip(got, EQUILIBRIUM, strict=False):
        assert have == want
    assert len(got) == len(EQUILIBRIUM)
    assert {s["file"] for s in steps} == {"Formal/Equilibrium.lean"}  # an absolute path given: relative out
    assert all(s["state_before"] != s["state_after"] for s in steps)
