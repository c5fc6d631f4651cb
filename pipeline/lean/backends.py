"""Lean backends: the embedded wasm Lean (default) and a native toolchain (where installed).

Both expose the same small surface, so the checker never branches on the backend:

* ``session()`` gives a :class:`Session`: a private working folder plus ``run(args)``, and
  ``compile(file, source, olean)``, Lean's compile of one file there (every check is compiled,
  so that the compiled environment can be audited);
* ``name``, ``version``, ``library_dir``, ``core_index_path``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import PolicyConfigError, SetupError
from pipeline.lean.install import READY_TIMEOUT_S, embedded_command, load_install
from pipeline.lean.olean.environment import core_index_path
from pipeline.lean.pool import Pool
from pipeline.lean.process import LeanProcess, RawRun
from pipeline.settings import Settings, cpu_count

TOOLCHAIN = "leanprover/lean4:v4.28.0"
GIB = 1024


class Session(ABC):
    """A leased Lean: a private folder to put files in, and one run."""

    workdir: Path

    @abstractmethod
    def run(self, args: Sequence[str], timeout_s: float) -> RawRun: ...

    def compile(self, file_name: str, source: str, olean: str, timeout_s: float) -> RawRun:
        """Write ``source`` to ``file_name`` in the working folder and compile it, writing the
        ``.olean`` to ``olean`` (both relative to the folder)."""
        target = self.workdir / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        (self.workdir / olean).parent.mkdir(parents=True, exist_ok=True)
        return self.run(["--json", "-o", olean, file_name], timeout_s)


class Backend(ABC):
    name: str
    version: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextmanager
    @abstractmethod
    def session(self, timeout_s: float) -> Iterator[Session]: ...

    @abstractmethod
    def resident_command(self, workdir: Path) -> tuple[list[str], dict[str, str]]:
        """argv and environment of a resident ``lean --worker`` (LSP on stdin/stdout) in
        ``workdir``: the iteration path's engine (:mod:`pipeline.lean.resident`)."""

    def expect_leases(self, leases: int | None) -> None:
        """How many more sessions will come (``Pool.expect``); a backend without a warm
        pool starts nothing ahead, so there is nothing to declare."""

    def close(self) -> None:
        pass

    @property
    @abstractmethod
    def library_dir(self) -> Path:
        """The core library's ``.olean`` files (``Init``, ``Std``, ``Lean``) of this Lean."""

    @property
    @abstractmethod
    def core_index_path(self) -> Path:
        """Where this Lean's core-library index lives (see ``pipeline.lean.olean``)."""


# ---------------------------------------------------------------------------------------------
# Embedded (wasm) Lean


class _ProcessSession(Session):
    def __init__(self, process: LeanProcess) -> None:
        self.process = process
        self.workdir = process.workdir

    def run(self, args: Sequence[str], timeout_s: float) -> RawRun:
        return self.process.run(args, timeout_s)


