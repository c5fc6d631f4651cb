"""What the trainer adapters share: their arguments, the tracker they open, and the loss of a
step made of the losses the trainer reported since the previous one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pipeline.evidence.projection import Projection
from pipeline.evidence.tracking import Tracker


class RunRecorder:
    """The tracking hook's side of a trainer callback (subclassed with the trainer's own
    callback class: ``class SequentCallback(RunRecorder, TrainerCallback)``)."""

    def __init__(self, run_dir: Path | str, *, config: Mapping[str, Any] | None = None,
                 seed: int | None = None, snapshot_every: int = 0,
                 snapshot_projection: Projection | None = None) -> None:
        self.run_dir = Path(run_dir)
        self._config = dict(config or {})
        self._seed = seed
        self._snapshot_every = snapshot_every
        self._projection = snapshot_projection
        self.tracker: Tracker | None = None
        self._losses: list[torch.Tensor] = []

    def _open(self, model: torch.nn.Module, optimizer: Any, *, config: Mapping[str, Any],
              seed: int | None, source: str) -> None:
        """Open the run: the caller's config with the trainer's own ``config`` added."""
        self.tracker = Tracker(self.run_dir, model, optimizer, config={**self._config, **config},
                               seed=seed, kind="training", snapshot_every=self._snapshot_every,
                               source=source, snapshot_projection=self._projection)

    def _record_step(self, *, shares: bool) -> None:
        """One optimiser step, with the losses reported since the last one: their sum when each
        is a share of the step's loss (``shares``), else their mean."""
        if self.tracker is None:
            return
        losses, self._losses = self._losses, []
        loss = None
        if losses:
            stacked = torch.stack([v.reshape(()).float() for v in losses])
            loss = stacked.sum() if shares else stacked.mean()
        self.tracker.step(loss)

    def _close(self) -> None:
        if self.tracker is not None:
            self.tracker.close()


__all__ = ["RunRecorder"]
