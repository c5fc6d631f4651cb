"""Changes that weaken what a claim certifies, through the real gate: temporary git
repositories of the fixture project, real Lean, real runs, the ``sequent`` command line.

Each weakening (a checked hypothesis made assumed, a conclusion, reference run or dependency
dropped, a parameter changed; the statement's compiled meaning changed, with or without a
white-space edit of its text) fails the gate, naming the field, old -> new and the command that
approves it; an approval of exactly the new content lets it pass; an approval of other content
does not; strengthening changes are notices.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.commands.app import run
from pipeline.gate.models import GateReport, Severity, Status
from pipeline.gate.runner import GateOptions, run_gate
from pipeline.settings import Settings
from tests.conftest import lean_home, needs_lean
from tests.evidence.helpers import make_run

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

FIXTURE = Path(__file__).parent / "fixture_project"
CLAIM = "claims/doubling.toml"
COPY = "claims/doubling_copy.toml"
BASIC = "Formal/Basic.lean"
APPROVE = "sequent claims approve doubling"

ASSUMED = '''[[hypotheses]]
binder = "h_small"
meaning = "The number is below 100."
assumed = true
justification = "Fixture: a hypothesis the witness can discharge."
'''
CHECKED = '''[[hypotheses]]
binder = "h_small"
meaning = "The number is below 100."
check = "pipeline.evidence.checks.debate:judge_leaf_accuracy"
'''
CONCLUSION = '''
[[conclusions]]
name = "doubles"
meaning = "Stands in for the theorem's conclusion (the gate only compares registry entries)."
check = "pipeline.evidence.checks.debate:honest_always_wins"
'''


@pytest.fixture(scope="module")
def gate_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate-weakening-state")


@pytest.fixture
def env(gate_state: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SEQUENT_LEAN_HOME", str(lean_home()))
    monkeypatch.setenv("SEQUENT_STATE_DIR", str(gate_state))
    monkeypatch.setenv("SEQUENT_POOL_SIZE", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    yield


def _reference_run(root: Path, name: str) -> None:
    """A run where the judge is always right and the liar never wins."""
    make_run(root / "runs", name, samples={"leaf_correct": np.ones(400), "liar_win": np.zeros(200)})


def _certified(project, *, checked: bool, conclusion: bool, runs: list[str], depends: list[str],
               n: float | None) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the fixture claim's certified fields."""
    text = (FIXTURE / CLAIM).read_text(encoding="utf-8")
    text = text[:text.index("[[hypotheses]]")] + (CHECKED if checked else ASSUMED)
    text += CONCLUSION if conclusion else ""
    extra = f"reference_runs = {json.dumps(runs)}\n"
    if n is not None:
        extra += f"parameters = {{ n = {n} }}\n"
    text = text.replace("depends_on = []\n", f"depends_on = {json.dumps(depends)}\n" + extra)
    project.write(CLAIM, text)


@pytest.fixture
def project(git_project, env):  # type: ignore[no-untyped-def]
    """The fixture project with a claim that certifies much on ``main`` (a checked hypothesis,
    a conclusion, a reference run, a parameter, a dependency), a ``feature`` branch checked out."""
    shutil.copytree(FIXTURE, git_project.root, dirs_exist_ok=True)
    copy = (FIXTURE / CLAIM).read_text(encoding="utf-8").replace('id = "doubling"', 'id = "doubling_copy"')
    git_project.write(COPY, copy)
    _reference_run(git_project.root, "ref")
    _certified(git_project, checked=True, conclusion=True, runs=["runs/ref"], depends=["doubling_copy"],
               n=3.0)
    git_project.commit("the fixture project, certifying much")
    git_project.branch("feature")
    return git_project


