"""The gate end to end: temporary git repositories of a tiny project, real Lean.

Lean time is the cost here, so every test shares one state folder (built .olean files and
the result cache): the fixture's ``Formal/Basic.lean`` is compiled, and its claim checked,
once per distinct content.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.commands.app import run
from pipeline.gate.models import ChangeKind, GateReport, Severity, Status
from pipeline.gate.runner import GateOptions, run_gate
from pipeline.settings import Settings
from tests.conftest import lean_home, needs_lean

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

FIXTURE = Path(__file__).parent / "fixture_project"
BASIC = "Formal/Basic.lean"
CLAIM = "claims/doubling.toml"
STATEMENT = "(n : Nat) (h_small : n < 100) : double n = 2 * n"


@pytest.fixture(scope="module")
def gate_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate-state")


@pytest.fixture
def env(gate_state: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """What a command run (the CLI, a git hook) needs to find Lean and the shared state."""
    values = {
        "SEQUENT_LEAN_HOME": str(lean_home()),
        "SEQUENT_STATE_DIR": str(gate_state),
        "SEQUENT_POOL_SIZE": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    yield values


@pytest.fixture
def project(git_project, env):  # type: ignore[no-untyped-def]
    """The fixture project committed on ``main``, with a ``feature`` branch checked out."""
    shutil.copytree(FIXTURE, git_project.root, dirs_exist_ok=True)
    git_project.commit("the fixture project")
    git_project.branch("feature")
    return git_project


def _gate(project, **options: object) -> GateReport:  # type: ignore[no-untyped-def]
    settings = Settings.load(project.root)
    return run_gate(settings, GateOptions(**options))  # type: ignore[arg-type]


def _case(report: GateReport, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.cases if c.name == name)


def _errors(report: GateReport) -> list[str]:
    return [f"{f.location}: {f.message}" for _, f in report.findings(Severity.error)]


def _sequent(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_sorry_fails_naming_file_and_line_in_every_format(project, capsys, tmp_path, monkeypatch) -> None:
    project.write("Formal/Extra.lean", "module\n\npublic section\n\ntheorem extra_fact : 2 + 2 = 4 := by\n"
                  "  sorry\n\nend\n")
    project.commit("a theorem proved with sorry")
    project.switch("main")  # check the branch from outside: it is exported, not checked out
    before = project.status()
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "out" / "gate.xml"
    root = str(project.root)

    code, out, _ = _sequent(["gate", "--project", root, "--base", "main", "--head", "feature",
                             "--format", "junit", "--output", str(junit)], capsys)
    assert code == 1
    assert "Formal/Extra.lean:6" in out  # the human summary still reaches the terminal
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and int(suites.get("failures", "0")) >= 1
    failures = {
        case.get("name"): case.find("failure")
        for suite in suites.iter("testsuite") for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert "Formal.Extra" in failures
    assert "Formal/Extra.lean:6:2" in (failures["Formal.Extra"].text or "")
    # the claim itself does not rest on Formal.Extra: it stays proved
    assert "doubling: proves the pinned statement" not in failures
    assert summary.read_text().startswith("earlier step\n## ❌ Sequent gate failed")

    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    code, out, _ = _sequent(["gate", "--project", root, "--base", "main", "--head", "feature",
                             "--format", "github"], capsys)
    assert code == 1
    assert "::error file=Formal/Extra.lean,line=6,col=3," in out
    assert "::warning file=Formal/Extra.lean,line=5," in out  # a new theorem without a claim

    code, out, _ = _sequent(["gate", "--project", root, "--base", "main", "--head", "feature",
                             "--format", "markdown", "--new-theorem", "error"], capsys)
    assert code == 1
    assert out.startswith("## ❌ Sequent gate failed")
    assert "| ❌ | Formal/Extra.lean:6:2 | Formal.Extra |" in out
    assert "| ❌ | Formal/Extra.lean:5 | new theorems have claims |" in out

    assert project.status() == before  # the user's working tree was never touched
    assert project.repo.active_branch.name == "main"


def test_axiom_fails(project) -> None:
    project.write("Formal/Extra.lean", "module\n\npublic section\n\naxiom everything_holds : 1 = 2\n\n"
                  "theorem uses_it : 1 = 2 := everything_holds\n\nend\n")
    project.commit("an axiom")
    report = _gate(project, base="main")
    assert not report.ok and report.exit_code == 1
    build = _case(report, "Formal.Extra")
    assert build.status is Status.failed
    (finding,) = [f for f in build.findings if "axiom" in f.message]
    assert finding.location is not None
    assert (finding.location.file, finding.location.line) == ("Formal/Extra.lean", 5)
    assert _case(report, "doubling: trust policy").status is Status.passed
    assert report.head.working_tree and report.head.label == "working tree"


def test_pre_push_hook_blocks_a_sorry_push(project, env, tmp_path, capsys) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    project.repo.git.remote("add", "origin", str(remote))
    project.repo.git.push("-q", "origin", "main")
    project.write("Formal/Extra.lean", "module\n\npublic section\n\ntheorem later : True := by\n  sorry\n\nend\n")
    project.commit("sorry")
    code, _, _ = _sequent(["hooks", "install", "--project", str(project.root)], capsys)
    assert code == 0
    push_env = {**os.environ, **env}
    push = subprocess.run(["git", "push", "origin", "feature"], cwd=project.root, env=push_env,
                          capture_output=True, text=True, check=False)
    assert push.returncode != 0
    assert "Formal/Extra.lean:6" in push.stdout + push.stderr
    assert "blocked by the sequent gate" in push.stderr
    listed = subprocess.run(["git", "ls-remote", str(remote)], capture_output=True, text=True, check=True)
    assert "refs/heads/feature" not in listed.stdout
    assert "refs/heads/main" in listed.stdout


def test_clean_branch_passes(project, capsys) -> None:
    project.replace(BASIC, "  unfold double; omega", "  simp only [double]; omega")
    project.replace(CLAIM, 'title = "Doubling is multiplication by two"', 'title = "Doubling doubles"')
    project.commit("a shorter proof and a better title")
    code, out, err = _sequent(["gate", "--project", str(project.root), "--base", "main"], capsys)
    assert code == 0, out + err
    assert "Sequent gate passed" in out

    report = _gate(project, base="main", head="feature")
    assert report.ok, _errors(report)
    assert report.head.working_tree  # HEAD of a clean working tree: checked in place
    claim_cases = {c.check: c.status for c in report.cases if c.claim_id == "doubling"}
    assert claim_cases == {
        check: Status.passed
        for check in ("statement", "sorry", "trust", "witness", "consistency", "pinned_statement",
                      "meaning", "weakening", "statement_review")
    }
    (change,) = report.declaration_changes
    assert (change.name, change.change, change.statement_changed) == (
        "Formal.Basic.double_eq", ChangeKind.changed, False)
    (claim_change,) = report.claim_changes
    assert claim_change.fields == ("title",)


def test_weakened_pinned_statement_fails(project) -> None:
    project.replace(BASIC, STATEMENT, "(n : Nat) (h_small : n < 100) : double n ≥ n")
    project.replace(BASIC, "double_eq_nonvacuous : double 3 = 2 * 3", "double_eq_nonvacuous : double 3 ≥ 3")
    project.commit("weaken the theorem (the library still builds)")
    report = _gate(project, base="main")
    assert not report.ok
    pinned = _case(report, "doubling: pinned statement unchanged")
    assert pinned.status is Status.failed
    (finding,) = pinned.findings
    assert "changed in Lean without a matching change to claims/doubling.toml" in finding.message
    assert finding.location is not None and (finding.location.file, finding.location.line) == (BASIC, 12)
    statement = _case(report, "doubling: proves the pinned statement")
    assert statement.status is Status.failed
    assert any("does not prove the pinned statement" in f.message for f in statement.findings)
    assert _case(report, "Formal.Basic").status is Status.passed
    changes = {c.name: c.statement_changed for c in report.declaration_changes}
    assert changes == {"Formal.Basic.double_eq": True, "Formal.Basic.double_eq_nonvacuous": True}


def test_deleted_proof_fails(project) -> None:
    text = project.read(BASIC)
    start = text.index("/-- Doubling is multiplication")
    end = text.index("/-- The hypothesis can hold")
    project.write(BASIC, text[:start] + text[end:].replace("double_eq 3 (by decide)", "by decide"))
    project.commit("drop the proof")
    report = _gate(project, base="main")
    assert not report.ok
    errors = _errors(report)
    assert any("the proof of claim doubling (Formal.Basic.double_eq) was removed" in e for e in errors)
    assert any("has no declaration Formal.Basic.double_eq" in e for e in errors)
    assert {c.name for c in report.declaration_changes if c.change is ChangeKind.removed} == {
        "Formal.Basic.double_eq"}


# ---- attacks on what a statement means (decided on the compiled environment) --------------------

HIJACK = "@[instance high] def hijack : HMul Nat Nat Nat := ⟨fun _ b => b + b⟩\n\n"


def test_instance_hijack_under_identical_text_fails(project) -> None:
    """A high-priority instance makes ``2 * n`` mean ``n + n``: the statement's text, the registry
    and every pin stay byte-identical, and the proof becomes ``rfl``. The token policy refuses the
    instance; the compiled meaning would differ from the pin as well (tests/claims/test_meaning.py
    shows that line on its own with an instance the policy lets through)."""
    text = project.read(BASIC)
    start = text.index("/-- Doubling is multiplication")
    project.write(BASIC, text[:start] + HIJACK + text[start:].replace("  unfold double; omega", "  rfl"))
    project.commit("a helpful instance")
    report = _gate(project, base="main")
    assert not report.ok
    messages = [f.message for _, f in report.findings(Severity.error)]
    assert any("instance" in m for m in messages), messages


def test_fake_witness_fails(project) -> None:
    """A "witness" that restates the theorem with its hypothesis still open."""
    project.replace(BASIC, "theorem double_eq_nonvacuous : double 3 = 2 * 3 := double_eq 3 (by decide)",
                    "theorem double_eq_nonvacuous : ∀ n, n < 100 → double n = 2 * n :=\n"
                    "  fun n h => double_eq n h")
    project.commit("a witness that proves nothing")
    report = _gate(project, base="main")
    assert not report.ok
    witness = _case(report, "doubling: witness accepted")
    assert witness.status is Status.failed
    assert any("left open" in f.message for f in witness.findings), witness.findings


def test_hidden_axiom_behind_a_raw_string_fails(project) -> None:
    project.write("Formal/Extra.lean", 'module\n\npublic section\n\ndef s : String := r"\\"\n'
                  "axiom helper : ∀ n : Nat, n < n + 0\n\n"
                  "theorem bad : False := Nat.lt_irrefl 0 (helper 0)\n\nend\n")
    project.commit("a string")
    report = _gate(project, base="main")
    assert not report.ok
    build = _case(report, "Formal.Extra")
    assert build.status is Status.failed
    assert any("axiom" in f.message for f in build.findings)


# ---- build artifacts the branch supplies are never trusted (issue 25, item 1) -------------------

PROOF = "  have _ := h_small\n  unfold double; omega"


def _attacker_build(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A build of ``main`` made elsewhere (another key: another machine or user), in the
    project's own ``.sequent/build``, with the manifest's fingerprints then recomputed for the
    branch's sources, as an attacker who commits a build would."""
    from pipeline.lean.build import build_project
    from pipeline.lean.checker import Checker

    settings = Settings.load(project.root, provenance_key=tmp_path / "attacker.key",
                             artifact_cache=tmp_path / "attacker-store")
    with Checker(settings, expected_leases=0) as checker:  # one-shot: no process nobody leases
        assert build_project(settings, checker).ok


