"""Bounded-memory snapshots: a seeded linear map from the flattened parameters (and the
gradient, with the same map) to ``dim`` numbers.

* ``sketch`` — a CountSketch (sparse Johnson–Lindenstrauss; Charikar, Chen, Farach-Colton
  2002): coordinate i goes to bucket h(i) with sign s(i), both drawn from a generator seeded
  by (seed, tensor, chunk), so nothing of size D is ever stored. Inner products and squared
  norms are preserved in expectation (E⟨Sx, Sy⟩ = ⟨x, y⟩, relative error O(1/√dim)), which
  is what the snapshot checks use (curvature ratios ⟨Δg, Δθ⟩/‖Δθ‖²).
* ``subset`` — ``dim`` coordinates drawn without replacement, scaled by √(D/dim) so that
  squared norms are preserved in expectation.

The work is done in chunks of ``CHUNK`` elements, so a snapshot of a model of 10⁸ parameters
needs O(dim + CHUNK) memory beyond the model. The choice is recorded in the run
(``config["snapshot_projection"]``); checks that need the parameters themselves (the LLC at
a snapshot) refuse projected snapshots by their size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from pydantic import Field

from pipeline.models import Frozen

CHUNK = 1 << 18


class Projection(Frozen):
    """How snapshots are reduced; recorded in the run's config."""

    kind: Literal["sketch", "subset"] = "sketch"
    dim: int = Field(4096, ge=1)
    seed: int = Field(0, ge=0)


def _generator(seed: int, tensor: int, chunk: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + tensor) * 1_000_033 + chunk)


def project(tensors: Sequence[torch.Tensor | None], shapes: Sequence[torch.Size],
            projection: Projection) -> np.ndarray:
    """The projection of the concatenation of ``tensors`` (None: zeros of that shape), float64.

    ``shapes`` are the parameters' shapes (they fix the map, whichever tensors are passed).
    """
    total = sum(math.prod(s) for s in shapes)
    if projection.kind == "subset":
        return _subset(tensors, shapes, total, projection)
    out = torch.zeros(projection.dim, dtype=torch.float64)
    for t_index, (tensor, shape) in enumerate(zip(tensors, shapes, strict=True)):
        size = math.prod(shape)
        if tensor is None or size == 0:
            continue
        flat = tensor.detach().reshape(-1)
        for c_index, start in enumerate(range(0, size, CHUNK)):
            part = flat[start:start + CHUNK].to("cpu", torch.float64)
            gen = _generator(projection.seed, t_index, c_index)
            bucket = torch.randint(0, projection.dim, (part.shape[0],), generator=gen)
            sign = torch.randint(0, 2, (part.shape[0],), generator=gen, dtype=torch.int8)
            part = torch.where(sign.bool(), part, -part)
            out.index_add_(0, bucket, part)
    return out.numpy()


def _subset(tensors: Sequence[torch.Tensor | None], shapes: Sequence[torch.Size], total: int,
            projection: Projection) -> np.ndarray:
    k = min(projection.dim, total)
    rng = np.random.default_rng(projection.seed)
    chosen = np.sort(rng.choice(total, size=k, replace=False)) if total else np.empty(0, int)
    out = np.zeros(k, dtype=np.float64)
    offset = 0
    for tensor, shape in zip(tensors, shapes, strict=True):
        size = math.prod(shape)
        lo, hi = np.searchsorted(chosen, [offset, offset + size])
        if tensor is not None and hi > lo:
            idx = torch.as_tensor(chosen[lo:hi] - offset)
            out[lo:hi] = tensor.detach().reshape(-1)[idx.to(tensor.device)].to(
                "cpu", torch.float64).numpy()
        offset += size
    return out * math.sqrt(total / k) if k else out


__all__ = ["CHUNK", "Projection", "project"]
