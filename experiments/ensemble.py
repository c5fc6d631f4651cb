"""An ensemble that asks a mentor for help when its members disagree.

A stream of inputs ``x ∈ R^d`` is labelled by a hidden linear rule. ``K`` logistic-regression
members (one batched parameter tensor, different random initialisations) predict each
input. If all agree, the ensemble answers alone (recorded as ``agree = 1`` with
``correct``); otherwise it queries the mentor (``queried = 1``), and every member takes an
SGD step (step size 2/√n at the n-th query) on the labelled input with its own Poisson(1)
bootstrap weight, which keeps the members diverse. As the members converge the disagreement region shrinks, so the number of
queries grows sublinearly.

Variants: ``frozen`` (members never learn: the query rate stays constant, Q(T) is linear),
``clones`` (identical members: they always agree, never ask, and are often wrong).
"""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded
from pipeline.tracking import Tracker

VARIANTS = ("reference", "frozen", "clones")


def ensemble(out_dir: Path | str, seed: int = 0, quick: bool = False,
             variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "ensemble")
    root = fresh_dir(out_dir)
    d, k = 6, 7
    steps = 6000 if quick else 40000
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        w_true = torch.nn.functional.normalize(torch.randn(d, generator=gen), dim=0)
        if variant == "clones":
            init = torch.randn(1, d, generator=gen).repeat(k, 1)
        else:
            init = torch.randn(k, d, generator=gen) * 2.0
        members = torch.nn.Parameter(init)
        lr0 = 0.0 if variant == "frozen" else 2.0
        opt = torch.optim.SGD([members], lr=lr0)
        n_queries = 0
        config = {"d": d, "members": k, "steps": steps, "variant": variant, "quick": quick}
        xs = torch.randn(steps, d, generator=gen)
        ys = (xs @ w_true > 0).float()
        weights = torch.poisson(torch.ones(steps, k), generator=gen)
        with Tracker(root, [members], opt, config=config, seed=seed, kind="ensemble",
                     source="experiment:ensemble", flush_every=2048) as track:
            for t in range(steps):
                x, y = xs[t], ys[t]
                with torch.no_grad():
                    votes = (members @ x) > 0
                agree = bool(votes.all()) or not bool(votes.any())
                if agree:
                    correct = float(bool(votes[0]) == bool(y))
                    track.step(None, queried=0.0, agree=1.0, correct=correct)
                    continue
                n_queries += 1
                for group in opt.param_groups:  # ηₙ = η₀/√n over the n-th query
                    group["lr"] = lr0 / n_queries**0.5
                opt.zero_grad()
                logits = members @ x
                loss = (weights[t] * torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, y.expand(k), reduction="none")).mean()
                loss.backward()
                track.step(loss, queried=1.0, agree=0.0, correct=1.0)
                opt.step()
                opt.zero_grad()  # answered steps then log no (stale) gradient
    return root


__all__ = ["VARIANTS", "ensemble"]
