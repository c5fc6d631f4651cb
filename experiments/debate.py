"""A toy recursive debate with a learned judge.

A question is a hidden bit string of ``2**depth`` leaves; the root claim is "at least half
of the bits are 1", posed where it is closest to contested (the count is one off the
threshold either way), so a liar must misstate exactly one leaf. The debate descends the
binary tree: the liar splits its (false) count so that exactly one child is false, the
honest debater challenges the false child, and at the leaf the judge looks at a noisy
observation ``z = (2b − 1)·s·u + N(0, I)`` of the disputed bit and rules.

The judge is a logistic-regression classifier trained with SGD on labelled leaf
observations (tracked with :class:`pipeline.tracking.Tracker`). The run records:

* ``leaf_correct`` — the judge's accuracy on held-out leaves;
* ``honest_win``   — debates against a liar who lies about a random leaf;
* ``liar_win``     — debates against a best-responding liar, who knows the judge and
  lies about the leaf where the judge errs (exploitability).

Variants: ``weak_judge`` (low signal: inaccurate and exploitable), ``inverted_judge``
(trained on flipped labels: the honest side loses).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from experiments.common import check_variant, fresh_dir, seeded
from pipeline.tracking import Tracker

VARIANTS = ("reference", "weak_judge", "inverted_judge")
FEATURES = 8


def _observe(bits: torch.Tensor, signal: float, direction: torch.Tensor,
             gen: torch.Generator) -> torch.Tensor:
    noise = torch.randn(*bits.shape, FEATURES, generator=gen)
    return (2 * bits.unsqueeze(-1) - 1) * signal * direction + noise


def debate(out_dir: Path | str, seed: int = 0, quick: bool = False,
           variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "debate")
    root = fresh_dir(out_dir)
    depth = 4
    leaves = 2**depth
    signal = {"reference": 3.0, "weak_judge": 0.7, "inverted_judge": 3.0}[variant]
    n_train, n_leaf_eval = 2048, 2000
    n_debates = 400 if quick else 2000
    steps = 300 if quick else 1500
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        direction = torch.nn.functional.normalize(torch.randn(FEATURES, generator=gen), dim=0)
        train_bits = torch.randint(0, 2, (n_train,), generator=gen).float()
        train_z = _observe(train_bits, signal, direction, gen)
        labels = 1 - train_bits if variant == "inverted_judge" else train_bits
        judge = torch.nn.Linear(FEATURES, 1)
        opt = torch.optim.SGD(judge.parameters(), lr=0.1)
        config = {"depth": depth, "leaves": leaves, "signal": signal, "variant": variant,
                  "quick": quick, "n_debates": n_debates, "judge_steps": steps}
        track = Tracker(root, judge, opt, config=config, seed=seed, kind="debate",
                        source="experiment:debate")
        for _ in range(steps):
            idx = torch.randint(0, n_train, (64,), generator=gen)
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                judge(train_z[idx]).squeeze(-1), labels[idx])
            loss.backward()
            track.step(loss)
            opt.step()

        @torch.no_grad()
        def judge_says_one(z: torch.Tensor) -> torch.Tensor:
            says: torch.Tensor = judge(z).squeeze(-1) > 0
            return says

        eval_bits = torch.randint(0, 2, (n_leaf_eval,), generator=gen).float()
        leaf_correct = (judge_says_one(_observe(eval_bits, signal, direction, gen))
                        == eval_bits.bool()).float()

        honest_win, liar_win = [], []
        for _ in range(n_debates):
            truth_high = bool(torch.rand((), generator=gen) < 0.5)
            # a bit string whose count is one off the threshold (leaves/2)
            count = leaves // 2 + (0 if truth_high else -1)
            bits = torch.zeros(leaves)
            bits[torch.randperm(leaves, generator=gen)[:count]] = 1.0
            obs = _observe(bits, signal, direction, gen)
            says_one = judge_says_one(obs)
            # the liar must misstate one leaf whose true bit is (1 if truth_high else 0)
            lie_about = 1.0 if truth_high else 0.0
            candidates = torch.nonzero(bits == lie_about).squeeze(-1)
            # naive liar: a random candidate leaf; honest wins if the judge sees the truth
            leaf = int(candidates[torch.randint(0, len(candidates), (), generator=gen)])
            honest_win.append(float(bool(says_one[leaf]) == bool(bits[leaf])))
            # best responder: a candidate leaf the judge misreads, if there is one
            fooled = says_one[candidates] != bits[candidates].bool()
            liar_win.append(float(bool(fooled.any())))
        track.close(samples={"leaf_correct": leaf_correct.numpy(),
                             "honest_win": np.array(honest_win),
                             "liar_win": np.array(liar_win)})
    return root


__all__ = ["VARIANTS", "debate"]
