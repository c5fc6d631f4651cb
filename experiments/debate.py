"""A toy recursive debate with a learned judge.

A question is a hidden bit string of ``2**depth`` leaves; the root claim is "at least half
of the bits are 1", posed where it is closest to contested (the count is one off the
threshold either way), so a liar must misstate exactly one leaf. The debate descends the
binary tree: the liar splits its (false) count so that exactly one child is false, the
honest debater challenges the false child, and at the leaf the judge looks at a noisy
observation ``z = (2b − 1)·s·u + N(0, I)`` of the disputed bit and rules.

The judge is a logistic-regression classifier trained with SGD on labelled leaf
observations (tracked with :class:`pipeline.tracking.Tracker`). The run records:

* ``leaf_correct`` — the judge on every leaf of every tree debated (``h_judge_leaf`` is a
  ∀ over the tree's leaves: one wrong leaf refutes it);
* ``honest_win``   — debates against a liar who lies about a random leaf;
* ``liar_win``     — debates against a best-responding liar, who knows the judge and
  lies about the leaf where the judge errs (exploitability);
* ``dishonest_answer`` — the trained debater's answer to each root question: it answers
  dishonestly exactly when the lie wins against the honest opponent (its best response
  finds a leaf the judge misreads), the quantity ``debate_equilibrium`` bounds;
* the transcripts of all those debates (``move_index``, ``move_exists``,
  ``move_claimant``: one entry per move, see :mod:`pipeline.evidence.checks.debate`).

As an argument tree in the sense of ``Formal.Debate``, each level of the bit tree is two
moves: the claimant at an ∃-node (she chooses how her count splits between the two halves)
and the opponent at a ∀-node (he chooses the half to challenge). The debate descends to the
disputed leaf in ``2·depth`` moves, the claimant first, so the tree is alternating with an
∃-root and has depth ``2·depth``: the protocol rules ``h_alternating`` and ``h_depth`` are
checked on the transcripts.

The reference judge sees a strong signal (s = 6), so it is right on every leaf the debates
reach. Variants: ``weak_judge`` (low signal: inaccurate and exploitable), ``inverted_judge``
(trained on flipped labels: the honest side loses), and two protocol bugs for the transcript
checks: ``out_of_turn`` (in every 20th debate the claimant also takes the opponent's first
challenge, so the second node is an ∃-node: not alternating) and ``deep_tree`` (a bit tree of
depth 5: debates of 10 moves, beyond the claim's d = 8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from experiments.common import check_variant, fresh_dir, seeded, train_step
from pipeline.tracking import Tracker

VARIANTS = ("reference", "weak_judge", "inverted_judge", "out_of_turn", "deep_tree")
FEATURES = 8


def _observe(bits: torch.Tensor, signal: float, direction: torch.Tensor,
             gen: torch.Generator) -> torch.Tensor:
    noise = torch.randn(*bits.shape, FEATURES, generator=gen)
    return (2 * bits.unsqueeze(-1) - 1) * signal * direction + noise


def _descend(leaf: int, depth: int, out_of_turn: bool = False) -> list[tuple[int, int, int]]:
    """The moves of one debate that ends at ``leaf``: (position, ∃-node?, claimant moved?).

    The claimant splits her claim over the two halves of the current range (∃), the
    opponent challenges the half holding the disputed leaf (∀), down to that leaf.
    ``out_of_turn``: the claimant picks the first half herself (an ∃-move where the
    opponent's ∀-move is due)."""
    moves: list[tuple[int, int, int]] = []
    lo, hi = 0, 2**depth
    while hi - lo > 1:
        moves.append((len(moves), 1, 1))  # claimant: how her count splits (∃)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if leaf < mid else (mid, hi)
        bug = out_of_turn and len(moves) == 1
        moves.append((len(moves), 1, 1) if bug else (len(moves), 0, 0))  # the challenge (∀)
    return moves


def transcript_samples(moves: list[tuple[int, int, int]]) -> dict[str, np.ndarray]:
    """The run samples of a transcript (one entry per move)."""
    table = np.array(moves, dtype=float).reshape(-1, 3)
    return {"move_index": table[:, 0], "move_exists": table[:, 1],
            "move_claimant": table[:, 2]}


def debate(out_dir: Path | str, seed: int = 0, quick: bool = False,
           variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "debate")
    root = fresh_dir(out_dir)
    depth = 5 if variant == "deep_tree" else 4
    leaves = 2**depth
    signal = {"weak_judge": 0.7}.get(variant, 6.0)
    n_train = 2048
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
            train_step(opt, track, torch.nn.functional.binary_cross_entropy_with_logits(
                judge(train_z[idx]).squeeze(-1), labels[idx]))

        @torch.no_grad()
        def judge_says_one(z: torch.Tensor) -> torch.Tensor:
            says: torch.Tensor = judge(z).squeeze(-1) > 0
            return says

        honest_win, liar_win, leaf_correct = [], [], []
        moves: list[tuple[int, int, int]] = []
        for i in range(n_debates):
            truth_high = bool(torch.rand((), generator=gen) < 0.5)
            # a bit string whose count is one off the threshold (leaves/2)
            count = leaves // 2 + (0 if truth_high else -1)
            bits = torch.zeros(leaves)
            bits[torch.randperm(leaves, generator=gen)[:count]] = 1.0
            obs = _observe(bits, signal, direction, gen)
            says_one = judge_says_one(obs)
            leaf_correct.append((says_one == bits.bool()).numpy().astype(np.float64))
            # the liar must misstate one leaf whose true bit is (1 if truth_high else 0)
            lie_about = 1.0 if truth_high else 0.0
            candidates = torch.nonzero(bits == lie_about).squeeze(-1)
            # naive liar: a random candidate leaf; honest wins if the judge sees the truth
            leaf = int(candidates[torch.randint(0, len(candidates), (), generator=gen)])
            honest_win.append(float(bool(says_one[leaf]) == bool(bits[leaf])))
            moves += _descend(leaf, depth, out_of_turn=variant == "out_of_turn" and i % 20 == 0)
            # best responder: a candidate leaf the judge misreads, if there is one
            fooled = says_one[candidates] != bits[candidates].bool()
            liar_win.append(float(bool(fooled.any())))
            target = candidates[fooled] if bool(fooled.any()) else candidates
            moves += _descend(int(target[0]), depth)
        track.close(samples={"leaf_correct": np.concatenate(leaf_correct),
                             "honest_win": np.array(honest_win),
                             "liar_win": np.array(liar_win),
                             "dishonest_answer": np.array(liar_win),
                             **transcript_samples(moves)})
    return root


__all__ = ["VARIANTS", "debate", "transcript_samples"]
