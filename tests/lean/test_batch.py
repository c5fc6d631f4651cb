"""The batched acceptance path (``Checker.check_all``, ``pipeline/lean/batch.py``).

Several submissions of one claim compiled as ONE module, audited per theorem. What must hold:
each verdict equals what the one-file path (``Checker.check``) gives the same request; a bad
member (an error, a sorry, a hidden axiom, a parser trick) never changes another member's
verdict; nothing the batch cannot attribute is decided by it.

The Lean part builds one tiny module, runs the batch (two rounds: the second without the members
Lean rejected; the unbatchable members on their own) and the one-file check of every member the
batch decided (~15 compiles; each is ~4 s on an idle 2-core machine, far more under load).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.models import Claim
from pipeline.errors import SequentError
from pipeline.lean.batch import (
    attribute,
    batchable,
    build_batch,
    generated_lines_intact,
    split_submission,
    to_single,
)
from pipeline.lean.batching import Member, groups, member
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, CheckResult, Message, Policy, Reason, Verdict
from pipeline.store.db import Database
from tests.conftest import make_settings, needs_lean

pytestmark = pytest.mark.heavy

MINI = """module

public section
noncomputable section

namespace Mini

@[expose] def double (n : Nat) : Nat := n + n

theorem double_eq (n : Nat) : double n = 2 * n := by unfold double; omega

