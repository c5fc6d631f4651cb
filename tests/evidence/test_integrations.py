"""The trainer adapters, tested with the real libraries on a tiny model (skipped, with the
reason, where the optional extra is not installed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.evidence.runs import load_run

pytestmark = pytest.mark.torch


def test_hf_trainer_callback_records_every_optimiser_step(tmp_path: Path) -> None:
    transformers = pytest.importorskip(
        "transformers", reason="Hugging Face transformers is not installed (pip install -e .[hf])")
    from pipeline.evidence.integrations.hf import SequentCallback

    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=32, n_positions=8, n_embd=16, n_layer=1,
                                     n_head=2)
    model = transformers.GPT2LMHeadModel(config)
    ids = torch.randint(0, 32, (48, 8))
    data = [{"input_ids": row, "labels": row} for row in ids]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=12, per_device_train_batch_size=4,
        gradient_accumulation_steps=2, learning_rate=1e-3, lr_scheduler_type="linear",
        logging_steps=4, report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
        seed=5)
    callback = SequentCallback(tmp_path / "run", snapshot_every=4)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data,
                                   callbacks=[callback])
    trainer.train()
    run = load_run(tmp_path / "run")
    assert run.provenance.source == "transformers.Trainer" and run.seed == 5
    assert run.n_steps == 12 and np.isfinite(run.metrics["loss"]).all()
    assert (run.metrics["grad_sq"] > 0).all()
    lr = run.metrics["lr"]
    assert lr[0] == pytest.approx(1e-3) and np.all(np.diff(lr) < 0)  # linear decay
    assert [s.step for s in run.snapshots] == [4, 8, 12]
    assert run.config["hf_training_args"]["learning_rate"] == 1e-3
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    ours = run.metrics["loss"].reshape(-1, 4).mean(axis=1)
    assert ours[: len(logged)] == pytest.approx(logged, rel=1e-3)


# lightning 2.6.6 still uses torch's deprecated pytree LeafSpec, and warns about a 1-worker loader
@pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning",
                            "ignore:.*does not have many workers.*")
def test_lightning_callback_records_every_optimiser_step(tmp_path: Path) -> None:
    lightning = pytest.importorskip(
        "lightning", reason="PyTorch Lightning is not installed (pip install -e .[lightning])")
    from pipeline.evidence.integrations.lightning import SequentCallback

    class Regression(lightning.LightningModule):
        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Linear(4, 1)
            self.seen: list[float] = []

        def training_step(self, batch: list[torch.Tensor], _idx: int) -> torch.Tensor:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y)
            self.seen.append(float(loss.detach()))
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    data = torch.utils.data.TensorDataset(x, x @ torch.tensor([1.0, -2.0, 0.5, 3.0]))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    module = Regression()
    trainer = lightning.Trainer(max_steps=6, accumulate_grad_batches=2, accelerator="cpu",
                                logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False,
                                callbacks=[SequentCallback(tmp_path / "run", seed=1,
                                                           snapshot_every=3)])
    trainer.fit(module, loader)
    run = load_run(tmp_path / "run")
    assert run.provenance.source == "lightning.Trainer" and run.n_steps == 6
    assert run.config["hparams"] == {"lr": 0.05}
    assert np.allclose(run.metrics["lr"], 0.05) and (run.metrics["grad_sq"] > 0).all()
    micro = np.asarray(module.seen).reshape(-1, 2).mean(axis=1)
    assert run.metrics["loss"] == pytest.approx(micro, rel=1e-5)
    assert run.metrics["loss"][-1] < run.metrics["loss"][0]
    assert [s.step for s in run.snapshots] == [3, 6]
