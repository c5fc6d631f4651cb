"""In-context linear regression with a small transformer (Garg et al. 2022; the setting in which
Raventós et al. 2023 and Carroll et al. 2025 studied task diversity, developmental stages and
the local learning coefficient).

Every prompt draws a fresh task w ~ N(0, I_D) and K + 1 inputs x ~ N(0, I_D) with
y = w·x + σε. The tokens are (x_k, y_k, 0) for the K context pairs and (x_q, 0, 1) for the
query; the transformer predicts y_q from the last position. Data are generated on the fly
from a seeded generator. Training: AdamW at a constant learning rate on mini-batches of
prompts, through the tracking hook, with full-gradient snapshots taken on a fixed probe set
of ``n`` prompts (the same set on which the local learning coefficient is estimated at the
end, loss = the Gaussian negative log-likelihood (y − ŷ)²/(2σ²)).

The hypotheses of ``sgd_chung`` (a 1/(λt) step size, strong convexity, a bounded gradient
second moment) are not designed in: a constant-rate AdamW run on a transformer is what
researchers actually do, and the checks are expected to say that the claim does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded, train_step
from experiments.transformer import TinyTransformer, llc_traces, parameter_count
from pipeline.evidence import llc
from pipeline.tracking import Tracker

VARIANTS = ("reference",)


@dataclass(frozen=True)
class Setting:
    dim: int
    context: int
    width: int
    layers: int
    steps: int
    batch: int
    probe: int
    """n: prompts in the probe set (snapshot gradients, the LLC)."""
    sgld: llc.SGLDSettings


TEST = Setting(dim=3, context=6, width=16, layers=1, steps=150, batch=32, probe=256,
               sgld=llc.SGLDSettings(step_size=2e-5, gamma=300.0, chains=2, draws=80,
                                     burn_in=20))
FULL = Setting(dim=4, context=10, width=32, layers=2, steps=4000, batch=64, probe=1024,
               sgld=llc.SGLDSettings(step_size=1e-5, gamma=300.0, chains=4, draws=300,
                                     burn_in=100, batch_size=256))
NOISE = 0.25
LR = 1e-3


def prompts(gen: torch.Generator, count: int, dim: int, context: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` prompts (tokens of shape count × (context + 1) × (dim + 2)) and targets."""
    w = torch.randn(count, dim, generator=gen)
    x = torch.randn(count, context + 1, dim, generator=gen)
    y = (x @ w.unsqueeze(-1)).squeeze(-1) + NOISE * torch.randn(count, context + 1, generator=gen)
    tokens = torch.zeros(count, context + 1, dim + 2)
    tokens[..., :dim] = x
    tokens[:, :context, dim] = y[:, :context]
    tokens[:, context, dim + 1] = 1.0
    return tokens, y[:, context]


def nll(model: torch.nn.Module, tokens: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Gaussian negative log-likelihood (up to a constant) of the query targets."""
    loss: torch.Tensor = ((model(tokens).squeeze(-1) - target) ** 2).mean() / (2 * NOISE**2)
    return loss


def icl_regression(out_dir: Path | str, seed: int = 0, quick: bool = False,
                   variant: str = "reference", *, estimate_llc: bool = True) -> Path:
    """Train, snapshot and (by default) estimate the LLC at the end; returns the run dir.

    ``quick=True`` is a test-sized run (seconds); the default setting takes about a minute
    on one core.
    """
    check_variant(variant, VARIANTS, "icl_regression")
    root = fresh_dir(out_dir)
    s = TEST if quick else FULL
    with seeded(seed):
        model = TinyTransformer(inputs=s.dim + 2, outputs=1, length=s.context + 1,
                                width=s.width, layers=s.layers, heads=2)
        d = parameter_count(model)
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
        gen = torch.Generator().manual_seed(seed + 7919)
        probe = prompts(torch.Generator().manual_seed(seed + 104729), s.probe, s.dim, s.context)
        config: dict[str, object] = {
            "task": "in-context linear regression", "dim": s.dim, "context": s.context,
            "noise": NOISE, "width": s.width, "layers": s.layers, "heads": 2,
            "parameters": d, "optimizer": "AdamW", "lr": LR, "batch_size": s.batch,
            "steps": s.steps, "quick": quick, "variant": variant,
            "snapshot_grad": f"full gradient of the NLL on a fixed probe set of {s.probe} prompts",
        }
        if estimate_llc:
            config["llc"] = llc.run_config(s.sgld, n=s.probe, d=d)
        every = max(1, s.steps // 20)
        with Tracker(root, model, opt, config=config, seed=seed, kind="transformer",
                     source="experiment:icl_regression") as track:
            for t in range(1, s.steps + 1):
                if t == 1 or t % every == 0:
                    opt.zero_grad()
                    nll(model, *probe).backward()
                    track.snapshot(grad_kind="full")
                tokens, target = prompts(gen, s.batch, s.dim, s.context)
                train_step(opt, track, nll(model, tokens, target))
            if estimate_llc:
                traces = llc_traces(model, nll, probe, s.sgld, seed)
                track.close(samples=llc.run_samples(traces))
    return root


__all__ = ["FULL", "TEST", "VARIANTS", "icl_regression", "nll", "prompts"]
