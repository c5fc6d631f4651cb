"""Replay (issue 25, item 6): a compiled module's constants sent again to a fresh kernel from its
``.olean`` files, in a new Lean process (pipeline/lean/replay.py), with the real embedded Lean.
A module as Lean wrote it replays whole; a forged one — a theorem whose stored proof proves
another statement, a file no kernel checked but whose every term is well-formed, so that the
structural checks pass it — is rejected by the kernel itself; an accepted check says how many
constants the fresh kernel re-checked."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckRequest, Policy, Reason
from pipeline.lean.olean.decode import Decoder
from pipeline.lean.olean.region import Region, module_parts
from pipeline.lean.process import run_in_background
from pipeline.lean.replay import plan
from tests.conftest import make_settings, needs_lean
from tests.waiting import wait_until

pytestmark = [pytest.mark.lean, needs_lean]

SAMPLE = """module
public section
noncomputable section
namespace R

structure P where
  x : Nat
  y : Nat

inductive Tree where
  | leaf : Tree
  | node : Tree → Tree → Tree

@[expose] def size : Tree → Nat
  | .leaf => 1
  | .node a b => size a + size b

theorem size_pos (t : Tree) : 0 < size t := by
  induction t with
  | leaf => decide
  | node a b ha hb => simp only [size]; omega

theorem sum_comm (p : P) : p.x + p.y = p.y + p.x := by omega

@[expose] def greeting : String := "héllo ∀ \\n"

theorem four : (2 : Nat) + 2 = 4 := rfl
theorem not_five : (2 : Nat) + 2 ≠ 5 := by decide

end R
end
end
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Checker, Path]]:
    root = tmp_path_factory.mktemp("replay") / "proj"
    root.mkdir()
    (root / "lakefile.lean").write_text("-- test\n")
    settings = make_settings(root, pool_size=1, lean_replay=True)
    with Checker(settings) as checker:
        out = settings.build_dir / "R.olean"
        result = checker.compiler.compile_module("R", SAMPLE, out)
        assert result.accepted, result.diagnostics()
        # the build replayed the module before keeping it
        assert result.environment is not None and result.environment.replayed, result.environment
        yield checker, out


def test_a_module_as_lean_wrote_it_replays_whole(built: tuple[Checker, Path]) -> None:
    checker, olean = built
    expected = plan(olean)
    result = checker.replayer.replay(olean)
    assert result.ok, result.message
    assert result.replayed == len(expected.order) > 10


def _forge_value(olean: Path, folder: Path, theorem: str, donor: str) -> Path:
    """A copy of the module whose ``theorem`` has ``donor``'s proof as its value."""
    folder.mkdir()
    for part in module_parts(olean):
        shutil.copy(part, folder / part.name)
    target = folder / olean.name
    region = Region(module_parts(target))
    decoder = Decoder(region)
    _tag, fields, _ = region.ctor(region.root())
    values: dict[str, tuple[int, int]] = {}  # name -> (address of the value field, value)
    for info in region.array(fields[2]):
        _t, (val,), _s = region.ctor(info)
        _vt, vf, _vs = region.ctor(val)
        name = decoder.name(region.ctor(vf[0])[1][0])
        values[name] = (val + 8 + region.ptr, vf[1])
    field_addr, _ = values[theorem]
    _, donated = values[donor]
    for part in region.parts:
        if part.start <= field_addr < part.end:
            data = bytearray(part.path.read_bytes())
            off = field_addr - part.base
            data[off: off + region.ptr] = donated.to_bytes(region.ptr, "little")
            part.path.write_bytes(bytes(data))
            return target
    raise AssertionError("the value field is in no part")


def test_a_forged_proof_is_rejected_by_the_fresh_kernel(built: tuple[Checker, Path], tmp_path: Path) -> None:
    checker, olean = built
    forged = _forge_value(olean, tmp_path / "forged", "R.not_five", "R.four")
    # every term is well-formed: the structural checks see nothing wrong ...
    audit = checker.auditor.audit_file(forged, [], Policy())
    assert [i for i in audit.issues if i.rule == "ill_formed"] == [], audit.issues
    # ... the kernel does
    result = checker.replayer.replay(forged)
    assert not result.ok and result.finished, result
    assert "the kernel rejects R.not_five" in result.message


def test_an_accepted_check_was_replayed(built: tuple[Checker, Path]) -> None:
    checker, _olean = built
    result = checker.check(CheckRequest(source="theorem t (n : Nat) : n + 0 = n := rfl\n"))
    assert result.accepted, result.diagnostics()
    assert result.environment is not None and result.environment.replayed == 1
    bad = checker.check(CheckRequest(source="theorem u : (1 : Nat) = 2 := by decide\n"))
    assert not bad.accepted and Reason.error in bad.reasons and bad.environment is None


def test_a_replay_worker_started_ahead_replays_once_and_can_fail(built: tuple[Checker, Path],
                                                                  tmp_path: Path) -> None:
    """The replay a warm server runs (Replayer.warm): a Lean process started ahead, its
    imports and the replay program elaborated, used for ONE replay (then closed, a new one
    started), with the same verdicts as a one-shot replay: whole for the module as Lean wrote
    it, the kernel's rejection for a forged one."""
    checker, olean = built
    assert checker.replayer.warm([]) is True
    pool = checker.replayer._workers
    assert pool is not None
    try:
        result = checker.replayer.replay(olean)
        assert result.ok and result.replayed == len(plan(olean).order), result.message
        assert pool.stats().recycled == 1  # the worker replayed once and was closed
        wait_until(lambda: pool.stats().idle >= 1, timeout_s=240, what="the replacement replay worker ready",
                   every_s=0.5)
        assert pool.stats().idle == 1 and pool.stats().started == 2
        with ThreadPoolExecutor(1) as ex:  # background work (the library status) leaves it to the calls
            background = ex.submit(lambda: (run_in_background(), checker.replayer.replay(olean))[1]).result()
        assert background.ok and background.replayed == result.replayed, background.message
        assert pool.stats().idle == 1 and pool.stats().recycled == 1 and pool.stats().started == 2
        forged = _forge_value(olean, tmp_path / "forged", "R.not_five", "R.four")
        bad = checker.replayer.replay(forged)
        assert not bad.ok and bad.finished and "the kernel rejects R.not_five" in bad.message, bad
        assert pool.stats().recycled == 2
    finally:
        checker.replayer._workers = None
        pool.close()


def test_what_was_built_or_accepted_without_replay_does_not_count_with_it(
        built: tuple[Checker, Path]) -> None:
    """A build or verdict made with ``SEQUENT_LEAN_REPLAY`` off carries another audit id: its
    signed manifest entry and its cache key never match those of a run with replay on."""
    checker, _olean = built
    off = Checker(checker.settings.model_copy(update={"lean_replay": False}))
    assert checker.builds.lean_id.endswith("|replay") and off.builds.lean_id.endswith("|no-replay")
    source = "theorem t (n : Nat) : n + 0 = n := rfl\n"
    assert checker.builds.module_key("M", source) != off.builds.module_key("M", source)