def _recompute_fingerprints(root: Path) -> None:
    import json

    from pipeline.lean.build import discover
    from pipeline.lean.buildplan import plan

    settings = Settings.load(root)
    manifest_path = settings.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    _dirty, prints = plan(discover(settings), {})
    for module, entry in manifest.items():
        entry["fingerprint"] = prints[module]
    manifest_path.write_text(json.dumps(manifest))


@pytest.fixture
def in_place_state(project, env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The project with its state in the default place, ``<project>/.sequent`` (git-ignored)."""
    monkeypatch.delenv("SEQUENT_STATE_DIR")
    env.pop("SEQUENT_STATE_DIR")
    project.switch("main")
    project.write(".gitignore", ".sequent/\n")
    project.commit("ignore the state folder")
    project.switch("feature")
    project.repo.git.merge("-q", "main")
    return project


def test_a_committed_build_is_refused_by_claims_check_the_gate_and_the_hook(
        in_place_state, env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    project = in_place_state
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    project.repo.git.remote("add", "origin", str(remote))
    project.repo.git.push("-q", "origin", "main")
    _attacker_build(project, tmp_path)  # a build of main's sources
    project.replace(BASIC, PROOF, "  sorry")
    _recompute_fingerprints(project.root)
    project.repo.git.add("-f", ".sequent/build")
    project.commit("a faster proof, with its build")
    assert ".sequent/build/Formal/Basic.olean" in project.repo.git.ls_files(".sequent")
    root = str(project.root)

    code, out, err = _sequent(["claims", "check", "--project", root], capsys)
    assert code == 2 and "Traceback" not in out + err
    assert "tracks" in out + err and ".sequent/build/Formal/Basic.olean" in out + err

    code, out, err = _sequent(["gate", "--project", root, "--base", "main"], capsys)
    assert code == 2
    assert "under the pipeline's state folder" in out + err and "git rm -r --cached -- .sequent" in out + err

    code, _, _ = _sequent(["hooks", "install", "--project", root], capsys)
    assert code == 0
    push = subprocess.run(["git", "push", "origin", "feature"], cwd=project.root, env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    assert push.returncode != 0
    assert "under the pipeline's state folder" in push.stdout + push.stderr
    listed = subprocess.run(["git", "ls-remote", str(remote)], capture_output=True, text=True, check=True)
    assert "refs/heads/feature" not in listed.stdout

    # checked as a ref from main's checkout: the commit's build is never read, and named
    project.switch("main")
    report = _gate(project, base="main", head="feature")
    assert not report.ok
    errors = _errors(report)
    assert any("the commit tracks" in e and ".sequent/build/Formal/Basic.olean" in e for e in errors), errors
    assert any("Formal/Basic.lean" in e and "sorry" in e for e in errors), errors  # built from source


def test_an_untracked_build_from_elsewhere_is_rebuilt_and_the_sorry_named(in_place_state, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same build left untracked in the state folder (copied in, or dropped by an agent),
    fingerprints recomputed for the branch's sources: no valid signature, so the modules are
    compiled from source and the sorry is found."""
    project = in_place_state
    _attacker_build(project, tmp_path)
    project.replace(BASIC, PROOF, "  sorry")
    _recompute_fingerprints(project.root)
    project.commit("a faster proof")
    assert project.repo.git.ls_files(".sequent") == ""

    code, out, err = _sequent(["claims", "check", "--json", "--project", str(project.root)], capsys)
    assert code == 1, out + err
    import json

    (claim,) = json.loads(out)["claims"]
    assert (claim["id"], claim["proved"], claim["fully_proved"]) == ("doubling", False, False)
    assert "sorry" in out
