"""Prover–estimator composition on arguments built from stable nodes.

Each argument is a complete binary tree of depth 4 over 16 leaf sub-claims; every internal
node combines its two children with a stable (max-norm non-expansive) rule drawn at random:
the average, the max or the min — the rules ``Formal.ProverEstimator`` calls stable. The
leaves' true probabilities are drawn uniformly; the estimator estimates each leaf by the
frequency of Bernoulli draws (PyTorch), and the same rules combine the estimates up to the
root. Logged: ``leaf_estimate``/``leaf_exact`` (every leaf of every argument) and
``root_estimate``/``root_exact`` (one per argument).

Variant: ``noisy_leaves`` — 30 draws per leaf instead of 20,000, so leaf errors exceed
δ = 0.05 (the hypothesis h_leaf_error fails, and the root error may follow).
"""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded
from pipeline.tracking import Tracker

VARIANTS = ("reference", "noisy_leaves")
DEPTH = 4


def _evaluate(values: torch.Tensor, rules: list[torch.Tensor]) -> torch.Tensor:
    """The root value of each argument: ``values`` arguments × 2^DEPTH leaves, ``rules[l]``
    arguments × nodes of level l (0 average, 1 max, 2 min), combined bottom-up."""
    for level in rules:
        left, right = values[:, 0::2], values[:, 1::2]
        values = torch.where(level == 0, (left + right) / 2,
                             torch.where(level == 1, torch.maximum(left, right),
                                         torch.minimum(left, right)))
    return values[:, 0]


def prover_estimator(out_dir: Path | str, seed: int = 0, quick: bool = False,
                     variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "prover_estimator")
    root = fresh_dir(out_dir)
    arguments = 200 if quick else 2000
    draws = 30 if variant == "noisy_leaves" else 20000
    leaves = 2**DEPTH
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        exact = torch.rand(arguments, leaves, generator=gen, dtype=torch.float64)
        hits = torch.binomial(torch.full_like(exact, float(draws)), exact, generator=gen)
        estimate = hits / draws
        rules = [torch.randint(0, 3, (arguments, leaves >> (k + 1)), generator=gen)
                 for k in range(DEPTH)]
        config = {"arguments": arguments, "depth": DEPTH, "draws_per_leaf": draws,
                  "variant": variant, "quick": quick}
        track = Tracker(root, [torch.nn.Parameter(estimate.float())], None, config=config,
                        seed=seed, kind="prover_estimator",
                        source="experiment:prover_estimator")
        track.close(samples={"leaf_estimate": estimate.reshape(-1).numpy(),
                             "leaf_exact": exact.reshape(-1).numpy(),
                             "root_estimate": _evaluate(estimate, rules).numpy(),
                             "root_exact": _evaluate(exact, rules).numpy()})
    return root


__all__ = ["VARIANTS", "prover_estimator"]
