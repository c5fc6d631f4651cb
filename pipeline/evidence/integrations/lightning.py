"""The tracking hook as a PyTorch Lightning ``Callback``.

    from pipeline.evidence.integrations.lightning import SequentCallback

    trainer = lightning.Trainer(max_steps=1000,
                                callbacks=[SequentCallback("runs/pl1", snapshot_every=100)])
    trainer.fit(module, loader)   # runs/pl1 is a closed run directory afterwards

The loss ``training_step`` returned is taken in ``on_before_backward``; the step is recorded
in ``on_before_optimizer_step`` (gradients ready, before ``optimizer.step()``), with the
learning rate of the first optimiser. With gradient accumulation the losses of the
micro-batches (each divided by the number of micro-batches, as Lightning does) are added up.
The module's ``hparams`` go into ``config["hparams"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning
import torch

from pipeline.evidence.projection import Projection
from pipeline.evidence.tracking import Tracker


class SequentCallback(lightning.Callback):
    """Records a Lightning run into ``run_dir`` through the tracking hook."""

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

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        optimizers = trainer.optimizers
        hparams = {k: v for k, v in dict(pl_module.hparams).items()
                   if isinstance(v, str | int | float | bool) or v is None}
        self.tracker = Tracker(self.run_dir, pl_module, optimizers[0] if optimizers else None,
                               config={**self._config, "hparams": hparams}, seed=self._seed,
                               kind="training", snapshot_every=self._snapshot_every,
                               source="lightning.Trainer",
                               snapshot_projection=self._projection)

    def on_before_backward(self, trainer: Any, pl_module: Any, loss: torch.Tensor) -> None:
        self._losses.append(loss.detach())

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        if self.tracker is None:
            return
        losses, self._losses = self._losses, []
        loss = torch.stack([v.reshape(()).float() for v in losses]).sum() if losses else None
        self.tracker.step(loss)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.tracker is not None:
            self.tracker.close()


__all__ = ["SequentCallback"]
