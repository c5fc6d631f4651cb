"""The claims check against the real (embedded) Lean: the library builds, every claim is
fully proved, and each kind of inconsistency fails with a precise message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.claims.assemble import assemble_proof
from pipeline.claims.proof_status import ClaimsReport, evaluate
from pipeline.claims.registry import load_registry
from pipeline.commands.app import run
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker, all_or_raise
from pipeline.lean.models import Reason
from pipeline.settings import Settings
from tests.claims.fixtures import BuiltLibrary, ProjectFactory, copy_sources, edit, project_settings
from tests.conftest import needs_lean
from tests.service.proofs import EQUILIBRIUM_PROOF

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]


def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str]:
    """Run ``sequent ARGS --project ROOT`` in-process with the test's Lean and cache."""
    monkeypatch.setenv("SEQUENT_LEAN_HOME", str(settings.lean_dir))
    monkeypatch.setenv("SEQUENT_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("SEQUENT_POOL_SIZE", "1")
    monkeypatch.setenv("SEQUENT_LEAN_BACKEND", "embedded")
    capsys.readouterr()
    code = 0
    try:
        run([*args, "--project", str(settings.project_root)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_library_builds_and_every_claim_is_fully_proved(
        built_library: BuiltLibrary, project_copy: ProjectFactory,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert built_library.report.ok, [(m.module, m.result.diagnostics() if m.result else m.skipped_reason)
                                     for m in built_library.report.failures()]
    settings = project_copy("clean")
    with Checker(settings) as checker:
        build = build_project(settings, checker, jobs=1)
        assert build.ok and build.rebuilt == []  # the copied build is up to date
        report = evaluate(settings, checker, EVIDENCE_CHECKS, build=build)
    assert report.ok and report.issues == (), [str(i) for i in report.issues]
    assert len(report.claims) == 9
    for status in report.claims:
        assert status.stated and status.proved and status.fully_proved, status.claim.id
        assert status.proof is not None and status.proof.accepted
        assert status.witness is status.proof
    code, out = cli(settings, monkeypatch, capsys, "claims", "check")
    assert code == 0, out
    assert "consistent: 9 claims, 9 proved" in out


@pytest.fixture(scope="module")
def broken(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> ClaimsReport:
    """One copy with independent breakages in different claims, evaluated once."""
    root = copy_sources(tmp_path_factory.mktemp("claims-broken") / "repo")
    shutil.copytree(built_library.settings.build_dir, root / ".sequent" / "build")
    settings = project_settings(root, built_library.cache_db)
    formal, claims = settings.formal_path, settings.claims_path
    # 1. the Lean theorem is weakened (and its witness follows it, so the module builds)
    edit(formal / "Conformal.lean", "    1 - α ≤ coverage := by\n",
         "    1 - α ≤ coverage ∨ α = 7 := by\n  apply Or.inl\n")
    edit(formal / "Conformal.lean", "((4 : Nat) + 1) :=\n", "((4 : Nat) + 1) ∨ (1 / 5 : Rat) = 7 :=\n")
    # 2. a definition the statement depends on is redefined to `True`
    edit(formal / "ProverEstimator.lean",
         "@[expose] def Stable (f : Rat → Rat → Rat) : Prop :=\n"
         "  ∀ a b a' b', absDiff (f a b) (f a' b') ≤ max (absDiff a a') (absDiff b b')",
         "@[expose] def Stable (_f : Rat → Rat → Rat) : Prop := True")
    # 3. a Lean hypothesis is missing from the registry
    text = (claims / "debate_tree.toml").read_text(encoding="utf-8")
    (claims / "debate_tree.toml").write_text(text.split('[[hypotheses]]\nbinder = "h_depth"')[0],
                                             encoding="utf-8")
    # 4. a registry hypothesis is missing from Lean
    with (claims / "mentor_queries.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[hypotheses]]\nbinder = "h_finite"\nmeaning = "H is finite"\nassumed = true\n'
                'justification = "it is a list"\n')
    # 5. the pinned statement itself does not elaborate
    edit(claims / "zero_failure_certificate.toml", "(h_independent : passProb = allPass qs)",
         "(h_independent : passProb = allPas qs)")
    with Checker(settings) as checker:
        return evaluate(settings, checker, EVIDENCE_CHECKS)


def _messages(report: ClaimsReport, claim_id: str) -> list[str]:
    return [str(i) for i in report.get(claim_id).issues]


def test_a_weakened_lean_statement(broken: ClaimsReport) -> None:
    status = broken.get("conformal_coverage")
    assert status.stated and not status.proved and status.module_built
    [message] = _messages(broken, "conformal_coverage")
    assert message.startswith("claims/conformal_coverage.toml: lean.statement: "
                              "Formal.Conformal.conformal_coverage does not prove the pinned statement: "
                              "the types differ at "), message
    assert "⟨declaration: " in message and "⟨pinned: " in message  # the difference is shown


def test_a_changed_definition(broken: ClaimsReport) -> None:
    status = broken.get("prover_estimator_composition")
    assert not status.proved and not status.module_built and status.proof is None
    messages = _messages(broken, "prover_estimator_composition")
    assert any(m.startswith("claims/prover_estimator_composition.toml: "
                            "lean.definitions.Formal.ProverEstimator.Stable: "
                            "Formal.ProverEstimator.Stable changed since it was pinned") for m in messages)
    assert any(str(i).startswith("Formal/ProverEstimator.lean: build: Formal.ProverEstimator does not build")
               for i in broken.issues)


def test_a_hypothesis_missing_from_the_registry(broken: ClaimsReport) -> None:
    status = broken.get("debate_tree")
    assert status.stated and status.proof is not None and status.proof.accepted and not status.proved
    assert _messages(broken, "debate_tree") == [
        ("claims/debate_tree.toml: hypotheses: the Lean hypothesis h_depth of "
        "Formal.Debate.honest_debater_wins is missing from the registry (add a [[hypotheses]] entry for it)")]
    # a claim that depends on it is proved but no longer fully proved
    dependent = broken.get("debate_equilibrium")
    assert dependent.proved and not dependent.fully_proved


def test_a_registry_hypothesis_missing_from_lean(broken: ClaimsReport) -> None:
    assert not broken.get("mentor_queries").proved
    assert _messages(broken, "mentor_queries") == [
        ("claims/mentor_queries.toml: hypotheses[1].binder: h_finite is not a hypothesis of "
        "Formal.Mentor.mentor_queries in Lean (its h_ binders: h_realizable)")]


def test_a_statement_that_does_not_elaborate(broken: ClaimsReport) -> None:
    status = broken.get("zero_failure_certificate")
    assert not status.stated and not status.proved
    messages = _messages(broken, "zero_failure_certificate")
    assert any(m.startswith("claims/zero_failure_certificate.toml: lean.statement: the pinned statement "
                            "does not elaborate (its line 4): Unknown identifier `allPas`") for m in messages), messages


def test_untouched_claims_stay_proved_from_the_cache(broken: ClaimsReport) -> None:
    for claim_id in ("sgd_chung", "bayes_surprise"):
        status = broken.get(claim_id)
        assert status.fully_proved and status.issues == ()
        assert status.proof is not None and status.proof.cached
    assert not broken.ok


def test_check_exit_codes(project_copy: ProjectFactory, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    settings = project_copy("dup")
    src = settings.claims_path / "sgd_chung.toml"
    (settings.claims_path / "sgd_copy.toml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    code, out = cli(settings, monkeypatch, capsys, "claims", "check")
    assert code == 1
    assert "claims/sgd_copy.toml: id: duplicate id 'sgd_chung': also used by claims/sgd_chung.toml" in out
    assert "error(s) in the claims registry" in out
    (tmp_path / "empty").mkdir()
    code, out = cli(settings.model_copy(update={"project_root": tmp_path / "empty"}), monkeypatch, capsys,
                    "claims", "check")
    assert code == 2 and "the claims folder does not exist" in out


def test_assembled_proofs_are_checked_against_the_pinned_statement(built_library: BuiltLibrary) -> None:
    settings = built_library.settings
    claim = load_registry(settings).get("debate_equilibrium")
    good = assemble_proof(claim, EQUILIBRIUM_PROOF)
    cites = assemble_proof(claim, "by\n  intro p q ε v wH wD h1 h2 h3 h4 h5 h6\n"
                                  "  exact dishonesty_bound p q ε v wH wD h1 h2 h3 h4 h5 h6")
    wrong = assemble_proof(claim, "by\n  intros\n  trivial")
    cheat = assemble_proof(claim, "by\n  intros\n  sorry")
    # two Lean sessions: the three proofs of one statement compiled as one module, then the two
    # Lean accepted (the sorry is refused before Lean); the replay of an accepted check is
    # tested in tests/lean/test_replay.py (off elsewhere, tests/conftest.py)
    with Checker(settings, expected_leases=2) as checker:
        ok, cited, bad, sorry = all_or_raise(checker.check_all([good, cites, wrong, cheat]))
    assert ok.accepted, ok.diagnostics()
    assert ok.environment is not None
    # the claim's own declaration proves it, but a proof may not cite its own target (issue 25)
    assert not cited.accepted and Reason.forbidden in cited.reasons
    assert "the proof uses Formal.Equilibrium.dishonesty_bound" in cited.diagnostics()
    assert not bad.accepted and Reason.error in bad.reasons
    assert not sorry.accepted and Reason.sorry in sorry.reasons
