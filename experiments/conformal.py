"""Split conformal regression.

A small MLP is trained (tracked) on ``y = sin(2x₀) + x₁/2 + ε``. Absolute residuals on a
calibration split are the nonconformity scores; test points arrive in time order and their
scores, and whether the conformal interval at level 0.9 covers them, are recorded.

Variant: ``drift`` — the noise of the test stream grows over time (not exchangeable).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from experiments.common import check_variant, fresh_dir, seeded, train_step
from pipeline.tracking import Tracker

VARIANTS = ("reference", "drift")


def _data(n: int, gen: torch.Generator, noise: torch.Tensor | float = 0.3
          ) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n, 2, generator=gen) * 4 - 2
    y = torch.sin(2 * x[:, 0]) + 0.5 * x[:, 1] + noise * torch.randn(n, generator=gen)
    return x, y


def conformal(out_dir: Path | str, seed: int = 0, quick: bool = False,
              variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "conformal")
    root = fresh_dir(out_dir)
    n_cal = n_test = 2500
    steps = 400 if quick else 3000
    level = 0.9
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        x_train, y_train = _data(4096, gen)
        model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(),
                                    torch.nn.Linear(32, 1))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        config = {"variant": variant, "quick": quick, "level": level, "steps": steps,
                  "n_calibration": n_cal, "n_test": n_test}
        track = Tracker(root, model, opt, config=config, seed=seed, kind="conformal",
                        source="experiment:conformal")
        for _ in range(steps):
            idx = torch.randint(0, x_train.shape[0], (128,), generator=gen)
            train_step(opt, track, torch.nn.functional.mse_loss(
                model(x_train[idx]).squeeze(-1), y_train[idx]))
        x_cal, y_cal = _data(n_cal, gen)
        noise = 0.3 * (1 + 2 * torch.linspace(0, 1, n_test)) if variant == "drift" else 0.3
        x_test, y_test = _data(n_test, gen, noise)
        with torch.no_grad():
            cal = (model(x_cal).squeeze(-1) - y_cal).abs().numpy().astype(np.float64)
            test = (model(x_test).squeeze(-1) - y_test).abs().numpy().astype(np.float64)
        rank = int(np.ceil((n_cal + 1) * level)) - 1
        q = float(np.sort(cal)[min(rank, n_cal - 1)])
        track.close(samples={"calibration_scores": cal, "test_scores": test,
                             "covered": (test <= q).astype(np.float64)})
    return root


__all__ = ["VARIANTS", "conformal"]
