"""Building runs for tests from numpy arrays (real run directories, written and re-read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.evidence.models import Provenance, Run, Snapshot
from pipeline.evidence.runs import load_run, write_run

P = "pipeline.evidence.checks."


def make_run(tmp: Path, name: str = "run", *, metrics: dict[str, Any] | None = None,
             samples: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
             snapshots: list[Snapshot] | None = None, seed: int | None = 7) -> Run:
    """Write a run directory and load it back, as the command would."""
    run = Run(id=name, kind="test", config=config or {}, metrics=metrics or {},
              samples=samples or {}, snapshots=tuple(snapshots or ()), seed=seed,
              provenance=Provenance(source="test"))
    return load_run(write_run(run, tmp / name))


def bernoulli(p: float, n: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < p).astype(float)
