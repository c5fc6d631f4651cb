"""TensorBoard event files (scalars) → a run, read with tbparse."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.importers.common import finish
from pipeline.evidence.models import Run


def read_scalars(logdir: Path) -> dict[str, np.ndarray]:
    """One column per scalar tag, aligned on the union of steps (missing → NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tensorboard/protobuf deprecations are not ours
        from tbparse import SummaryReader

        try:
            frame = SummaryReader(str(logdir)).scalars
        except Exception as exc:
            raise InputError(f"{logdir}: cannot read TensorBoard events: {exc}") from exc
    if frame is None or len(frame) == 0:
        raise InputError(f"{logdir}: no scalar events found")
    steps = np.unique(frame["step"].to_numpy(dtype=np.float64))
    columns: dict[str, np.ndarray] = {"step": steps}
    for tag, group in frame.groupby("tag", sort=False):
        col = np.full(steps.shape[0], np.nan)
        pos = np.searchsorted(steps, group["step"].to_numpy(dtype=np.float64))
        col[pos] = group["value"].to_numpy(dtype=np.float64)  # last write per step wins
        columns[str(tag)] = col
    return columns


def import_tensorboard(logdir: Path | str, out_dir: Path | str, *,
                       config: Mapping[str, Any] | None = None, run_id: str | None = None,
                       kind: str = "training") -> Run:
    src = Path(logdir)
    if not src.exists():
        raise NotFoundError(f"{src} does not exist")
    if src.is_dir() and not any(p.name.startswith("events.out.tfevents") for p in src.rglob("*")):
        raise InputError(f"{src} holds no TensorBoard event files (events.out.tfevents.*)")
    cols = read_scalars(src)
    return finish(cols, out_dir, source="tensorboard", source_path=src, config=config,
                  run_id=run_id, kind=kind, notes=[])


__all__ = ["import_tensorboard", "read_scalars"]
