"""SGLD sampling of the localised tempered posterior around a trained parameter (plain PyTorch).

    w ← w − ε/2 · (n β ∇L_m(w) + γ (w − w*)) + N(0, ε I)

from w = w* in every chain; each draw records λ̂ₜ = n β (L_m(wₜ) − L_n(w*)), the loss taken
on the same mini-batch as the gradient (the full data set when ``batch_size`` is None). The
model's parameters are restored to w* afterwards. The traces go to
:func:`pipeline.evidence.llc.summarise` for λ̂, its interval and R̂.

Cost: ``chains × draws`` forward and backward passes on a mini-batch, plus one full-data loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from pipeline.errors import InputError
from pipeline.evidence.llc import SGLDSettings, Unusable, inverse_temperature
from pipeline.evidence.models import Run

Loss = Callable[..., torch.Tensor]
"""``loss(model, *tensors) -> mean loss`` (a negative log-likelihood per sample, averaged)."""


def sample_traces(model: torch.nn.Module, loss: Loss, data: Sequence[torch.Tensor],
                  settings: SGLDSettings, *, seed: int = 0) -> np.ndarray:
    """chains × draws λ̂ₜ traces; a chain that reaches a non-finite loss stops there (NaN)."""
    if not data:
        raise InputError("the LLC needs data: pass at least one tensor")
    n = int(data[0].shape[0])
    if any(int(t.shape[0]) != n for t in data):
        raise InputError("the LLC's data tensors differ in their first dimension")
    nbeta = n * inverse_temperature(n, settings.beta)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise InputError("the model has no trainable parameters")
    centre = [p.detach().clone() for p in params]
    eps, gamma = settings.step_size, settings.gamma
    noise_scale = math.sqrt(eps)
    gen = torch.Generator().manual_seed(seed)
    traces = np.full((settings.chains, settings.draws), np.nan)
    try:
        with torch.no_grad():
            base = float(loss(model, *data))
        if not math.isfinite(base):
            raise InputError(f"the loss at the trained parameter is {base}; cannot localise")
        for c in range(settings.chains):
            with torch.no_grad():
                for p, w0 in zip(params, centre, strict=True):
                    p.copy_(w0)
            for t in range(settings.draws):
                batch = data
                if settings.batch_size is not None and settings.batch_size < n:
                    idx = torch.randint(0, n, (settings.batch_size,), generator=gen)
                    batch = [x[idx.to(x.device)] for x in data]
                for p in params:
                    p.grad = None
                value = loss(model, *batch)
                value.backward()
                current = float(value.detach())
                traces[c, t] = nbeta * (current - base)
                if not math.isfinite(current):
                    break
                with torch.no_grad():
                    for p, w0 in zip(params, centre, strict=True):
                        grad = p.grad if p.grad is not None else torch.zeros_like(p)
                        drift = grad.mul(nbeta).add_(p - w0, alpha=gamma)
                        noise = torch.randn(p.shape, generator=gen, dtype=p.dtype)
                        p.add_(drift, alpha=-eps / 2).add_(noise.to(p.device), alpha=noise_scale)
    finally:
        with torch.no_grad():
            for p, w0 in zip(params, centre, strict=True):
                p.copy_(w0)
                p.grad = None
    return traces


def sample_at_snapshot(run: Run, model: torch.nn.Module, loss: Loss,
                       data: Sequence[torch.Tensor], settings: SGLDSettings, *, seed: int = 0,
                       step: int | None = None) -> np.ndarray:
    """Traces around the parameters a run snapshotted (the last one, or the one at ``step``),
    loaded into ``model`` (whose trainable parameters must match the snapshot in count and
    order, as :class:`pipeline.tracking.Tracker` flattened them).

    :class:`Unusable` (say so as ``inconclusive``) when the run has no such snapshot.
    """
    snaps = [sn for sn in run.snapshots if step is None or sn.step == step]
    if not snaps:
        where = "" if step is None else f" at step {step}"
        raise Unusable(f"the run has no parameter snapshot{where}; the LLC needs 1 at the "
                       "trained parameter w* (Tracker(snapshot_every=...) or track.snapshot() "
                       "after the last step)")
    params = [p for p in model.parameters() if p.requires_grad]
    flat = snaps[-1].params
    size = sum(p.numel() for p in params)
    if flat.shape[0] != size:
        raise InputError(f"the snapshot at step {snaps[-1].step} holds {flat.shape[0]} "
                         f"parameters, the model has {size}")
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(
            torch.tensor(flat, dtype=params[0].dtype, device=params[0].device), params)
    return sample_traces(model, loss, data, settings, seed=seed)


__all__ = ["Loss", "sample_at_snapshot", "sample_traces"]
