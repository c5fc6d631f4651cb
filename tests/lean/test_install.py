"""The installed runtime is derived from the pinned npm package, never written into it."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from pipeline.lean.install import (
    ONE_SHOT_V8_FLAGS,
    EmbeddedInstall,
    embedded_command,
    load_install,
    manifest_path,
)
from pipeline.lean.patches import (
    GLUE_PATCHES,
    START_UP_PATCHES,
    WASM_PATCHES,
    apply_patches,
    apply_wasm_patches,
    patch_set_digest,
    slim_glue,
)
from pipeline.settings import Settings
from tests.conftest import lean_home, needs_lean

pytestmark = [needs_lean]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_older_install_gets_its_runtime_derived_again(tmp_path: Path) -> None:
    """An install made before the current patches (its manifest names another patch set) gets
    the glue, the slim thread glue and the module derived again from its own package on first
    load: the module patches match the real pinned module, and the package stays as it was."""
    real = load_install(Settings.load(tmp_path, lean_home=lean_home()))
    home = tmp_path / "lean"
    (home / "runtime").mkdir(parents=True)
    (home / "npm").symlink_to(real.root / "npm")
    (home / "lib").symlink_to(real.lib)
    (home / "runtime" / "launcher.js").write_bytes(real.launcher.read_bytes())
    (home / "runtime" / "lean.js").write_text("// the glue as an older version patched it\n")
    package = real.package
    (home / "runtime" / "lean.wasm").symlink_to(package / "lean.wasm")
    package_sha = _sha(package / "lean.wasm")
    old = EmbeddedInstall(
        root=home, node=real.node, glue=home / "runtime" / "lean.js", launcher=home / "runtime" / "launcher.js",
        lib=home / "lib", lean_version=real.lean_version, node_version=real.node_version,
        lock_sha256=real.lock_sha256, glue_sha256="", thread_glue=None, patch_set="an older package",
    )
    settings = Settings.load(tmp_path, lean_home=home)
    manifest_path(settings).write_text(old.model_dump_json())

    derived = load_install(settings)

    assert derived.patch_set == patch_set_digest()
    assert derived.thread_glue is not None and derived.thread_glue.is_file()
    module = (home / "runtime" / "lean.wasm").read_bytes()
    assert module == apply_wasm_patches((package / "lean.wasm").read_bytes())
    assert all(bytes.fromhex(p.new) in module and bytes.fromhex(p.old) not in module for p in WASM_PATCHES)
    assert _sha(package / "lean.wasm") == package_sha
    assert load_install(settings) == derived  # recorded: the next load derives nothing


PROBE = r"""
const fs = require('fs'), path = require('path');
const [glue, out] = process.argv.slice(1);
globalThis.SEQUENT_THREAD_POOL = 1;
const Module = { noInitialRun: true, onRuntimeInitialized() {
  fs.writeFileSync(out, JSON.stringify(Module.probe()));
  process.exit(0);
} };
const src = fs.readFileSync(glue, 'utf8') + `
Module.probe = () => ({
  table: Array.from({ length: wasmTable.length }, (_, i) => wasmTable.get(i)?.name ?? null),
  got: Object.fromEntries(Object.entries(GOT).map(([k, v]) => [k, v.value])),
  symbols: Object.keys(wasmImports),
});`;
new Function('Module', 'require', '__filename', '__dirname', 'module', 'exports', src)(
  Module, require, glue, path.dirname(glue), { exports: {} }, {});
"""


def _layout(node: Path, glue: Path) -> dict[str, object]:
    out = glue.with_suffix(".layout.json")
    done = subprocess.run([str(node), "-e", PROBE, str(glue), str(out)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(out.read_text(encoding="utf-8")))


def test_the_start_up_patches_leave_the_function_table_and_symbols_as_upstream(tmp_path: Path) -> None:
    """The start-up patches make the GOT entries no import reads on demand and merge the
    symbols without a pairs array. Function pointers are table slots, shared by all wasm
    threads, and ``dlsym`` indexes the symbol table: the runtime with them must lay out the
    function table slot for slot (the same function at every slot), fill every GOT entry the
    module imports with the same value and list the symbols in the same order as the runtime
    without them."""
    install = load_install(Settings.load(tmp_path, lean_home=lean_home()))
    package = install.package
    assert START_UP_PATCHES <= {p.name for p in GLUE_PATCHES}
    upstream = apply_patches((package / "lean.js").read_text(encoding="utf-8"), skip=START_UP_PATCHES)
    (tmp_path / "lean.wasm").symlink_to(install.runtime / "lean.wasm")
    (tmp_path / "upstream.js").write_text(slim_glue(upstream), encoding="utf-8")
    assert install.thread_glue is not None

    before = _layout(install.node, tmp_path / "upstream.js")
    after = _layout(install.node, install.thread_glue)

    assert len(after["table"]) == len(before["table"]) > 100_000  # type: ignore[arg-type]
    assert after["table"] == before["table"]
    got_before, got_after = before["got"], after["got"]
    assert isinstance(got_before, dict) and isinstance(got_after, dict)
    assert 0 < len(got_after) < 1_000 < len(got_before)  # only the entries the module imports
    assert all(value != -1 for value in got_after.values())  # every one resolved
    assert {k: got_before[k] for k in got_after} == got_after
    assert after["symbols"] == before["symbols"]


def test_one_shot_processes_run_baseline_wasm_code_and_resident_workers_keep_the_optimiser(tmp_path: Path) -> None:
    """A one-shot process passes ``ONE_SHOT_V8_FLAGS`` to Node itself (before the launcher, where
    V8 reads them); a resident worker, which re-checks for hundreds of checks, does not. The
    verdicts under the flags are the whole suite's: every Lean test runs one-shot with them."""
    install = load_install(Settings.load(tmp_path, lean_home=lean_home()))
    one_shot, _ = embedded_command(install, tmp_path, tmp_path / "build", threads=1)
    resident, _ = embedded_command(install, tmp_path, tmp_path / "build", threads=1, resident_threads=2)
    launcher = str(install.launcher)
    assert ONE_SHOT_V8_FLAGS
    for flag in ONE_SHOT_V8_FLAGS:
        assert one_shot.index(flag) < one_shot.index(launcher), one_shot
        assert flag not in resident, resident
