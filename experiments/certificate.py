"""A failure-rate certificate: a classifier certified on i.i.d. data, then deployed.

A logistic-regression classifier is trained (tracked) on a two-class Gaussian mixture.
Certification episodes and deployment episodes are drawn; an episode fails when the
classifier misclassifies it. The run records the deployment ``failure`` sequence in time
order and, as the 1-D summary of each input whose distribution the certificate assumes
unchanged, the classifier's logit on ``certification`` and ``deployment`` inputs.

Variants: ``bursty`` (deployment inputs come in sticky easy/hard regimes: failures cluster),
``shifted`` (deployment inputs are shifted: a different distribution), ``short`` (2,000
deployment trials, fewer than the claim's j·m).
"""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded, train_step
from pipeline.tracking import Tracker

VARIANTS = ("reference", "bursty", "shifted", "short")
D = 5


def _draw(n: int, gen: torch.Generator, shift: float = 0.0,
          hard: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.randint(0, 2, (n,), generator=gen).float()
    centre = torch.zeros(n, D)
    sep = torch.full((n,), 1.3)
    if hard is not None:
        sep = torch.where(hard, torch.tensor(0.15), torch.tensor(2.0))
    centre[:, 0] = (2 * y - 1) * sep
    x = centre + torch.randn(n, D, generator=gen)
    x[:, :] += shift
    return x, y


def certificate(out_dir: Path | str, seed: int = 0, quick: bool = False,
                variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "certificate")
    root = fresh_dir(out_dir)
    # 8,000 deployment trials: 8 blocks of m = 1,000 for the conclusion check; ``short``
    # logs 2,000, fewer than the claim's j·m = 3,000 (h_trials fails)
    n_cert, n_deploy = 3000, 2000 if variant == "short" else 8000
    steps = 300 if quick else 2000
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        x_train, y_train = _draw(4096, gen)
        model = torch.nn.Linear(D, 1)
        opt = torch.optim.SGD(model.parameters(), lr=0.2)
        config = {"variant": variant, "quick": quick, "n_certification": n_cert,
                  "n_deployment": n_deploy, "steps": steps}
        track = Tracker(root, model, opt, config=config, seed=seed, kind="certificate",
                        source="experiment:certificate")
        for _ in range(steps):
            idx = torch.randint(0, x_train.shape[0], (64,), generator=gen)
            train_step(opt, track, torch.nn.functional.binary_cross_entropy_with_logits(
                model(x_train[idx]).squeeze(-1), y_train[idx]))
        x_cert, _ = _draw(n_cert, gen)
        if variant == "bursty":
            # a sticky two-state regime: stay with probability 0.98
            flips = torch.rand(n_deploy, generator=gen) < 0.02
            hard = (torch.cumsum(flips.long(), 0) % 2).bool()
            x_dep, y_dep = _draw(n_deploy, gen, hard=hard)
        else:
            x_dep, y_dep = _draw(n_deploy, gen, shift=0.6 if variant == "shifted" else 0.0)
        with torch.no_grad():
            logit_cert = model(x_cert).squeeze(-1)
            logit_dep = model(x_dep).squeeze(-1)
        failure = ((logit_dep > 0).float() != y_dep).float()
        margin = (2 * y_dep - 1) * logit_dep  # failure iff margin < 0 (ties count as failures)
        track.close(samples={"failure": failure.numpy(), "margin": margin.numpy(),
                             "certification": logit_cert.numpy(),
                             "deployment": logit_dep.numpy()})
    return root


__all__ = ["VARIANTS", "certificate"]
