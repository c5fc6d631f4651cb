"""Building a two-module library with the real Lean, importing it, and incrementality."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest

from pipeline.lean.build import BuildReport, build_project, discover, olean_path
from pipeline.lean.buildplan import plan
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, CheckResult
from pipeline.settings import Settings
from tests.conftest import make_settings, needs_lean

T = TypeVar("T")

pytestmark = [pytest.mark.lean, pytest.mark.heavy, needs_lean]

BASIC = """module
public section
noncomputable section
/-- A notion importers must unfold. -/
@[expose] def Safe (n : Nat) : Prop := n < 10
end
end
"""
USES = """module
public import Formal.Basic
public section
theorem safe_three (h_small : 3 < 10) : Safe 3 := h_small
end
"""


def test_two_module_build_import_and_incremental(project: Path) -> None:
    formal = project / "Formal"
    formal.mkdir()
    (formal / "Basic.lean").write_text(BASIC)
    (formal / "Uses.lean").write_text(USES)
    # two imports on one line, as Lean allows (issue 25: once read as one, then refused as a crash)
    (project / "Formal.lean").write_text("module\npublic import Formal.Basic public import Formal.Uses\n")
    settings = make_settings(project)
    assert discover(settings)["Formal"].imports == ("Formal.Basic", "Formal.Uses")
    with Checker(settings) as checker:
        # what a first call importing Formal.Uses needs, and nothing else (issue 27)
        first = build_project(settings, checker, only=["Formal.Uses", "Init"])
        assert first.ok, [m.result.diagnostics() for m in first.failures() if m.result]
        assert set(first.rebuilt) == {"Formal.Basic", "Formal.Uses"}
        assert [m.module for m in first.modules] == ["Formal.Basic", "Formal.Uses"]
        assert (settings.build_dir / "Formal" / "Uses.olean").is_file()
        assert not (settings.build_dir / "Formal.olean").exists()

        ok = checker.check(CheckRequest(source="import Formal.Basic import Formal.Uses\n"
                                        "theorem again : Safe 3 := safe_three (by decide)\n"))
        assert ok.accepted, ok.diagnostics()
        assert ("Formal.Basic" in dict(checker.builds.import_hashes(["Formal.Uses"])))

        rest = build_project(settings, checker)  # the rest, the closure's builds kept
        assert rest.ok and rest.rebuilt == ["Formal"]
        second = build_project(settings, checker)
        assert second.rebuilt == []

        (formal / "Uses.lean").write_text(USES + "\ntheorem extra : Safe 2 := show 2 < 10 by decide\n")
        third = build_project(settings, checker)
        assert third.ok and set(third.rebuilt) == {"Formal.Uses", "Formal"}

        # Changing the definition changes what importers see, so the cache key changes too.
        key_before = checker.check(CheckRequest(source="example : Safe 3 := by decide\n", imports=("Formal.Basic",))).cache_key
        (formal / "Basic.lean").write_text(BASIC.replace("n < 10", "n < 11"))
        fourth = build_project(settings, checker)
        assert "Formal.Basic" in fourth.rebuilt and "Formal.Uses" in fourth.rebuilt
        key_after = checker.check(CheckRequest(source="example : Safe 3 := by decide\n", imports=("Formal.Basic",))).cache_key
        assert key_before != key_after


def test_a_failing_module_blocks_its_importers(project: Path) -> None:
    formal = project / "Formal"
    formal.mkdir()
    (formal / "Basic.lean").write_text(BASIC.replace("n < 10", "n < "))
    (formal / "Uses.lean").write_text(USES)
    settings = make_settings(project)
    with Checker(settings) as checker:
        report = build_project(settings, checker)
    assert not report.ok
    by_name = {m.module: m for m in report.modules}
    assert by_name["Formal.Basic"].result is not None and not by_name["Formal.Basic"].result.accepted
    assert by_name["Formal.Uses"].skipped_reason and "Formal.Basic" in by_name["Formal.Uses"].skipped_reason


AGAIN = "theorem again : Safe 3 := safe_three (by decide)\n"


def _checkout(root: Path, store: Path) -> Settings:
    formal = root / "Formal"
    formal.mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test project\n")
    (formal / "Basic.lean").write_text(BASIC)
    (formal / "Uses.lean").write_text(USES)
    return make_settings(root, artifact_cache=store)


def test_a_second_checkout_copies_the_builds_and_audits_them_again(tmp_path: Path) -> None:
    store = tmp_path / "artifacts"
    first = _checkout(tmp_path / "a", store)
    with Checker(first) as checker:
        built = build_project(first, checker)
        assert built.ok and not any(m.result and m.result.cached for m in built.modules)
        fresh = checker.check(CheckRequest(source=AGAIN, imports=("Formal.Uses",)))
    assert fresh.accepted and not fresh.cached

    second = _checkout(tmp_path / "b", store)
    with Checker(second) as checker:
        copied = build_project(second, checker)
        assert copied.ok
        for m in copied.modules:
            assert m.result is not None and m.result.cached
            assert m.result.environment is not None  # audited again, on the copy
        assert (olean_path(second, "Formal.Uses").read_bytes()
                == olean_path(first, "Formal.Uses").read_bytes())
        ok = checker.check(CheckRequest(source=AGAIN, imports=("Formal.Uses",)))
    # the same input in another checkout: the verdict is the first checkout's, from the store
    assert ok.accepted and ok.cached and ok.cache_key == fresh.cache_key


def test_two_checkouts_building_at_once_compile_each_module_once(tmp_path: Path) -> None:
    store = tmp_path / "artifacts"
    checkouts = [_checkout(tmp_path / name, store) for name in ("a", "b")]

    def build(settings: Settings) -> BuildReport:
        with Checker(settings) as checker:
            return build_project(settings, checker)

    reports = _at_once(build, checkouts)
    for module in ("Formal.Basic", "Formal.Uses"):
        results = [next(m.result for m in r.modules if m.module == module) for r in reports]
        assert all(r is not None and r.accepted and r.environment is not None for r in results)
        # one checkout ran Lean; the other waited for it and copied (and audited) its build
        assert sorted(bool(r and r.cached) for r in results) == [False, True], module


def test_two_checkouts_checking_the_same_file_at_once_run_lean_once(tmp_path: Path) -> None:
    """Two processes' checkers (own databases, one machine's store) checking the same input at
    the same moment: one runs Lean, the other waits for its result (the check key's lock)."""
    store = tmp_path / "artifacts"
    checkouts = [make_settings(_empty(tmp_path / name), artifact_cache=store) for name in ("a", "b")]
    source = "theorem at_once (a b : Nat) : a + b = b + a := Nat.add_comm a b\n"
    ready = threading.Barrier(2)

    def check(settings: Settings) -> CheckResult:
        with Checker(settings, warm=False) as checker:
            ready.wait()
            return checker.check(CheckRequest(source=source))

    results = _at_once(check, checkouts)
    assert all(r.accepted for r in results), [r.summary() for r in results]
    assert sorted(r.cached for r in results) == [False, True]
    assert results[0].cache_key == results[1].cache_key


def _at_once(work: Callable[[Settings], T], checkouts: list[Settings]) -> list[T]:
    """``work`` on each checkout, all at the same time (one thread each); a failure is raised."""
    with ThreadPoolExecutor(max_workers=len(checkouts)) as pool:
        return list(pool.map(work, checkouts))


def _empty(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- test project\n")
    return root


def test_a_tampered_artifact_fails_the_audit_and_is_compiled_again(tmp_path: Path) -> None:
    store = tmp_path / "artifacts"
    first = _checkout(tmp_path / "a", store)
    with Checker(first) as checker:
        assert build_project(first, checker).ok
    entries = [e for e in store.glob("*/*") if (e / "result.json").is_file()]  # not the locks
    basic = [entry for entry in entries
             if '"file_name":"Formal.Basic.lean"' in (entry / "result.json").read_text()
             or '"file_name":"Basic.lean"' in (entry / "result.json").read_text()]
    assert len(basic) == 1
    (basic[0] / "module.olean").write_bytes(b"olean" * 40)  # not what Lean wrote

    second = _checkout(tmp_path / "b", store)
    with Checker(second) as checker:
        report = build_project(second, checker)
    assert report.ok
    by_name = {m.module: m for m in report.modules}
    result = by_name["Formal.Basic"].result
    assert result is not None and result.accepted and not result.cached


def test_a_build_folder_this_pipeline_did_not_make_is_rebuilt_and_never_imported(tmp_path: Path) -> None:
    """Issue 25, item 1: a build of other sources copied into the build folder, its manifest's
    fingerprints recomputed for this checkout's sources (anyone can compute them), and an
    ``.olean`` dropped in under a new name: none of it counts as built."""
    store = tmp_path / "artifacts"
    first = _checkout(tmp_path / "a", store)
    with Checker(first) as checker:
        assert build_project(first, checker).ok
    second = _checkout(tmp_path / "b", store)
    (second.formal_path / "Uses.lean").write_text(USES.replace(":= h_small", ":= sorry"))
    shutil.copytree(first.build_dir, second.build_dir)
    shutil.copy(olean_path(first, "Formal.Uses"), second.build_dir / "Formal" / "Evil.olean")
    manifest = json.loads((second.build_dir / "manifest.json").read_text())
    _dirty, prints = plan(discover(second), {})
    for module, entry in manifest.items():
        entry["fingerprint"] = prints[module]
    (second.build_dir / "manifest.json").write_text(json.dumps(manifest))

    with Checker(second) as checker:
        assert set(checker.builds.trusted_manifest()) == {"Formal.Basic"}  # same source, built and signed here
        refused = checker.check(CheckRequest(source=AGAIN, imports=("Formal.Uses",)))
        assert not refused.accepted and not refused.cached
        assert "import Formal.Uses" in refused.diagnostics() and "not built by this pipeline" in refused.diagnostics()
        evil = checker.check(CheckRequest(source="theorem e : True := trivial\n", imports=("Formal.Evil",)))
        assert not evil.accepted and "import Formal.Evil" in evil.diagnostics()

        report = build_project(second, checker)
        by_name = {m.module: m for m in report.modules}
        assert by_name["Formal.Basic"].up_to_date
        uses = by_name["Formal.Uses"]
        assert not uses.up_to_date and uses.result is not None and not uses.result.accepted
        assert "sorry" in uses.result.diagnostics()
        assert not olean_path(second, "Formal.Uses").exists()  # the copied build is gone
