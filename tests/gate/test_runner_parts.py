"""The runner's pieces that need git but not Lean: which tree is checked, what is read."""

from __future__ import annotations

from pathlib import Path

from pipeline.gate.findings import result_findings
from pipeline.gate.models import Severity
from pipeline.gate.runner import checkout_settings, head_tree, read_base_lean_files, read_lean_files
from pipeline.lean.models import CheckResult, Message, Position, Reason, Verdict, Violation
from pipeline.settings import Settings
from pipeline.vcs import GitRepository


def _settings(root: Path, state: Path) -> Settings:
    return Settings.load(root, state_dir=state, lean_home=state / "lean")


def test_head_tree_picks_the_working_tree_or_an_export(git_project, tmp_path: Path) -> None:
    git_project.write("Formal/A.lean", "theorem a : True := trivial\n")
    first = git_project.commit("first")
    git_project.write("Formal/A.lean", "theorem a : 1 = 1 := rfl\n")
    second = git_project.commit("second")
    settings = _settings(git_project.root, tmp_path / "state")
    with GitRepository(git_project.root) as repo:
        with head_tree(repo, settings, "", None) as (s, rev):
            assert s is settings and rev.working_tree and rev.sha == second
        with head_tree(repo, settings, "", "HEAD") as (s, rev):
            assert s is settings and rev.working_tree and rev.label == "HEAD"
        with head_tree(repo, settings, "", "HEAD~1") as (s, rev):
            assert not rev.working_tree and rev.sha == first
            assert s.project_root != settings.project_root
            assert (s.project_root / "Formal/A.lean").read_text() == "theorem a : True := trivial\n"
            assert s.build_dir == settings.state / "gate" / "build"
            assert s.lean_dir == settings.lean_dir and s.db_url == settings.db_url
            exported = s.project_root
        assert not exported.exists()
        git_project.write("Formal/A.lean", "uncommitted\n")
        with head_tree(repo, settings, "", "HEAD") as (s, rev):
            assert not rev.working_tree  # HEAD differs from the dirty working tree
            assert (s.project_root / "Formal/A.lean").read_text() == "theorem a : 1 = 1 := rfl\n"
    assert git_project.read("Formal/A.lean") == "uncommitted\n"


def test_lean_files_from_disk_and_from_git_agree(git_project, tmp_path: Path) -> None:
    git_project.write("proj/lakefile.lean", "-- x\n")
    git_project.write("proj/Formal.lean", "import Formal.A\n")
    git_project.write("proj/Formal/A.lean", "theorem a : True := trivial\n")
    git_project.write("proj/Formal/Deep/B.lean", "theorem b : True := trivial\n")
    git_project.write("proj/Other/C.lean", "theorem c : True := trivial\n")
    sha = git_project.commit()
    settings = _settings(git_project.root / "proj", tmp_path / "state")
    on_disk = read_lean_files(settings, "proj")
    assert sorted(on_disk) == ["proj/Formal.lean", "proj/Formal/A.lean", "proj/Formal/Deep/B.lean"]
    with GitRepository(git_project.root) as repo:
        assert read_base_lean_files(repo, sha, settings, "proj") == on_disk


def test_checkout_settings_keep_the_users_choices(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path, lean_timeout_s=12.0, pool_size=1)
    moved = checkout_settings(settings, tmp_path / "export")
    assert moved.project_root == tmp_path / "export"
    assert (moved.lean_timeout_s, moved.pool_size) == (12.0, 1)
    assert moved.state == settings.state / "gate"


def test_result_findings_place_violations_and_messages() -> None:
    result = CheckResult(
        verdict=Verdict.rejected, reasons=(Reason.sorry, Reason.error),
        violations=(Violation(rule="sorry", token="sorry", line=4, column=2, message="no sorry"),),
        messages=(
            Message(severity="error", data="type mismatch\n  more", pos=Position(line=7, column=0)),
            Message(severity="warning", data="unused variable", pos=Position(line=2, column=5)),
            Message(severity="information", data="fyi"),
        ),
        backend="embedded", lean_version="t", elapsed_s=1.0, cache_key="k",
    )
    findings = result_findings(result, "Formal/X.lean")
    assert [(f.severity, str(f.location)) for f in findings] == [
        (Severity.error, "Formal/X.lean:4:2"),
        (Severity.error, "Formal/X.lean:7:0"),
        (Severity.warning, "Formal/X.lean:2:5"),
    ]
    timeout = result.model_copy(update={"violations": (), "messages": (), "reasons": (Reason.timeout,)})
    (only,) = result_findings(timeout, "Formal/X.lean")
    assert only.severity is Severity.error and "timeout" in only.message
    assert str(only.location) == "Formal/X.lean"