end Mini
"""
STATEMENT = "∀ n : Nat, Mini.double n = n + n"


def claim() -> Claim:
    return Claim.model_validate({
        "id": "mini", "title": "t", "statement": "s", "argument": "a", "source": "src",
        "lean": {"module": "Formal.Mini", "declaration": "Mini.double_eq", "statement": STATEMENT,
                 "witness": "Mini.double_eq"}, "path": Path("claims/mini.toml")})


NO_CHOICE = Policy(allowed_axioms=frozenset({"propext"}))
"""Submissions here may use ``propext`` only: a proof through ``Classical.choice`` is the hidden
axiom (no forbidden token names it; only the compiled environment shows it)."""

GOOD = "by intro n; rfl"
# (name, proof, expected reasons): every kind of member a batch meets
CASES: list[tuple[str, str, tuple[Reason, ...]]] = [
    ("good tactic", GOOD, ()),
    ("good term", "fun n => rfl", ()),
    ("good, refers to itself (recursion)",
     "fun n => match n with\n  | 0 => rfl\n  | k + 1 => by\n      have := sequent_submission k\n      rfl", ()),
    ("good, unfolds", "by\n  intro n\n  unfold Mini.double\n  rfl", ()),
    ("type error", "by intro n; exact rfl rfl", (Reason.error,)),
    ("unclosed parenthesis (swallows the `end` after it)", "(fun n => rfl", (Reason.error,)),
    ("hidden axiom (Classical.choice, no forbidden token)",
     "fun n => Classical.choice ⟨rfl⟩", (Reason.axiom,)),
    ("sorry", "by sorry", (Reason.sorry,)),
    ("unclosed comment (would swallow the next members)", "by intro n; rfl /-", (Reason.error,)),
    ("unclosed string", 'by intro n; rfl\n  -- fine\n  "', (Reason.error,)),
    ("guesses another member's name", "sequent_batch_000000000000_0.sequent_submission", (Reason.error,)),
    ("closes its namespace", "by intro n; rfl\nend", (Reason.error,)),
    ("brings a command for the members after it (the service refuses it before)", "by intro n; rfl\nopen Nat", ()),
    ("a comment closer inside a string (stays a string: a valid proof)", '"-/" |> fun _ => by intro n; rfl',
     ()),
    ("good again, after all of that", "by intro n; show n + n = n + n; rfl", ()),
]


def request(proof: str) -> CheckRequest:
    """The file the service builds for a submission (without its command filter, so that the
    engine's own defences are tested too)."""
    base = assemble_proof(claim(), "rfl")
    split = split_submission(base.source, "sequent_submission")
    assert split is not None
    source = f"{split.header}theorem sequent_submission :\n{split.statement}\n    :=\n{proof}\n"
    return base.model_copy(update={"source": source, "policy": NO_CHOICE})


# -- pure: layout, lexical closure, attribution -----------------------------------------------
def test_split_and_rebuild_round_trip() -> None:
    req = request("by\n  intro n\n  rfl")
    split = split_submission(req.source, "sequent_submission")
    assert split is not None and split.proof == "by\n  intro n\n  rfl"
    assert req.source.split("\n")[split.proof_line - 1] == "by"
    assert split_submission(req.source.replace("    :=", "  :="), "sequent_submission") is None
    assert split_submission(req.source, "other") is None


def test_only_lexically_closed_proofs_are_batched() -> None:
    assert batchable("by simp -- a comment with /- and \"")
    assert batchable('by simp [show "a" = "a" from rfl]')
    for proof in ("by simp /-", 'by "', "by simp /- /- -/", "r#\"x", "by exact «x",
                  "sequent_batch_1_0.sequent_submission", "by exact decl_name%", "_root_.x",
                  "rfl\nend", "rfl\nattribute [simp] f", "rfl\nopen Nat", "by set_option maxHeartbeats 1 in rfl",
                  "rfl\n@[simp] theorem x : True := trivial", "rfl\n#check 1"):
        assert not batchable(proof), proof


def test_batch_lines_and_attribution() -> None:
    req = request("by\n  intro n\n  rfl")
    split = split_submission(req.source, "sequent_submission")
    assert split is not None
    batch = build_batch(split.header, split.statement, "sequent_submission", ["by\n  intro n\n  rfl", "rfl"], "ab")
    lines = batch.source.split("\n")
    first, second = batch.members
    assert lines[first.start - 1] == "namespace sequent_batch_ab_0"
    assert lines[first.proof_start - 1 : first.proof_end] == ["by", "  intro n", "  rfl"]
    assert lines[first.end - 1] == "end sequent_batch_ab_0"
    assert lines[second.proof_start - 1] == "rfl" and lines[second.end - 1] == "end sequent_batch_ab_1"
    assert lines[batch.reference_lines[0] - 1] == "def sequent_batch_ab_statement : Prop :="
    assert generated_lines_intact(batch)

    def msg(line: int, severity: str = "error") -> Message:
        return Message.model_validate({"severity": severity, "data": "sequent_batch_ab_1.sequent_submission: x",
                                       "pos": {"line": line, "column": 2}})

    where = attribute([msg(first.proof_start + 1), msg(second.end)], batch)
    assert [len(where.own[0]), len(where.own[1])] == [1, 1] and not where.unsure and not where.whole
    assert attribute([msg(second.start + 1)], batch).unsure == {0, 1}   # on a generated line
    assert attribute([msg(2)], batch).whole                               # in the header
    assert not attribute([msg(2, "warning")], batch).whole
    single = to_single(msg(second.end), second, split.proof_line, "Submission.lean")
    assert single.pos is not None and single.pos.line == split.proof_line + 1   # where the file ends
    assert single.text == "sequent_submission: x"
    # a proof that leaves a comment open reaches the generated lines: refused as a batch
    open_comment = build_batch(split.header, split.statement, "sequent_submission", ["rfl /-", "rfl -/"], "ab")
    assert not generated_lines_intact(open_comment)


def test_which_requests_check_all_compiles_together() -> None:
    """The batch strategy is chosen inside ``Checker.check_all``: only batchable submissions of
    one statement, file name, policy, limit and uncitable constants share a module; a group of
    one, a policy refusal, a proof that is not lexically closed and a file without the
    submission's layout are checked on their own."""
    good, other = request(GOOD), request("fun n => rfl")

    def as_member(i: int, req: CheckRequest) -> Member | None:
        return member(i, req, req.source, f"k{i}")

    assert as_member(0, good) is not None
    assert as_member(1, request("by sorry")) is None                       # the scan refuses it, alone
    assert as_member(2, request("by intro n; rfl /-")) is None             # not lexically closed
    assert as_member(3, good.model_copy(update={"expected_declarations": None})) is None
    slower = as_member(4, other.model_copy(update={"timeout_s": 99.0}))
    renamed = as_member(5, other.model_copy(update={"file_name": "Other.lean"}))
    pair = [as_member(6, good), as_member(7, other)]
    alone = as_member(8, request("by\n  intro n\n  rfl").model_copy(update={"policy": Policy()}))
    members = [m for m in (slower, renamed, *pair, alone) if m is not None]
    assert len(members) == 5
    assert [[m.position for m in g] for g in groups(members)] == [[6, 7]]


# -- real Lean -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Checker, Checker]]:
    """A project with ``Formal/Mini.lean`` built; two checkers with separate result caches
    (the batch's and the one-file path's verdicts are computed independently)."""
    root = tmp_path_factory.mktemp("batch-proj")
    (root / "lakefile.lean").write_text("-- test\n")
    (root / "Formal").mkdir()
    (root / "Formal" / "Mini.lean").write_text(MINI)
    settings = make_settings(root, pool_size=1)
    one_db, other_db = Database(f"sqlite:///{root / 'a.db'}"), Database(f"sqlite:///{root / 'b.db'}")
    with Checker(settings, warm=False, db=one_db) as batched, Checker(settings, warm=False, db=other_db) as single:
        report = build_project(settings, batched)
        assert not report.failures(), report
        yield batched, single
    one_db.close()
    other_db.close()


def _verdict(result: CheckResult | SequentError) -> tuple[Verdict, tuple[Reason, ...], tuple[str, ...] | None]:
    assert isinstance(result, CheckResult), result
    return result.verdict, result.reasons, result.axioms


@pytest.mark.lean
@needs_lean
def test_a_batch_gives_each_member_the_one_file_verdict(checkers: tuple[Checker, Checker]) -> None:
    batched, single = checkers
    requests = [request(proof) for _name, proof, _reasons in CASES]
    results = batched.check_all(requests)
    by_batch = {name: r for (name, _p, _e), r in zip(CASES, results, strict=True)}
    for name, _proof, reasons in CASES:
        got = by_batch[name]
        assert isinstance(got, CheckResult), (name, got)
        assert got.reasons == reasons, (name, got.reasons, got.diagnostics())
    # the batch decided every member it may (lexically closed, no command token, nothing the scan
    # refuses): none fell back for another's sake; the others went through the one-file path
    expected = {name for name, proof, reasons in CASES if batchable(proof) and Reason.sorry not in reasons}
    decided = {name for name, r in by_batch.items() if isinstance(r, CheckResult) and r.backend.endswith("+batch")}
    assert decided == expected, (sorted(decided ^ expected))
    # the good ones are audited, and each audit holds only its own theorem
    good = [by_batch[name] for name, _p, reasons in CASES if not reasons and name in expected]
    for r in good:
        assert r.environment is not None and not r.environment.issues
        assert r.environment.declaration("sequent_submission") is not None
        assert all("sequent_batch" not in d.name for d in r.environment.declarations)
    axiom = by_batch["hidden axiom (Classical.choice, no forbidden token)"]
    assert axiom.backend.endswith("+batch") and axiom.axioms is not None and "Classical.choice" in axiom.axioms
    error = by_batch["type error"]
    assert error.backend.endswith("+batch")
    assert all(m.pos is None or m.pos.line >= split_line(requests[4]) for m in error.errors())
    # identical to the one-file path, case by case (verdict, reasons, axioms, statement's type);
    # the members the batch did not decide were checked by that path already
    for (name, _proof, _reasons), req, got in zip(CASES, requests, results, strict=True):
        assert isinstance(got, CheckResult)
        if not got.backend.endswith("+batch"):
            continue
        alone = single.check(req)
        assert _verdict(got) == _verdict(alone), name
        assert isinstance(got, CheckResult)
        if alone.environment is not None:
            assert got.environment is not None
            mine = got.environment.declaration("sequent_submission")
            theirs = alone.environment.declaration("sequent_submission")
            assert mine is not None and theirs is not None and mine.type_digest == theirs.type_digest, name


def split_line(req: CheckRequest) -> int:
    split = split_submission(req.source, "sequent_submission")
    assert split is not None
    return split.proof_line
