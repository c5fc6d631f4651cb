"""A small pre-norm transformer encoder shared by the transformer experiments.

Plain ``torch.nn`` (``TransformerEncoderLayer``, no dropout); inputs are either real vectors
(in-context regression: a linear read-in) or token ids (modular addition: an embedding). The
prediction is read from the last position.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from pipeline.evidence.llc import SGLDSettings
from pipeline.evidence.sgld import Loss, sample_traces


class TinyTransformer(nn.Module):
    """``layers`` pre-norm encoder blocks of width ``width`` with ``heads`` heads."""

    def __init__(self, *, inputs: int, outputs: int, length: int, width: int = 32,
                 layers: int = 2, heads: int = 2, tokens: bool = False) -> None:
        super().__init__()
        self.read_in: nn.Module = nn.Embedding(inputs, width) if tokens else nn.Linear(inputs, width)
        self.position = nn.Parameter(0.02 * torch.randn(length, width))
        block = nn.TransformerEncoderLayer(width, heads, dim_feedforward=4 * width, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.read_in(x) + self.position[: x.shape[1]]
        h = self.blocks(h)
        out: torch.Tensor = self.read_out(self.norm(h[:, -1]))
        return out


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def llc_traces(model: nn.Module, loss: Loss, data: Sequence[torch.Tensor],
               settings: SGLDSettings, seed: int) -> np.ndarray:
    """SGLD traces of the local learning coefficient at the trained parameter (float64 copy
    of the model, so that the small differences nβ(Lₜ − L*) are not rounding noise)."""
    import copy

    twin = copy.deepcopy(model).double()
    return sample_traces(twin, loss, [t.double() if t.is_floating_point() else t for t in data],
                         settings, seed=seed)


__all__ = ["TinyTransformer", "llc_traces", "parameter_count"]
