"""The tracking hook as a Hugging Face ``transformers`` ``TrainerCallback``.

    from pipeline.evidence.integrations.hf import SequentCallback

    trainer = Trainer(model=model, args=args, train_dataset=data,
                      callbacks=[SequentCallback("runs/hf1", seed=0, snapshot_every=100)])
    trainer.train()          # runs/hf1 is a closed run directory afterwards

Per optimiser step (``on_pre_optimizer_step``: after backward and gradient clipping, before
``optimizer.step()``) it calls :meth:`Tracker.step` with the mean of the training losses the
model returned since the previous step (read by a forward hook on the model; several with
gradient accumulation: their mean, or their sum when the Trainer passed the model the step's
token count ``num_items_in_batch``, as ``transformers`` ≥ 4.46 does) and the learning rate of the Trainer's optimiser. The Trainer's
arguments (``to_sanitized_dict``) go into ``config["hf_training_args"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from pipeline.errors import EvidenceError
from pipeline.evidence.integrations.recorder import RunRecorder
from pipeline.evidence.projection import Projection


class SequentCallback(RunRecorder, TrainerCallback):
    """Records a Trainer's run into ``run_dir`` through the tracking hook."""

    def __init__(self, run_dir: Path | str, *, config: Mapping[str, Any] | None = None,
                 seed: int | None = None, snapshot_every: int = 0,
                 snapshot_projection: Projection | None = None) -> None:
        super().__init__(run_dir, config=config, seed=seed, snapshot_every=snapshot_every,
                         snapshot_projection=snapshot_projection)
        self._handle: Any = None
        self._shares = False

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        model = kwargs.get("model")
        if model is None:
            raise EvidenceError("SequentCallback: the Trainer passed no model")
        seed = self._seed if self._seed is not None else getattr(args, "seed", None)
        self._open(model, kwargs.get("optimizer"), config={"hf_training_args": args.to_sanitized_dict()},
                   seed=seed, source="transformers.Trainer")
        self._handle = model.register_forward_hook(self._capture, with_kwargs=True)

    def _capture(self, module: torch.nn.Module, _args: Any, kwargs: dict[str, Any],
                 output: Any) -> None:
        if not module.training:
            return
        loss = output.get("loss") if isinstance(output, Mapping) else getattr(output, "loss", None)
        if isinstance(loss, torch.Tensor):
            self._losses.append(loss.detach())
            # given the token count of the whole accumulated step, the model returns its
            # share of the step's mean loss (the shares add up); otherwise a micro-batch mean
            self._shares = kwargs.get("num_items_in_batch") is not None

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._record_step(shares=self._shares)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        self._close()


__all__ = ["SequentCallback"]