def auto_pool_size(settings: Settings) -> int:
    """As many warm processes as cores, bounded by free memory (each holds ~3.5 GB at peak)."""
    if settings.pool_size is not None:
        return max(1, settings.pool_size)
    import psutil

    free_mb = psutil.virtual_memory().available / (1 << 20)
    by_memory = int((free_mb - 2 * GIB) // (4 * GIB))
    return max(1, min(cpu_count(), by_memory))


class EmbeddedBackend(Backend):
    name = "embedded"

    def __init__(self, settings: Settings, *, warm: bool = True, prestart: bool = False,
                 expected_leases: int | None = None) -> None:
        super().__init__(settings)
        self.install = load_install(settings)
        self.version = self.install.lean_version
        self.settings.build_dir.mkdir(parents=True, exist_ok=True)
        self._pool: Pool[None, LeanProcess] | None = None
        self.warm = warm
        if warm:
            size = auto_pool_size(settings)
            self._pool = Pool(self._new_process, size, ready_timeout_s=READY_TIMEOUT_S,
                              expected_leases=expected_leases)
            if prestart:
                self._pool.warm(None, size)

    def _new_process(self, _key: None = None) -> LeanProcess:
        workdir = Path(tempfile.mkdtemp(prefix="sequent-lean-"))
        cmd, env = embedded_command(self.install, workdir, self.settings.build_dir,
                                    threads=self.settings.lean_threads)
        return LeanProcess(cmd, workdir=workdir, env=env, warm=True, memory_mb=self.settings.lean_memory_mb).start()

    @contextmanager
    def session(self, timeout_s: float) -> Iterator[Session]:
        if self._pool is None:
            process = self._new_process()
            try:
                yield _ProcessSession(process)
            finally:
                process.close()
            return
        with self._pool.lease(None, timeout_s + READY_TIMEOUT_S) as lease:
            yield _ProcessSession(lease.worker)

    @property
    def library_dir(self) -> Path:
        return self.install.lib

    @property
    def core_index_path(self) -> Path:
        return core_index_path(self.settings.lean_dir)

    def resident_command(self, workdir: Path) -> tuple[list[str], dict[str, str]]:
        return embedded_command(self.install, workdir, self.settings.build_dir, threads=self.settings.lean_threads,
                                resident_threads=max(1, self.settings.resident_threads))

    def expect_leases(self, leases: int | None) -> None:
        if self._pool is not None:
            self._pool.expect(leases)

    def pool_stats(self) -> dict[str, int]:
        return self._pool.stats().model_dump() if self._pool else {}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


# ---------------------------------------------------------------------------------------------
# Native Lean (elan toolchain)


class _NativeSession(Session):
    def __init__(self, backend: NativeBackend) -> None:
        self.backend = backend
        self.workdir = Path(tempfile.mkdtemp(prefix="sequent-native-"))

    def run(self, args: Sequence[str], timeout_s: float) -> RawRun:
        cmd = [*self.backend.prefix, *args]
        env = dict(os.environ)
        env["LEAN_PATH"] = os.pathsep.join(
            p for p in (str(self.backend.settings.build_dir), env.get("LEAN_PATH", "")) if p
        )
        process = LeanProcess(cmd, workdir=self.workdir, env=env, warm=False,
                              memory_mb=self.backend.settings.lean_memory_mb)
        try:
            return process.start().run(None, timeout_s)
        finally:
            process.kill()

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def native_available() -> bool:
    return shutil.which("lean") is not None


class NativeBackend(Backend):
    """``lake env lean --json`` where a matching toolchain is on PATH."""

    name = "native"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        lean = shutil.which("lean")
        if lean is None:
            raise SetupError("native Lean was requested but `lean` is not on PATH (install elan)")
        lake = shutil.which("lake")
        in_project = (settings.project_root / "lakefile.lean").exists()
        self.prefix = [lake, "env", "lean"] if (lake and in_project) else [lean]
        try:
            out = subprocess.run([lean, "--version"], capture_output=True, text=True, timeout=60, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SetupError(f"`lean --version` failed: {exc}") from exc
        self.version = out.stdout.strip()
        try:
            libdir = subprocess.run([lean, "--print-libdir"], capture_output=True, text=True, timeout=60, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SetupError(f"`lean --print-libdir` failed: {exc}") from exc
        self._library = Path(libdir.stdout.strip())
        settings.build_dir.mkdir(parents=True, exist_ok=True)

    @property
    def library_dir(self) -> Path:
        return self._library

    @property
    def core_index_path(self) -> Path:
        digest = hashlib.sha256(self.version.encode()).hexdigest()[:16]
        return self.settings.state / f"core-index-native-{digest}.json"

    def resident_command(self, workdir: Path) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        env["LEAN_PATH"] = os.pathsep.join(
            p for p in (str(self.settings.build_dir), env.get("LEAN_PATH", "")) if p
        )
        return [*self.prefix, "--worker", "-Dserver.reportDelayMs=0"], env

    @contextmanager
    def session(self, timeout_s: float) -> Iterator[Session]:
        session = _NativeSession(self)
        try:
            yield session
        finally:
            session.close()


def open_backend(settings: Settings, *, warm: bool = True, prestart: bool = False,
                 expected_leases: int | None = None) -> Backend:
    """The configured backend: ``auto`` prefers a native toolchain, else the embedded Lean.
    ``warm``: keep a pool of started processes (else one cold process per check); ``prestart``:
    start the pool's processes now (a server), not at the first check (a command);
    ``expected_leases``: how many sessions will come, if the caller knows (``Pool.expect``)."""
    choice = settings.lean_backend
    if choice not in ("auto", "embedded", "native"):
        raise PolicyConfigError(f"unknown Lean backend {choice!r} (auto, embedded or native)")
    if choice == "native" or (choice == "auto" and native_available()):
        return NativeBackend(settings)
    return EmbeddedBackend(settings, warm=warm, prestart=prestart, expected_leases=expected_leases)


__all__ = [
    "TOOLCHAIN",
    "Backend",
    "EmbeddedBackend",
    "NativeBackend",
    "Session",
    "auto_pool_size",
    "native_available",
    "open_backend",
]
