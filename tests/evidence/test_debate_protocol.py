"""The protocol rules of debate_tree (h_alternating, h_depth) checked on debate transcripts:
positive, negative and near-threshold negative controls, and the real experiment."""

from __future__ import annotations

from pathlib import Path

from experiments.debate import debate, transcript_samples
from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.models import Run
from pipeline.evidence.runs import load_run
from tests.evidence.helpers import P, make_run

ALT, DEPTH = P + "debate:alternating_moves", P + "debate:depth_bound"
D8 = Bound(parameters={"d": 8.0})


def moves(debates: int, length: int = 8) -> list[tuple[int, int, int]]:
    """Alternating debates of ``length`` moves, the claimant first at an ∃-node."""
    one = [(i, int(i % 2 == 0), int(i % 2 == 0)) for i in range(length)]
    return one * debates


def transcript_run(tmp: Path, rows: list[tuple[int, int, int]], name: str = "run") -> Run:
    return make_run(tmp, name, samples=transcript_samples(rows))


def test_alternating_debates_within_the_bound_hold_as_a_proxy(tmp_path: Path) -> None:
    run = transcript_run(tmp_path, moves(500))
    for check in (ALT, DEPTH):
        out = run_check(check, run, D8)
        assert out.outcome == "holds" and out.kind == "proxy" and out.n == 500
        assert "paths" in (out.not_covered or "")


def test_one_non_alternating_move_among_many_fails(tmp_path: Path) -> None:
    rows = moves(2000)
    i = 8 * 1234 + 4  # debate 1234, move 4: a ∀-node where an ∃-node is due
    rows[i] = (4, 0, 0)
    out = run_check(ALT, transcript_run(tmp_path, rows), D8)
    assert out.outcome == "fails" and out.kind == "direct"
    assert out.details["violations"] == 1 and out.details["first_violation"] == 1234


def test_the_wrong_player_moving_fails(tmp_path: Path) -> None:
    rows = moves(300)
    rows[8 * 7 + 3] = (3, 0, 1)  # the claimant moves at a ∀-node
    assert run_check(ALT, transcript_run(tmp_path, rows), D8).outcome == "fails"


def test_a_debate_starting_at_a_universal_node_fails(tmp_path: Path) -> None:
    rows = [(i, int(i % 2 == 1), int(i % 2 == 1)) for i in range(8)] * 100  # Alternating false
    assert run_check(ALT, transcript_run(tmp_path, rows), D8).outcome == "fails"


def test_one_debate_one_move_beyond_the_bound_fails(tmp_path: Path) -> None:
    rows = moves(999) + moves(1, length=9)  # depth d + 1 once, among 1,000 debates
    out = run_check(DEPTH, transcript_run(tmp_path, rows), D8)
    assert out.outcome == "fails" and out.value == 9.0 and out.threshold == 8.0
    # the bound comes from the claim: the same transcript holds under d = 9
    assert run_check(DEPTH, transcript_run(tmp_path, rows, "b"),
                     Bound(parameters={"d": 9.0})).outcome == "holds"


def test_the_depth_bound_needs_the_claims_d(tmp_path: Path) -> None:
    out = run_check(DEPTH, transcript_run(tmp_path, moves(100)))
    assert out.outcome == "inconclusive" and "'d'" in out.reason


def test_too_few_debates_are_inconclusive_with_the_number_needed(tmp_path: Path) -> None:
    out = run_check(ALT, transcript_run(tmp_path, moves(10)), D8)
    assert out.outcome == "inconclusive" and out.details["needed"] == 29  # ln 0.05/ln 0.9
    assert "29" in out.reason


def test_a_malformed_transcript_is_inconclusive(tmp_path: Path) -> None:
    rows = moves(100)
    rows[5] = (7, 0, 0)  # move index jumps
    out = run_check(ALT, transcript_run(tmp_path, rows), D8)
    assert out.outcome == "inconclusive" and "rise by 1" in out.reason
    missing = make_run(tmp_path, "none", samples={"liar_win": [0.0, 1.0]})
    assert run_check(DEPTH, missing, D8).outcome == "inconclusive"


def test_the_debate_experiment_records_transcripts_that_satisfy_the_rules(tmp_path: Path) -> None:
    run = load_run(debate(tmp_path / "run", seed=3, quick=True))
    index = run.samples["move_index"]
    assert (index == 0).sum() == 2 * run.config["n_debates"]  # naive and best-response debates
    assert index.max() == 2 * run.config["depth"] - 1
    for check in (ALT, DEPTH):
        assert run_check(check, run, D8).outcome == "holds"
    # one move short of the tree's depth bound: d = 7 is refuted by the transcripts
    assert run_check(DEPTH, run, Bound(parameters={"d": 7.0})).outcome == "fails"
