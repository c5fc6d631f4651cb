"""Provenance of stored artifacts, without Lean: the MAC key, a checkout that tracks the state
folder, planted result-cache entries and artifact-store entries (issue 25, item 1). The same
attacks through the real Lean: tests/lean/test_build.py and tests/gate/test_gate_lean.py."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import InputError, PolicyConfigError
from pipeline.lean.artifacts import ArtifactCache
from pipeline.lean.cache import ResultCache, cache_key
from pipeline.lean.models import CheckResult, Reason, Verdict
from pipeline.lean.provenance import Provenance, parts_digest, refuse_tracked_state, tracked_state
from pipeline.settings import Settings
from pipeline.store.db import Database


def _settings(root: Path, tmp_path: Path, **overrides: object) -> Settings:
    overrides.setdefault("provenance_key", tmp_path / "keys" / "provenance.key")
    return Settings.load(root, **overrides)


def test_the_key_is_created_private_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "proj", tmp_path)
    first = Provenance.load(settings)
    path = settings.provenance_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Provenance.load(settings)
    assert first.mac("x", 1) == again.mac("x", 1)
    other = Provenance.load(_settings(tmp_path / "proj", tmp_path, provenance_key=tmp_path / "other.key"))
    assert other.mac("x", 1) != first.mac("x", 1)  # another user's (or machine's) key
    assert first.valid(first.mac("a", [1, 2]), "a", [1, 2]) and not first.valid(first.mac("a"), "b")

    os.chmod(path, 0o644)
    with pytest.raises(PolicyConfigError, match="chmod 600"):
        Provenance.load(settings)


def test_a_key_inside_the_checkout_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    settings = _settings(root, tmp_path, provenance_key=root / ".sequent" / "key")
    with pytest.raises(PolicyConfigError, match="inside the project"):
        Provenance.load(settings)


def test_the_default_key_lives_outside_every_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert Settings.load(tmp_path / "proj").provenance_key_path == tmp_path / "xdg" / "sequent" / "provenance.key"


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_a_checkout_tracking_the_state_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".sequent" / "build" / "Formal").mkdir(parents=True)
    (root / "lakefile.lean").write_text("-- p\n")
    (root / ".gitignore").write_text(".sequent/\n")
    (root / ".sequent" / "build" / "Formal" / "Basic.olean").write_bytes(b"built elsewhere")
    (root / ".sequent" / "build" / "manifest.json").write_text("{}")
    _git(root, "init", "-q")
    _git(root, "add", "lakefile.lean", ".gitignore")
    settings = _settings(root, tmp_path)
    assert tracked_state(settings) == []
    refuse_tracked_state(settings)  # ignored, untracked: fine (the MAC decides)

    _git(root, "add", "-f", ".sequent/build")  # the attack: a branch commits a build
    assert tracked_state(settings) == [".sequent/build/Formal/Basic.olean", ".sequent/build/manifest.json"]
    with pytest.raises(InputError) as info:
        refuse_tracked_state(settings)
    message = str(info.value)
    assert "tracks 2 file(s) under the pipeline's state folder" in message
    assert "git rm -r --cached -- .sequent" in message

    # SEQUENT_STATE_DIR inside the project is covered the same way; outside it, nothing to refuse
    (root / "state" / "x").mkdir(parents=True)
    (root / "state" / "x" / "f").write_text("x")
    _git(root, "add", "-f", "state/x/f")
    assert tracked_state(_settings(root, tmp_path, state_dir=root / "state")) == ["state/x/f"]
    assert tracked_state(_settings(root, tmp_path, state_dir=tmp_path / "elsewhere")) == []
    assert tracked_state(_settings(tmp_path / "not-git", tmp_path)) == []


def _result(key: str, verdict: Verdict = Verdict.accepted) -> CheckResult:
    return CheckResult(verdict=verdict, reasons=() if verdict is Verdict.accepted else (Reason.error,),
                       backend="embedded", lean_version="v", elapsed_s=0.0, cache_key=key, file_name="C.lean")


def test_a_planted_result_cache_entry_is_never_found(tmp_path: Path) -> None:
    """The check key is computable by anyone; an entry stored under it (a committed database, a
    shared store another user writes) does not answer a lookup: entries live under the MAC."""
    settings = _settings(tmp_path / "proj", tmp_path)
    key = cache_key(source="theorem t : False := sorry", file_name="C.lean", import_hashes=[],
                    lean_version="v", backend="embedded", policy_json="{}")
    store = tmp_path / "store"
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        mine = ResultCache(db, provenance=Provenance.load(settings), shared=store)
        planted = ResultCache(db, provenance=Provenance.load(
            _settings(tmp_path / "proj", tmp_path, provenance_key=tmp_path / "attacker.key")), shared=store)
        planted.put(_result(key))  # written with another key, under the plain computable key's MAC
        assert mine.get(key) is None
        mine.put(_result(key, Verdict.rejected))
        got = mine.get(key)
        assert got is not None and got.verdict is Verdict.rejected and got.cached
    finally:
        db.close()


def test_an_artifact_entry_without_a_valid_mac_is_not_restored(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "proj", tmp_path)
    store = ArtifactCache(tmp_path / "store", Provenance.load(settings))
    built = tmp_path / "built" / "M.olean"
    built.parent.mkdir()
    built.write_bytes(b"what lean wrote")
    Path(str(built) + ".private").write_bytes(b"proofs")
    store.store("k" * 64, built, _result("c"))
    out = tmp_path / "out" / "M.olean"
    assert store.restore("k" * 64, out) is not None and out.read_bytes() == b"what lean wrote"

    # a forged part (or a recomputed result) no longer matches the MAC: nothing is copied
    entry = tmp_path / "store" / "kk" / ("k" * 64)
    (entry / "module.olean.private").write_bytes(b"other proofs")
    out2 = tmp_path / "out2" / "M.olean"
    assert store.restore("k" * 64, out2) is None and not out2.exists()
    assert parts_digest(out2, (".olean", ".olean.private")) == {}
    # an entry another key signed is replaced by this build, not kept
    store.store("k" * 64, built, _result("c"))
    assert store.restore("k" * 64, out2) is not None


def test_an_unwritable_key_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    settings = _settings(tmp_path / "proj", tmp_path, provenance_key=blocked / "sequent" / "provenance.key")
    with pytest.raises(PolicyConfigError, match="SEQUENT_PROVENANCE_KEY"):
        Provenance.load(settings)
