"""Pure parts of the engine, without Lean: source reader, policy, planning, interpretation (the
pool: test_pool.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline.errors import InputError, SetupError
from pipeline.lean.buildplan import ModuleSource, plan, topological_order, waves
from pipeline.lean.cache import key_lock
from pipeline.lean.interpret import lean_stderr, parse_messages, reasons_for
from pipeline.lean.models import Policy, Reason
from pipeline.lean.patches import GLUE_PATCHES, WASM_PATCHES, apply_patches, apply_wasm_patches
from pipeline.lean.policy import scan
from pipeline.lean.process import RawRun
from pipeline.lean.syntax import blank_comments_and_strings, declarations, imports


def test_blanking_keeps_positions() -> None:
    src = 'a -- sorry\n/- nested /- sorry -/ -/ b "sorry" c\n'
    out = blank_comments_and_strings(src)
    assert len(out) == len(src) and out.count("\n") == 2
    assert "sorry" not in out and "b" in out and "c" in out


def test_declarations_are_namespaced() -> None:
    src = "namespace A\ntheorem t : True := trivial\nend A\ndef B.f := 1\n"
    names = [d.name for d in declarations(src)]
    assert names == ["A.t", "B.f"]
    assert imports("import Formal.X\npublic import Std\n") == ["Formal.X", "Std"]


def test_policy_positions_and_allowlists() -> None:
    v = scan("theorem t : True := by\n  exact sorry\n", Policy())
    assert [(x.rule, x.line, x.column) for x in v] == [("sorry", 2, 8)]
    assert scan("set_option maxHeartbeats 400000 in\ntheorem t : True := trivial", Policy()) == []
    assert scan("#eval 1", Policy(trusted_tooling=True)) == []
    assert scan("axiom propext : True", Policy())  # redeclaring is still a new axiom command
    assert scan("theorem my_sorry_free : True := trivial", Policy()) == []


def test_glue_patches_fail_loudly_when_upstream_changes() -> None:
    text = "".join(p.old for p in GLUE_PATCHES)
    patched = apply_patches(text)
    assert all(p.new in patched for p in GLUE_PATCHES)
    with pytest.raises(SetupError, match="dlsym-index"):
        apply_patches(text.replace(GLUE_PATCHES[0].old, ""))


def test_module_patches_change_only_their_bytes_and_fail_loudly() -> None:
    filler = bytes(range(256))
    module = filler + filler.join(bytes.fromhex(p.old) for p in WASM_PATCHES) + filler
    patched = apply_wasm_patches(module)
    assert len(patched) == len(module)
    assert patched == filler + filler.join(bytes.fromhex(p.new) for p in WASM_PATCHES) + filler
    for patch in WASM_PATCHES:
        # the main thread's slice shrinks; the other threads' 100 ms stays
        assert patch.old[:18] == "44000000000000f03f" and patch.new[:18] != patch.old[:18]
        assert patch.old[18:] == patch.new[18:]
        with pytest.raises(SetupError, match=patch.name):
            apply_wasm_patches(module.replace(bytes.fromhex(patch.old), b""))
        with pytest.raises(SetupError, match=patch.name):  # twice is as wrong as never
            apply_wasm_patches(module + bytes.fromhex(patch.old))


def _m(name: str, *deps: str) -> ModuleSource:
    return ModuleSource(name=name, path=name.replace(".", "/") + ".lean", imports=deps, source_sha256=name)


def test_plan_orders_and_detects_cycles() -> None:
    mods = {m.name: m for m in [_m("F.C", "F.B"), _m("F.A"), _m("F.B", "F.A")]}
    assert topological_order(mods) == ["F.A", "F.B", "F.C"]
    dirty, prints = plan(mods, {})
    assert dirty == ["F.A", "F.B", "F.C"]
    dirty2, _ = plan(mods, {"F.A": prints["F.A"], "F.B": prints["F.B"], "F.C": prints["F.C"]})
    assert dirty2 == []
    changed = dict(mods, **{"F.A": _m("F.A").model_copy(update={"source_sha256": "new"})})
    dirty3, _ = plan(changed, prints)
    assert dirty3 == ["F.A", "F.B", "F.C"]
    assert waves(["F.A", "F.B", "F.C"], mods, {"F.A", "F.B", "F.C"}) == [["F.A"], ["F.B"], ["F.C"]]
    with pytest.raises(InputError, match="cycle"):
        topological_order({"X": _m("X", "Y"), "Y": _m("Y", "X")})


def test_interpretation_of_raw_runs() -> None:
    out = ('[DEBUG:A] noise\n  - /x.olean\n{"severity":"warning","data":"declaration uses `sorry`",'
           '"kind":"hasSorry","pos":{"line":1,"column":8},"endPos":null,"fileName":"C.lean"}\n')
    msgs = parse_messages(out)
    assert len(msgs) == 1 and msgs[0].kind == "hasSorry"
    raw = RawRun(stdout=out, stderr="", returncode=0, elapsed_s=1.0)
    assert reasons_for(raw, msgs, Policy()) == [Reason.sorry]
    assert reasons_for(RawRun(stdout="", stderr="boom", returncode=134, elapsed_s=1), [], Policy()) == [Reason.crash]


NODE_WARNINGS = ("(node:4242) SecurityWarning: The flag --allow-worker must be used with extreme caution. "
                 "It could invalidate the permission model.\n"
                 "(Use `node --trace-warnings ...` to show where the warning was created)\n"
                 "(node:4242) ExperimentalWarning: WASI is an experimental feature\n")


def test_nodes_own_warnings_are_never_what_lean_said() -> None:
    """Node prints a SecurityWarning for --allow-worker on every start; it was once shown as the
    reason a check failed ("Lean crashed: (node:…) SecurityWarning…")."""
    assert lean_stderr(NODE_WARNINGS) == ""
    assert lean_stderr(NODE_WARNINGS + "[DEBUG: x] y\nINTERNAL PANIC: out of memory\n") == "INTERNAL PANIC: out of memory"


def test_policy_json_is_stable_across_processes() -> None:
    # frozenset iteration order depends on hash randomisation; the cache key must not
    import subprocess
    import sys

    code = "from pipeline.lean.models import Policy; print(Policy().model_dump_json())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": str(seed)}, check=False).stdout for seed in (1, 2, 3, 4)}
    assert len(outs) == 1 and '["Classical.choice","Quot.sound","propext"]' in outs.pop()


def test_a_key_lock_waits_at_most_the_callers_limit(tmp_path: Path) -> None:
    """A holder that outlives the waiter's own limit (a stuck process, a slower check of the
    same input) does not keep the waiter past it: the waiter is told it does not hold the lock
    and computes the key itself; once released, the lock is taken again."""
    with key_lock(tmp_path, "k", 0.0) as held:
        assert held
        start = time.monotonic()
        # another open file: another holder. It answers while this one still holds (a waiter
        # kept past its limit would wait for the release, after this block: no result in 60 s)
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            waited = pool.submit(_try_lock, tmp_path, "k", 0.3).result(timeout=60)
        finally:
            pool.shutdown(wait=False)
        assert waited is False and time.monotonic() - start >= 0.3  # after its limit, not before
    assert _try_lock(tmp_path, "k", 0.0) is True


def _try_lock(store: Path, key: str, wait_s: float) -> bool:
    with key_lock(store, key, wait_s) as held:
        return held