def _sequent(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        run(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out + err


def _gate(project) -> GateReport:  # type: ignore[no-untyped-def]
    return run_gate(Settings.load(project.root), GateOptions(base="main"))


def _failed(report: GateReport) -> dict[str, list[str]]:
    return {c.name: [f.message for f in c.findings if f.severity is Severity.error]
            for c in report.cases if c.status is Status.failed}


def test_the_base_passes(project) -> None:  # type: ignore[no-untyped-def]
    report = run_gate(Settings.load(project.root), GateOptions())
    assert report.ok, _failed(report)


def test_each_weakening_fails_until_its_exact_content_is_approved(project, capsys) -> None:  # type: ignore[no-untyped-def]
    _certified(project, checked=False, conclusion=False, runs=[], depends=[], n=5.0)
    project.commit("weaken the claim in every registry field at once")

    code, out = _sequent(["gate", "--project", str(project.root), "--base", "main"], capsys)
    assert code == 1, out
    report = _gate(project)
    failed = _failed(report)
    assert set(failed) == {"doubling: weakening changes are approved"}, failed  # nothing else fails
    messages = failed["doubling: weakening changes are approved"]
    expected = [
        ("hypotheses.h_small", "checked by pipeline.evidence.checks.debate:judge_leaf_accuracy -> assumed"),
        ("conclusions.doubles", "-> absent"),
        ("parameters.n", "3.0 -> 5.0"),
        ("reference_runs", "runs/ref -> absent"),
        ("depends_on", "doubling_copy -> absent"),
    ]
    for field, change in expected:
        hits = [m for m in messages if f": {field}:" in m and change in m]
        assert len(hits) == 1, (field, messages)
        assert APPROVE in hits[0] and "no approval is committed" in hits[0]
    assert len(messages) == len(expected)
    assert "hypotheses.h_small" in out and APPROVE in out  # the terminal says it too

    code, out = _sequent(["claims", "approve", "doubling", "--project", str(project.root),
                          "--by", "Ada", "--reason", "the experiment was retired"], capsys)
    assert code == 0, out
    assert "approved doubling" in out and "0 checked, 1 assumed" in out
    project.commit("approve the weaker claim")
    report = _gate(project)
    assert report.ok, _failed(report)
    case = next(c for c in report.cases if c.name == "doubling: weakening changes are approved")
    assert case.status is Status.warned and len(case.findings) == len(expected)
    assert all("approved in claims/doubling.toml" in f.message and "Ada" in f.message
               and "the experiment was retired" in f.message for f in case.findings)

    # the approval names that content: one more change after it is not approved
    project.replace(CLAIM, "parameters = { n = 5.0 }", "parameters = { n = 6.0 }")
    project.commit("a further change after the approval")
    failed = _failed(_gate(project))
    messages = failed["doubling: weakening changes are approved"]
    assert any("parameters.n" in m and "3.0 -> 6.0" in m for m in messages), messages
    assert all("names other content than the claim now certifies" in m for m in messages), messages


def test_strengthening_changes_are_notices(project) -> None:  # type: ignore[no-untyped-def]
    """From a claim that certifies little to one that certifies more: no approval needed."""
    project.switch("main")
    _certified(project, checked=False, conclusion=False, runs=[], depends=[], n=3.0)
    project.commit("a claim that certifies little")
    project.branch("strengthen")
    _reference_run(project.root, "ref2")
    _certified(project, checked=True, conclusion=True, runs=["runs/ref2"], depends=["doubling_copy"],
               n=3.0)
    project.commit("check the hypothesis, add a conclusion, a reference run and a dependency")
    report = _gate(project)
    assert report.ok, _failed(report)
    case = next(c for c in report.cases if c.name == "doubling: weakening changes are approved")
    assert case.status is Status.passed
    notices = [f.message for f in case.findings]
    assert all(f.severity is Severity.notice for f in case.findings)
    for what in ("hypotheses.h_small", "conclusions.doubles", "reference run runs/ref2",
                 "dependency doubling_copy"):
        assert any(what in m and "strengthens the claim" in m for m in notices), (what, notices)


def test_a_meaning_change_needs_an_approval_of_the_new_meaning(project, capsys) -> None:  # type: ignore[no-untyped-def]
    """An intended, visible change of a definition the statement uses: re-pinned, it still needs
    an approval; approved, it passes with a warning for the reviewer."""
    project.replace(BASIC, "def double (n : Nat) : Nat := n + n", "def double (n : Nat) : Nat := 2 * n")
    for claim_id in ("doubling", "doubling_copy"):
        code, out = _sequent(["claims", "pin", claim_id, "--project", str(project.root)], capsys)
        assert code == 0, out
    project.commit("double is 2 * n")
    failed = _failed(_gate(project))
    assert set(failed) == {"doubling: meaning changes are approved",
                           "doubling_copy: meaning changes are approved"}, failed
    (message,) = failed["doubling: meaning changes are approved"]
    assert "lean.meaning" in message and "Formal.Basic.double" in message and APPROVE in message

    code, out = _sequent(["claims", "approve", "doubling", "--project", str(project.root)], capsys)
    assert code == 0, out
    project.commit("approve one claim")
    assert set(_failed(_gate(project))) == {"doubling_copy: meaning changes are approved"}
    code, out = _sequent(["claims", "approve", "doubling_copy", "--project", str(project.root)], capsys)
    assert code == 0, out
    project.commit("approve the other")
    report = _gate(project)
    assert report.ok, _failed(report)
    assert next(c for c in report.cases if c.check == "meaning").status is Status.warned


ORDER = """module

public section
noncomputable section

namespace Formal.Order
{attack}
/-- A rational at most one is at most one. -/
theorem le_one (x : Rat) (h_le : x ≤ 1) : x ≤ 1 := h_le

/-- The hypothesis can hold. -/
theorem le_one_nonvacuous : (0 : Rat) ≤ 1 := le_one 0 {witness}

end Formal.Order
end
end
"""
HIJACK = """
/-- An order class whose instance makes `≤` on `Rat` mean `True`. -/
class MyOrder extends LE Rat

instance : MyOrder := ⟨⟨fun _ _ => True⟩⟩
"""
ORDER_CLAIM = '''id = "order"
title = "At most one"
source = "Fixture of the gate tests"
depends_on = []
statement = "A rational at most one is at most one."
argument = "The hypothesis is the conclusion."

[lean]
module = "Formal.Order"
declaration = "Formal.Order.le_one"
witness = "Formal.Order.le_one_nonvacuous"
open = ["Formal.Order"]
statement = """
∀ (x : Rat) (h_le : x ≤ 1), x ≤ 1
"""

[[hypotheses]]
binder = "h_le"
meaning = "x is at most one."
assumed = true
justification = "Fixture."
'''


def test_an_le_instance_with_a_trailing_space_in_the_pinned_statement_fails(project, capsys) -> None:  # type: ignore[no-untyped-def]
    """The attack of issue 25: a `class … extends LE Rat` instance makes `≤` mean `True`; the
    claim is re-pinned and one trailing space added to its pinned statement, so that the raw
    registry text differs. The statement's compiled meaning changed: an error needing approval."""
    project.switch("main")
    project.write("Formal/Order.lean", ORDER.format(attack="", witness="(by decide)"))
    project.write("claims/order.toml", ORDER_CLAIM)
    code, out = _sequent(["claims", "pin", "order", "--project", str(project.root)], capsys)
    assert code == 0, out
    project.commit("a claim about the order of Rat")
    project.branch("attack")
    before = project.read("claims/order.toml")

    project.write("Formal/Order.lean", ORDER.format(attack=HIJACK, witness="trivial"))
    code, out = _sequent(["claims", "pin", "order", "--project", str(project.root)], capsys)
    pinned = code == 0
    if not pinned:  # the token policy refuses the module: pin it as a hand-edited registry would
        assert "does not build" in out, out
        project.write("claims/order.toml", before.replace(
            re.findall(r'"\(statement\)" = "([0-9a-f]+)"', before)[0], "0" * 40))
    text = project.read("claims/order.toml")
    assert text != before
    project.write("claims/order.toml", text.replace("x ≤ 1\n\"\"\"", "x ≤ 1 \n\"\"\"", 1))
    assert project.read("claims/order.toml").count("x ≤ 1 \n") == 1
    project.commit("a helpful order instance; re-pinned")

    report = _gate(project)
    failed = _failed(report)
    messages = failed.get("order: meaning changes are approved", [])
    assert messages, failed
    assert "the statement itself" in messages[0]
    assert "the same up to white space, but Lean elaborates it differently" in messages[0]
    assert "sequent claims approve order" in messages[0]
    if pinned:  # honest pins: before this rule, nothing else failed (issue 25: warnings only)
        assert set(failed) == {"order: meaning changes are approved"}, failed


CAP = """module

public section
noncomputable section

namespace Formal.Cap

/-- A capacity, configured by an instance. -/
class Cap where
  cap : Nat

instance : Cap := ⟨5⟩
{attack}
/-- Every small number is below the capacity. -/
theorem cap_small (n : Nat) (h_small : n < 3) : n < Cap.cap :=
  Nat.lt_of_lt_of_le h_small (by decide)

/-- The hypothesis can hold. -/
theorem cap_small_nonvacuous : 1 < Cap.cap := cap_small 1 (by decide)

end Formal.Cap
end
end
"""
CAP_CLAIM = '''id = "cap"
title = "Small numbers are below the capacity"
source = "Fixture of the gate tests"
depends_on = []
statement = "Every number below 3 is below the capacity."
argument = "3 ≤ the capacity."

[lean]
module = "Formal.Cap"
declaration = "Formal.Cap.cap_small"
witness = "Formal.Cap.cap_small_nonvacuous"
open = ["Formal.Cap"]
statement = """
∀ (n : Nat) (h_small : n < 3), n < Cap.cap
"""

[[hypotheses]]
binder = "h_small"
meaning = "n is small."
assumed = true
justification = "Fixture."
'''


def test_an_instance_the_policy_allows_with_honest_pins_and_a_trailing_space_fails(
        project, capsys) -> None:  # type: ignore[no-untyped-def]
    """The same class of attack with an instance the token policy lets through (a later
    instance of a project class): the statement now says `n < 1000`, Formal/ builds, the claim
    is honestly re-pinned, a trailing space is added to its pinned text. Every other check
    passes; the meaning rule alone fails the gate, until the new meaning is approved."""
    project.switch("main")
    project.write("Formal/Cap.lean", CAP.format(attack=""))
    project.write("claims/cap.toml", CAP_CLAIM)
    code, out = _sequent(["claims", "pin", "cap", "--project", str(project.root)], capsys)
    assert code == 0, out
    project.commit("a claim about a capacity")
    project.branch("attack")

    project.write("Formal/Cap.lean", CAP.format(attack="\ninstance : Cap := ⟨1000⟩\n"))
    code, out = _sequent(["claims", "pin", "cap", "--project", str(project.root)], capsys)
    assert code == 0, out  # Formal/ builds: the token policy allows the instance
    project.replace("claims/cap.toml", "n < Cap.cap\n\"\"\"", "n < Cap.cap \n\"\"\"")
    project.commit("a roomier capacity; re-pinned")

    failed = _failed(_gate(project))
    assert set(failed) == {"cap: meaning changes are approved"}, failed
    (message,) = failed["cap: meaning changes are approved"]
    assert "the statement itself" in message and "instCap_1" in message, message
    assert "the same up to white space, but Lean elaborates it differently" in message
    assert "sequent claims approve cap" in message

    code, out = _sequent(["claims", "approve", "cap", "--project", str(project.root),
                          "--reason", "the capacity is 1000 now"], capsys)
    assert code == 0, out
    project.commit("approve the new capacity")
    report = _gate(project)
    assert report.ok, _failed(report)
    meaning = next(c for c in report.cases if c.name == "cap: meaning changes are approved")
    assert meaning.status is Status.warned
    assert "the capacity is 1000 now" in meaning.findings[0].message
