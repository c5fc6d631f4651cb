"""Sorting the claims report and the build into gate cases (pure), and reading registry
entries from git objects."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.claims.models import Claim, Issue
from pipeline.claims.proof_status import ClaimsReport, ClaimStatus
from pipeline.claims.registry import parse_claim
from pipeline.gate.claim_cases import base_claim_pins, head_claim_pins, report_cases
from pipeline.gate.models import Severity, Status
from pipeline.lean.build import BuildReport, ModuleBuild
from pipeline.lean.models import CheckResult, Reason, Verdict, Violation
from pipeline.settings import Settings
from pipeline.vcs import GitRepository

FIXTURE = Path(__file__).parent / "fixture_project"


def _claim(tmp_path: Path) -> Claim:
    shutil.copytree(FIXTURE, tmp_path / "p")
    settings = Settings.load(tmp_path / "p")
    claim, issues = parse_claim(settings, settings.claims_path / "doubling.toml")
    assert claim is not None and issues == []
    return claim


def _result(verdict: Verdict, *, reasons=(), violations=()) -> CheckResult:  # type: ignore[no-untyped-def]
    return CheckResult(verdict=verdict, reasons=tuple(reasons), violations=tuple(violations),
                       backend="embedded", lean_version="test", elapsed_s=0.5, cache_key="k")


def _cases(report: ClaimsReport, build: BuildReport, prefix: str = "") -> dict[str, object]:
    cases = report_cases(report, build, {"doubling": ["Formal.Basic", "Formal.Util"]}, prefix)
    return {c.name: c for c in cases}


def test_a_proved_claim_passes_every_case(tmp_path: Path) -> None:
    claim = _claim(tmp_path)
    ok = _result(Verdict.accepted)
    status = ClaimStatus(claim=claim, stated=True, proved=True, fully_proved=True, module_built=True,
                         proof=ok, witness=ok)
    build = BuildReport(modules=(ModuleBuild(module="Formal.Basic", path="Formal/Basic.lean",
                                             up_to_date=True),), elapsed_s=0.1)
    cases = _cases(ClaimsReport(claims=(status,), issues=()), build)
    assert list(cases) == [
        "registry loads", "doubling: proves the pinned statement", "doubling: no sorry",
        "doubling: trust policy", "doubling: witness accepted", "doubling: consistent with Lean",
    ]
    assert {c.status for c in cases.values()} == {Status.passed}


def test_issues_and_build_problems_land_in_the_right_case(tmp_path: Path) -> None:
    claim = _claim(tmp_path)
    sorry = Violation(rule="sorry", token="sorry", line=9, column=4, message="`sorry` leaves the proof unfinished")
    axiom = Violation(rule="axiom", token="axiom", line=3, column=0, message="declares a new axiom `boom`")
    build = BuildReport(modules=(
        ModuleBuild(module="Formal.Util", path="Formal/Util.lean", up_to_date=False,
                    result=_result(Verdict.rejected, reasons=[Reason.sorry, Reason.axiom],
                                   violations=[sorry, axiom])),
        ModuleBuild(module="Formal.Basic", path="Formal/Basic.lean", up_to_date=False,
                    skipped_reason="not built: its import Formal.Util failed"),
        ModuleBuild(module="Formal.Other", path="Formal/Other.lean", up_to_date=False,
                    result=_result(Verdict.rejected, reasons=[Reason.sorry],
                                   violations=[sorry])),
    ), elapsed_s=1.0)
    issues = (
        Issue(file="Formal/Basic.lean", field="build", message="Formal.Basic does not build"),
        Issue(file="claims/broken.toml", field="(file)", message="malformed TOML"),
        Issue(file="claims/doubling.toml", field="lean.module", claim_id="doubling",
              message="Formal.Basic does not build, so the claim cannot be checked"),
        Issue(file="claims/doubling.toml", field="lean.definitions.Formal.Basic.double",
              claim_id="doubling", message="changed since it was pinned"),
        Issue(file="claims/doubling.toml", field="hypotheses", claim_id="doubling",
              severity="warning", message="checks were not resolved"),
    )
    status = ClaimStatus(claim=claim, stated=False, proved=False, fully_proved=False, module_built=False,
                         issues=issues[2:])
    cases = _cases(ClaimsReport(claims=(status,), issues=issues), build, prefix="sub")

    registry = cases["registry loads"]
    assert [f.message for f in registry.findings] == ["(file): malformed TOML"]
    assert registry.findings[0].location.file == "sub/claims/broken.toml"

    statement = cases["doubling: proves the pinned statement"]
    assert statement.status is Status.failed
    assert "cannot be checked" in statement.findings[0].message

    sorry_case = cases["doubling: no sorry"]
    assert sorry_case.status is Status.failed
    (finding,) = sorry_case.findings  # Formal.Other is not in the claim's scope
    assert (finding.location.file, finding.location.line, finding.location.column) == (
        "sub/Formal/Util.lean", 9, 4)  # lines from 1, columns from 0 (Lean's convention)
    assert "which claim doubling rests on" in finding.message

    trust = cases["doubling: trust policy"]
    assert [f.location.line for f in trust.findings] == [3]

    witness = cases["doubling: witness accepted"]
    assert witness.status is Status.skipped and "did not build" in (witness.skipped or "")

    consistency = cases["doubling: consistent with Lean"]
    assert consistency.status is Status.failed
    assert [f.severity for f in consistency.findings] == [Severity.error, Severity.warning]


def test_registry_entries_from_the_working_tree_and_from_git_objects(git_project) -> None:
    shutil.copytree(FIXTURE, git_project.root / "sub", dirs_exist_ok=True)
    base = git_project.commit("fixture")
    git_project.replace("sub/claims/doubling.toml", "Doubling is multiplication by two", "Doubling")
    git_project.write("sub/claims/broken.toml", "id = [\n")
    settings = Settings.load(git_project.root / "sub")
    head = head_claim_pins(settings, "sub")
    with GitRepository(git_project.root) as repo:
        old = base_claim_pins(repo, base, settings, "sub")
    assert set(head) == set(old) == {"doubling"}
    assert head["doubling"].file == old["doubling"].file == "sub/claims/doubling.toml"
    assert old["doubling"].fields["title"] == "Doubling is multiplication by two"
    assert head["doubling"].fields["title"] == "Doubling"
    assert head["doubling"].declaration == "Formal.Basic.double_eq"
    assert head["doubling"].fields["lean.statement"] == old["doubling"].fields["lean.statement"]


def test_a_base_entry_this_version_cannot_load_is_reported_not_skipped(git_project) -> None:
    """A registry format change must not make the base's entry vanish (and the head's look new,
    with nothing to compare): the unreadable base file is named, and the gate warns."""
    from pipeline.gate.claim_cases import base_registry
    from pipeline.gate.rules import unreadable_base_case

    shutil.copytree(FIXTURE, git_project.root, dirs_exist_ok=True)
    git_project.replace("claims/doubling.toml", 'depends_on = []', 'depends_on = []\nproved = true')
    base = git_project.commit("an entry with a field this version does not know")
    git_project.replace("claims/doubling.toml", 'depends_on = []\nproved = true', 'depends_on = []')
    settings = Settings.load(git_project.root)
    with GitRepository(git_project.root) as repo:
        pins, unreadable = base_registry(repo, base, settings, "")
    assert pins == {} and set(unreadable) == {"claims/doubling.toml"}
    assert "proved" in unreadable["claims/doubling.toml"]
    case = unreadable_base_case(unreadable, head_claim_pins(settings, ""))
    assert case.status is Status.warned
    (finding,) = case.findings
    assert "claim doubling: its entry on the base (claims/doubling.toml) does not load" in finding.message
    assert "review the change by hand" in finding.message


def test_fields_use_the_toml_names(tmp_path: Path) -> None:
    from pipeline.gate.claim_cases import pin_of

    claim = _claim(tmp_path)
    pin = pin_of(claim, Settings.load(tmp_path / "p"), "")
    assert pin.fields["lean.open[0]"] == "Formal.Basic"
    assert pin.file == "claims/doubling.toml"
    assert "path" not in pin.fields
