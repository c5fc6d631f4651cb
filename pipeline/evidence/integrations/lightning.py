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

from typing import Any

import lightning
import torch

from pipeline.evidence.integrations.recorder import RunRecorder


class SequentCallback(RunRecorder, lightning.Callback):
    """Records a Lightning run into ``run_dir`` through the tracking hook."""

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        optimizers = trainer.optimizers
        hparams = {k: v for k, v in dict(pl_module.hparams).items()
                   if isinstance(v, str | int | float | bool) or v is None}
        self._open(pl_module, optimizers[0] if optimizers else None, config={"hparams": hparams},
                   seed=self._seed, source="lightning.Trainer")

    def on_before_backward(self, trainer: Any, pl_module: Any, loss: torch.Tensor) -> None:
        self._losses.append(loss.detach())

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        self._record_step(shares=True)  # Lightning divides each micro-batch's loss: shares

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._close()


__all__ = ["SequentCallback"]
