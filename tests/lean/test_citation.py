"""A submission may not cite its own target (issue 25, item 4): decided on the compiled
environment — the constants the proof term reaches, through the project's modules — with a
real embedded Lean. The claim-level path (API, MCP, the draft loop) is in tests/service and
tests/agents; here, every way of reaching the target that text would miss."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, CheckResult, Policy, Reason
from pipeline.settings import Settings
from tests.conftest import make_settings, needs_lean

pytestmark = [pytest.mark.lean, needs_lean]

MODULE = """module
public section
noncomputable section
namespace Formal.M

@[expose] def P (n : Nat) : Prop := 3 < n

theorem target (n : Nat) (h_big : 7 < n) : P n := by unfold P; omega

/-- a project lemma whose proof uses the target -/
theorem via_target (n : Nat) (h : 7 < n) : P n := target n h

/-- a second hop -/
theorem via_via (n : Nat) (h : 7 < n) : P n := via_target n h

/-- a lemma proved independently -/
theorem unrelated (n : Nat) (h : 3 < n) : P n := h

end Formal.M
end
end
"""

STATEMENT = "∀ n : Nat, 7 < n → Formal.M.P n"


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checker]:
    root = tmp_path_factory.mktemp("cite") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test\n")
    (root / "Formal").mkdir()
    (root / "Formal" / "M.lean").write_text(MODULE, encoding="utf-8")
    settings: Settings = make_settings(root, pool_size=1)
    with Checker(settings, expected_leases=0) as checker:  # one-shot: no process nobody leases
        report = build_project(settings, checker, jobs=1)
        assert not report.failures(), [f.result.diagnostics() for f in report.failures() if f.result]
        yield checker


def _request(proof: str) -> CheckRequest:
    source = f"import Formal.M\n\ntheorem sequent_submission : {STATEMENT} :=\n{proof}\n"
    return CheckRequest(source=source, imports=("Formal.M",), file_name="Submission.lean", policy=Policy(),
                        expected_declarations=("sequent_submission",), uncitable=("Formal.M.target",))


def _cites(result: CheckResult, *path: str) -> None:
    assert not result.accepted, result.diagnostics()
    assert Reason.forbidden in result.reasons, result.reasons
    assert result.environment is not None
    issues = [i for i in result.environment.issues if i.rule == "cites_target"]
    assert issues, result.environment.issues
    message = issues[0].message
    assert "Formal.M.target" in message and " → ".join(path) in message, message


@pytest.mark.parametrize(("proof", "path"), [
    ("fun n h => Formal.M.target n h", ("sequent_submission", "Formal.M.target")),
    ("@Formal.M.target", ("sequent_submission", "Formal.M.target")),
    ("by\n  intro n h\n  exact (fun x => x) (Formal.M.target n h)", ("Formal.M.target",)),
    ("fun n h => (rfl : Formal.M.P n = Formal.M.P n) ▸ Formal.M.target n h", ("Formal.M.target",)),
    ("by\n  intro n h\n  have := Formal.M.target\n  exact this n h", ("Formal.M.target",)),
    ("Formal.M.via_target", ("sequent_submission", "Formal.M.via_target", "Formal.M.target")),
    ("by\n  intro n h\n  exact Formal.M.via_via n h", ("Formal.M.via_via", "Formal.M.via_target", "Formal.M.target")),
])
def test_a_proof_that_reaches_its_target_is_rejected_with_the_path(checker: Checker, proof: str,
                                                                     path: tuple[str, ...]) -> None:
    _cites(checker.check(_request(proof)), *path)


def test_a_proof_search_that_finds_the_target_is_rejected(checker: Checker) -> None:
    """``exact?`` closes the goal with whatever lemma it finds; here only the target and the
    lemmas proved from it fit, so the compiled term reaches the target."""
    result = checker.check(_request("by\n  intro n h\n  exact?"))
    _cites(result, "Formal.M.target")


def test_legitimate_proofs_are_accepted(checker: Checker) -> None:
    own = checker.check(_request("by\n  intro n h\n  unfold Formal.M.P\n  omega"))
    assert own.accepted, own.diagnostics()
    other = checker.check(_request("fun n h => Formal.M.unrelated n (by omega)"))
    assert other.accepted, other.diagnostics()
    # without a target to protect, the same citing file is an ordinary accepted check
    plain = checker.check(_request("@Formal.M.target").model_copy(update={"uncitable": ()}))
    assert plain.accepted, plain.diagnostics()


def test_the_iteration_path_decides_on_the_compiled_environment_too(checker: Checker) -> None:
    """``diagnose`` (check_proof, multi_attempt) compiles an attempt Lean accepted and audits
    it: a citing attempt is never reported as accepted."""
    _cites(checker.diagnose(_request("fun n h => Formal.M.via_target n h")), "Formal.M.via_target", "Formal.M.target")
    ok = checker.diagnose(_request("by\n  intro n h\n  unfold Formal.M.P\n  omega"))
    assert ok.accepted and ok.environment is not None, ok.diagnostics()
    wrong = checker.diagnose(_request("by\n  intro n h\n  exact h"))
    assert not wrong.accepted and Reason.error in wrong.reasons


def test_the_path_names_private_constants_as_written() -> None:
    from pipeline.lean.olean.reach import render_path

    assert render_path(["_private.Sub.0.sequent_submission._proof_1", "Formal.M.target"]) == \
        "sequent_submission._proof_1 → Formal.M.target"
