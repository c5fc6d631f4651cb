"""Shared plumbing of the reference experiments: seeding, run directories and the tracked
optimisation step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from pipeline.errors import InputError
from pipeline.tracking import Tracker


@contextmanager
def seeded(seed: int, threads: int = 1) -> Iterator[np.random.Generator]:
    """Seed torch and numpy; run torch on ``threads`` threads (restored afterwards) so that
    a run is bit-for-bit reproducible for a given seed on one machine."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield np.random.default_rng(seed)
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(before)


def fresh_dir(out_dir: Path | str) -> Path:
    """``out_dir`` as a new run directory (it must not hold a run yet)."""
    path = Path(out_dir)
    if (path / "run.json").exists():
        raise InputError(f"{path} already holds a run; choose a new directory")
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_variant(variant: str, allowed: tuple[str, ...], experiment: str) -> None:
    if variant not in allowed:
        raise InputError(f"unknown variant {variant!r} of experiment {experiment!r}; "
                         f"choose one of {', '.join(allowed)}")


def train_step(opt: torch.optim.Optimizer, track: Tracker, loss: torch.Tensor, *,
               after_backward: Callable[[], None] | None = None,
               metrics: Callable[[], dict[str, float]] | None = None,
               after_step: Callable[[], object] | None = None) -> None:
    """One tracked optimisation step on ``loss`` (built by a forward pass): clear the
    gradients, differentiate, run ``after_backward`` (a snapshot of the fresh gradient),
    record the step with the ``metrics`` it returns (the tracker reads the gradient before
    the update), run ``after_step`` (a gradient clip the tracker did not see), then update."""
    opt.zero_grad()
    loss.backward()
    if after_backward is not None:
        after_backward()
    track.step(loss, **(metrics() if metrics is not None else {}))
    if after_step is not None:
        after_step()
    opt.step()


__all__ = ["check_variant", "fresh_dir", "seeded", "train_step"]
