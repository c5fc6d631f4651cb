"""The resident engine's pure parts, without Lean: LSP framing, header split, positions, the
worker-mode glue patches and the slim thread glue."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import SetupError
from pipeline.lean.lsp import Deframer, frame
from pipeline.lean.models import Severity
from pipeline.lean.patches import GLUE_PATCHES, apply_patches, patch_set_digest, slim_glue
from pipeline.lean.resident import split_header, to_message


def test_deframer_skips_debug_lines_and_waits_for_split_messages() -> None:
    one = frame({"id": 1, "result": {}})
    two = frame({"method": "textDocument/publishDiagnostics", "params": {"uri": "file:///x", "diagnostics": []}})
    stream = b"[DEBUG] loading Init\n" + one + b"noise without newline" + two
    d = Deframer()
    got = []
    for i in range(0, len(stream), 7):  # byte-by-byte-ish chunks split every header and body
        got += d.feed(stream[i:i + 7])
    assert [m.get("id") for m in got] == [1, None]
    assert got[1]["method"] == "textDocument/publishDiagnostics"
    assert d.skipped >= len(b"[DEBUG] loading Init\n")


def test_deframer_counts_bytes_not_characters() -> None:
    msg = frame({"id": 2, "result": {"goals": ["h : a = b\n⊢ b = a"]}})
    assert json.loads(msg.split(b"\r\n\r\n", 1)[1])["result"]["goals"][0].endswith("⊢ b = a")
    assert Deframer().feed(msg)[0]["result"]["goals"] == ["h : a = b\n⊢ b = a"]


@pytest.mark.parametrize(("source", "header"), [
    ("theorem x : True := trivial\n", ""),
    ("import Formal.Basic\nimport Formal.Stats\n\ntheorem x : 1 = 1 := rfl\n", "import Formal.Basic\nimport Formal.Stats\n"),
    ("-- note\nmodule\npublic import all Formal.Basic\npublic theorem x : True := trivial\n",
     "-- note\nmodule\npublic import all Formal.Basic\n"),
    ("/- import Fake -/\nimport A.B -- c\ntheorem t := 1", "/- import Fake -/\nimport A.B -- c\n"),
    ("prelude\nimport Init.Core\ndef x := 1", "prelude\nimport Init.Core\n"),
])
def test_split_header(source: str, header: str) -> None:
    got, body = split_header(source)
    assert got == header and got + body == source


def test_lsp_positions_become_code_point_columns() -> None:
    lines = ["theorem 𝔸x : True := by", "  exact foo"]
    diag = {"range": {"start": {"line": 0, "character": 10}, "end": {"line": 1, "character": 11}},
            "severity": 1, "message": "unknown identifier 'foo'"}
    m = to_message(diag, lines, "Check.lean")
    assert m.severity is Severity.error and m.pos is not None and m.end_pos is not None
    assert (m.pos.line, m.pos.column) == (1, 9)  # '𝔸' is two UTF-16 units, one code point
    assert (m.end_pos.line, m.end_pos.column) == (2, 11)
    assert to_message({"severity": 2, "message": "declaration uses 'sorry'"}, lines, "C.lean").severity \
        is Severity.warning


def test_worker_mode_patches_are_pinned() -> None:
    names = {p.name for p in GLUE_PATCHES}
    assert {"thread-pool-size", "stdin-nonblocking", "stdout-raw", "mimalloc-thread-done"} <= names
    text = "".join(p.old for p in GLUE_PATCHES)
    for patch in GLUE_PATCHES:
        with pytest.raises(SetupError, match=patch.name):
            apply_patches(text.replace(patch.old, ""))
        with pytest.raises(SetupError, match=patch.name):  # twice is as wrong as never
            apply_patches(text + patch.old)
    assert len(patch_set_digest()) == 64


def _glue(extra_exports: int) -> str:
    names = ["_main", "_lean_main", "_mi_thread_done", "_used_elsewhere"] + [f"_unused{i}" for i in range(extra_exports)]
    body = ";".join(f'{n}=Module["{n}"]=wasmExports["{n[1:]}"]' for n in names)
    return ("var Module={};var _main,_lean_main," + ",".join(names[2:]) + ";"
            "function go(){_used_elsewhere(1);try{_mi_thread_done()}catch(e){}}"
            "function assignWasmExports(wasmExports){" + body + ";}"
            + "".join(f"function keep{i}(){{return {i}}}" for i in range(12)))


def test_slim_glue_drops_unused_exports_only() -> None:
    src = _glue(500)
    slim = slim_glue(src)
    assert len(slim) < len(src) / 3
    assert '_used_elsewhere=Module["_used_elsewhere"]' in slim
    assert '_mi_thread_done=Module["_mi_thread_done"]' in slim
    assert "_unused7" not in slim
    assert slim.count("function assignWasmExports(wasmExports){") == 1
    # what the launcher reads from Module stays, though the glue itself never mentions it
    kept = slim_glue(src, keep=frozenset({"_unused7"}))
    assert '_unused7=Module["_unused7"]' in kept and "_unused8" not in kept


def test_slim_glue_fails_loudly_on_another_layout() -> None:
    with pytest.raises(SetupError, match="assignWasmExports"):
        slim_glue(_glue(5).replace("function assignWasmExports(wasmExports){", "function other(w){"))


def test_hover_constant_names_only_the_constant_written() -> None:
    from pipeline.lean.trace import hover_constant

    assert hover_constant("```lean\nNat.add_comm (n m : Nat) : n + m = m + n\n```", "add_comm") == "Nat.add_comm"
    assert hover_constant("```lean\nNat.le_refl (n : Nat) : n ≤ n\n```\n***\ndoc", "Nat.le_refl") == "Nat.le_refl"
    assert hover_constant("```lean\nEq.symm {a b : α} (h : a = b) : b = a\n```", "h.symm") == "Eq.symm"
    assert hover_constant("```lean\nh : a = b\n```", "h") == "h"           # a local: filtered by the caller
    assert hover_constant("```lean\nNat.succ (n : Nat) : Nat\n```", "omega") is None
    assert hover_constant("`simp` rewrites with lemmas", "simp") is None
    assert hover_constant("```lean\nLean.Parser.Tactic.exact : Lean.ParserDescr\n```", "exact") is None
    assert hover_constant(None, "x") is None
