"""Settings, built once (environment prefix ``SEQUENT_``) and passed down.

No module imports a global settings instance: commands build one with
``Settings.load(project_root)`` and hand it to the code they call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BackendName = Literal["auto", "embedded", "native"]


def _find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``lakefile.lean``; ``start`` itself if none does."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "lakefile.lean").exists():
            return folder
    return start


class Settings(BaseSettings):
    """Every tunable of the pipeline, in one frozen object."""

    model_config = SettingsConfigDict(env_prefix="SEQUENT_", frozen=True, extra="ignore")

    project_root: Path = Field(default_factory=lambda: _find_project_root(Path.cwd()))
    """The project: holds ``Formal/``, ``claims/``, ``lakefile.lean``."""
    state_dir: Path | None = None
    """Per-project state (git-ignored). Defaults to ``<project_root>/.sequent``."""
    lean_home: Path | None = None
    """Where the embedded Lean is installed. Defaults to ``<state_dir>/lean``. Tests and
    several projects may share one install by pointing this at it."""
    lean_backend: BackendName = "auto"
    """``auto`` prefers native Lean when ``lake``/``lean`` of the pinned toolchain is on PATH."""
    lean_timeout_s: float = 300.0
    """Wall-clock limit of one check."""
    lean_memory_mb: int = 6144
    """Resident-memory cap of one Lean process tree."""
    pool_size: int | None = None
    """Warm Lean processes. ``None``: chosen from free memory and cores (at least 1)."""
    lean_threads: int = 1
    """Threads pre-started in each one-shot Lean process (checks, builds). Each pre-started
    wasm thread costs ~2-8 s of CPU to instantiate before the process is ready; one is the
    measured optimum for one file (docs/performance.md), and Lean starts more if it needs them."""
    resident_workers: int | None = None
    """Resident Lean workers (the iteration path: ``lean --worker`` processes keyed by import
    header). ``None``: as many as the warm pool would hold."""
    resident_threads: int = 6
    """Threads pre-started in each resident worker (a thread created later stalls Lean 1-3 s)."""
    resident_recycle_checks: int = 500
    """A resident worker is replaced after this many checks."""
    resident_recycle_mb: int = 4400
    """A resident worker whose resident memory passes this after a check is replaced."""
    artifact_cache: Path | None = None
    """A content-addressed store of built modules (``.olean`` parts and the build's verdict),
    shared by the checkouts of one machine: a module whose source, imports, Lean and audit
    are unchanged is copied from it instead of compiled, then audited again. Off by default;
    only this user's own builds may write to it (see docs/lean-backends.md)."""
    provenance_key: Path | None = None
    """This user's key for the MACs of stored build artifacts (pipeline/lean/provenance.py).
    Defaults to ``$XDG_STATE_HOME/sequent/provenance.key`` (``~/.local/state/…``): outside
    every checkout, so a tree under check cannot supply it. Machines that share an artifact
    store or a result database may share one key file."""
    lean_replay: bool = True
    """Replay every compiled module and accepted check in a fresh Lean process (its constants
    sent again to the kernel from the ``.olean`` files, as ``lean4checker`` does;
    pipeline/lean/replay.py). Costs one Lean run per build of a module and per accepted check;
    off only for a development loop that trusts the compiling process's kernel."""
    max_file_bytes: int = 1_048_576
    """Largest Lean file accepted for checking."""
    database_url: str | None = None
    """SQLAlchemy URL. Defaults to SQLite in the state directory."""
    formal_dir: str = "Formal"
    claims_dir: str = "claims"

    @classmethod
    def load(cls, project_root: Path | None = None, **overrides: object) -> Settings:
        """Build settings from the environment, optionally rooted at ``project_root``."""
        if project_root is not None:
            overrides["project_root"] = Path(project_root).resolve()
        return cls(**overrides)  # type: ignore[arg-type]

    # ---- derived paths -------------------------------------------------------------
    @property
    def state(self) -> Path:
        return (self.state_dir or self.project_root / ".sequent").resolve()

    @property
    def lean_dir(self) -> Path:
        return (self.lean_home or self.state / "lean").resolve()

    @property
    def build_dir(self) -> Path:
        """Built ``.olean`` files of ``Formal/`` (and other project modules)."""
        return self.state / "build"

    @property
    def provenance_key_path(self) -> Path:
        if self.provenance_key is not None:
            return self.provenance_key.expanduser()
        xdg = os.environ.get("XDG_STATE_HOME")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
        return base / "sequent" / "provenance.key"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state / 'sequent.db'}"

    @property
    def formal_path(self) -> Path:
        return self.project_root / self.formal_dir

    @property
    def claims_path(self) -> Path:
        return self.project_root / self.claims_dir

    def ensure_state(self) -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        return self.state


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


__all__ = ["BackendName", "Settings", "cpu_count"]
