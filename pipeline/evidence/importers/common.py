"""What every importer shares: name normalisation and writing the run directory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError
from pipeline.evidence import runs
from pipeline.evidence.models import Columns, Provenance, Run

ALIASES: dict[str, str] = {
    "learning_rate": "lr", "learningrate": "lr", "lr_0": "lr", "step_size": "lr",
    "gradient_norm": "grad_norm", "grad_norm_2": "grad_norm", "gradnorm": "grad_norm",
    "grad_norm_sq": "grad_sq", "grad_second_moment": "grad_sq",
    "train_loss": "loss", "training_loss": "loss",
    "global_step": "step", "iteration": "step", "iter": "step", "it": "step",
}
_PREFIX = re.compile(r"^(train|training)[/_.]", re.IGNORECASE)


def canonical(name: str) -> str:
    """``train/loss`` → ``loss``; ``Learning_Rate`` → ``lr``; others lower-cased as is."""
    key = name.strip()
    low = key.lower()
    if low in ALIASES:
        return ALIASES[low]
    stripped = _PREFIX.sub("", low)
    if stripped != low:
        return ALIASES.get(stripped, stripped)
    return key


def normalise(columns: Mapping[str, np.ndarray], notes: list[str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        new = canonical(name)
        if new in out:
            notes.append(f"column {name!r} maps to {new!r}, already taken; kept as {name!r}")
            new = name
        out[new] = values
    return out


def ordered_by_step(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sort rows by ``step`` (added as 1..n when missing)."""
    n = max((v.shape[0] for v in columns.values()), default=0)
    if "step" not in columns:
        columns = {"step": np.arange(1, n + 1, dtype=np.float64), **columns}
    order = np.argsort(columns["step"], kind="stable")
    return {k: v[order] for k, v in columns.items()}


def finish(columns: Mapping[str, np.ndarray], out_dir: Path | str, *, source: str,
           source_path: Path | str, config: Mapping[str, Any] | None, run_id: str | None,
           kind: str, notes: list[str], seed: int | None = None) -> Run:
    """Build the :class:`Run` and write it to ``out_dir`` (which must not hold a run)."""
    if not columns:
        raise InputError(f"{source_path}: no numeric metrics to import")
    root = Path(out_dir)
    if (root / runs.META).exists():
        raise InputError(f"{root} already holds a run; choose a new directory")
    cols = ordered_by_step(normalise(columns, notes))
    try:
        metrics = Columns(cols, equal_length=True)
    except ValueError as exc:
        raise InputError(f"{source_path}: {exc}") from exc
    cfg = dict(config or {})
    seed_value = seed if seed is not None else cfg.get("seed")
    run = Run(
        id=run_id or runs.new_run_id(), kind=kind, config=cfg, metrics=metrics,
        seed=seed_value if isinstance(seed_value, int) else None,
        provenance=Provenance(source=source, source_path=str(source_path),
                              created_at=datetime.now(UTC), notes=tuple(notes)),
    )
    runs.write_run(run, root)
    return run.model_copy(update={"path": root.resolve()})


__all__ = ["ALIASES", "canonical", "finish", "normalise"]
