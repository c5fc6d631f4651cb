"""The protocol of ``mentor_queries`` on a finite class of candidate policies.

``H`` holds K = 64 linear threshold policies on inputs x ∈ R⁴ (fixed random directions, one
PyTorch tensor). The agent keeps the candidates still consistent with every mentor answer
(the version space); on each input of the stream it acts alone when they all agree, and
otherwise asks the mentor and drops the candidates that disagree with the answer. Logged
per step: ``agree`` (it acted alone), ``correct`` (its action is the mentor's),
``queried`` and ``version_space`` (the candidates consistent before the step; the first
value is |H|).

Variant: ``unrealizable`` — the mentor's policy is a direction not in H: agreed answers
can be wrong, and the version space can run out.
"""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded
from pipeline.tracking import Tracker

VARIANTS = ("reference", "unrealizable")
CANDIDATES, DIM = 64, 4


def mentor(out_dir: Path | str, seed: int = 0, quick: bool = False,
           variant: str = "reference") -> Path:
    check_variant(variant, VARIANTS, "mentor")
    root = fresh_dir(out_dir)
    steps = 2000 if quick else 20000
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        policies = torch.nn.functional.normalize(torch.randn(CANDIDATES, DIM, generator=gen),
                                                 dim=1)
        if variant == "unrealizable":
            teacher = torch.nn.functional.normalize(torch.randn(DIM, generator=gen), dim=0)
        else:
            teacher = policies[CANDIDATES // 3].clone()
        xs = torch.randn(steps, DIM, generator=gen)
        votes = (xs @ policies.T) > 0  # steps × candidates
        answers = (xs @ teacher) > 0
        alive = torch.ones(CANDIDATES, dtype=torch.bool)
        config = {"candidates": CANDIDATES, "dim": DIM, "steps": steps, "variant": variant,
                  "quick": quick}
        with Tracker(root, [torch.nn.Parameter(policies)], None, config=config, seed=seed,
                     kind="mentor", source="experiment:mentor", flush_every=2048) as track:
            for t in range(steps):
                size = int(alive.sum())
                said = votes[t][alive]
                if size and (bool(said.all()) or not bool(said.any())):
                    track.step(None, agree=1.0, queried=0.0, version_space=float(size),
                               correct=float(bool(said[0]) == bool(answers[t])))
                    continue
                alive &= votes[t] == answers[t]
                track.step(None, agree=0.0, queried=1.0, version_space=float(size),
                           correct=1.0)
    return root


__all__ = ["VARIANTS", "mentor"]
