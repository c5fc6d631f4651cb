"""Modular addition with a one- or two-layer transformer (Power et al. 2022, *Grokking*;
Nanda et al. 2023): learn (a + b) mod p from a fraction of the p² pairs, first memorising
the training pairs, then (with weight decay, given enough steps) generalising to the rest.

The tokens are ``a, b, =`` (ids 0…p−1 and p); the transformer predicts the sum from the last
position. The pairs are generated on the fly from the seed and split into train and test.
Training: full-batch AdamW with weight decay at a constant learning rate, through the
tracking hook, with ``train_acc`` and ``test_acc`` logged every ``eval_every`` steps and
full-batch gradient snapshots. At the end the local learning coefficient is estimated on the
training set (loss: the cross-entropy, the negative log-likelihood of the sum).
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
    p: int
    width: int
    layers: int
    steps: int
    train_fraction: float
    eval_every: int
    sgld: llc.SGLDSettings


TEST = Setting(p=11, width=32, layers=1, steps=200, train_fraction=0.6, eval_every=25,
               sgld=llc.SGLDSettings(step_size=3e-4, gamma=1000.0, chains=4, draws=150,
                                     burn_in=50))
FULL = Setting(p=31, width=64, layers=1, steps=3000, train_fraction=0.4, eval_every=50,
               sgld=llc.SGLDSettings(step_size=1e-4, gamma=1000.0, chains=4, draws=300,
                                     burn_in=100))
LR = 3e-3
WEIGHT_DECAY = 1.0


def pairs(p: int, seed: int, train_fraction: float
          ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """((train tokens, sums), (test tokens, sums)) of all p² pairs, split at random."""
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    tokens = torch.stack([a.reshape(-1), b.reshape(-1), torch.full((p * p,), p)], dim=1)
    sums = (a.reshape(-1) + b.reshape(-1)) % p
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed + 31337))
    cut = round(train_fraction * p * p)
    tr, te = order[:cut], order[cut:]
    return (tokens[tr], sums[tr]), (tokens[te], sums[te])


def cross_entropy(model: torch.nn.Module, tokens: torch.Tensor, sums: torch.Tensor
                  ) -> torch.Tensor:
    return torch.nn.functional.cross_entropy(model(tokens), sums)


def _accuracy(model: torch.nn.Module, tokens: torch.Tensor, sums: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(tokens).argmax(-1) == sums).double().mean())


def modular_addition(out_dir: Path | str, seed: int = 0, quick: bool = False,
                     variant: str = "reference", *, estimate_llc: bool = True,
                     layers: int | None = None) -> Path:
    """Train, snapshot and (by default) estimate the LLC at the end; returns the run dir.

    ``quick=True`` is a test-sized run (seconds; it memorises, it does not generalise); the
    default setting takes a few minutes on one core. ``layers`` overrides the depth (1 or 2).
    """
    check_variant(variant, VARIANTS, "modular_addition")
    root = fresh_dir(out_dir)
    s = TEST if quick else FULL
    depth = layers if layers is not None else s.layers
    with seeded(seed):
        model = TinyTransformer(inputs=s.p + 1, outputs=s.p, length=3, width=s.width,
                                layers=depth, heads=4, tokens=True)
        d = parameter_count(model)
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY,
                                betas=(0.9, 0.98))
        train, test = pairs(s.p, seed, s.train_fraction)
        config: dict[str, object] = {
            "task": "modular addition", "p": s.p, "train_fraction": s.train_fraction,
            "train_pairs": int(train[0].shape[0]), "width": s.width, "layers": depth,
            "heads": 4, "parameters": d, "optimizer": "AdamW", "lr": LR,
            "weight_decay": WEIGHT_DECAY, "batch": "full", "steps": s.steps, "quick": quick,
            "variant": variant,
        }
        if estimate_llc:
            config["llc"] = llc.run_config(s.sgld, n=int(train[0].shape[0]), d=d)
        every = max(1, s.steps // 20)
        with Tracker(root, model, opt, config=config, seed=seed, kind="transformer",
                     source="experiment:modular_addition") as track:
            for t in range(1, s.steps + 1):
                snap = t == 1 or t % every == 0  # the batch is the whole training set
                evaluate = t == 1 or t % s.eval_every == 0
                train_step(
                    opt, track, cross_entropy(model, *train),
                    after_backward=(lambda: track.snapshot(grad_kind="full")) if snap else None,
                    metrics=(lambda: {"train_acc": _accuracy(model, *train),
                                      "test_acc": _accuracy(model, *test)}) if evaluate else None)
            if estimate_llc:
                traces = llc_traces(model, cross_entropy, train, s.sgld, seed)
                track.close(samples=llc.run_samples(traces))
    return root


__all__ = ["FULL", "TEST", "VARIANTS", "cross_entropy", "modular_addition", "pairs"]
