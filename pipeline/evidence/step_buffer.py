"""Per-step loss and squared gradient norm, gathered cheaply for the tracking hook.

The hook must not slow the training step. On the CPU, experiments timed the way
``benchmarks/bench_tracking.py`` times the hook (docs/performance.md) showed what does: small
tensors that outlive the step (holding them until a flush made the whole step slower, not only
the hook; the allocator is the likely cause), a dtype-promoting copy, and every extra PyTorch op
(each costs its dispatch, and about as much again in the ops around it). On an accelerator a
host synchronisation per step would stall the device queue as well.
So there are two paths, chosen once from where the parameters live:

- **CPU:** no PyTorch op per parameter at all. Each gradient is viewed as a NumPy array (no
  copy) and its squared norm taken with BLAS ``dot`` (``np.vdot``), twice as fast as
  ``torch.linalg.vector_norm`` on these sizes; the loss is read with one ``item()``; both are
  kept as Python floats. Gradients NumPy cannot view (bfloat16, half, sparse, or ones that
  require grad under ``create_graph=True``) go through ``torch.linalg.vector_norm`` in float64.
- **Accelerators:** one fused ``torch._foreach_norm`` and one ``torch.stack(..., out=row)`` per
  step into a buffer preallocated on the device, in the parameters' float type; the buffer holds
  ``capacity`` rows, so the only synchronisation is :meth:`StepBuffer.take`.

A parameter without a gradient contributes nothing; a step where no parameter has one records
NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

_BLAS_DTYPES = (torch.float32, torch.float64)


class StepBuffer:
    """Loss and squared global gradient norm of each pending step."""

    def __init__(self, params: Sequence[torch.Tensor], capacity: int, *,
                 fused: bool | None = None) -> None:
        """``fused`` forces a path; by default the fused one is used unless every parameter
        is on the CPU."""
        self._params = list(params)
        device = self._params[0].device if self._params else torch.device("cpu")
        self._on_host = (not fused if fused is not None
                         else all(p.device.type == "cpu" for p in self._params))
        self._loss: list[float] = []
        self._sq: list[float] = []
        if self._on_host:
            return
        dtype = torch.float32  # the parameters' own float type: a promoting stack costs 4x
        for p in self._params:
            if p.is_floating_point():
                dtype = torch.promote_types(dtype, p.dtype)
        # rows [loss, |g_1|, ..., |g_k|]; a step without any gradient has NaN in column 1
        self._buffer = torch.zeros(capacity, 1 + max(len(self._params), 1), dtype=dtype,
                                   device=device)
        self._rows = self._buffer.unbind(0)
        self._filled = 0
        self._fused = True  # cleared when loss and gradients turn out to be on other devices

    def record(self, loss: torch.Tensor | float | None) -> bool:
        """Record one step (``loss`` a 0-d tensor, a number or None); True if any gradient."""
        if not self._on_host:
            return self._record_on_device(loss)
        sq = 0.0
        any_grad = False
        for p in self._params:
            g = p.grad
            if g is None:
                continue
            any_grad = True
            if g.dtype in _BLAS_DTYPES:
                try:
                    a = g.numpy()
                except (RuntimeError, TypeError):  # requires grad, or sparse
                    sq += _squared_norm(g)
                else:
                    sq += float(np.vdot(a, a).real)
            else:
                sq += _squared_norm(g)
        self._sq.append(sq if any_grad else float("nan"))
        self._loss.append(float("nan") if loss is None else
                          loss.item() if isinstance(loss, torch.Tensor) else float(loss))
        return any_grad

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """Loss and squared gradient norm of every step recorded since the last call."""
        self._drain()
        loss = np.asarray(self._loss, dtype=np.float64)
        sq = np.asarray(self._sq, dtype=np.float64)
        self._loss, self._sq = [], []
        return loss, sq

    def _drain(self) -> None:
        """Move the device rows to the host lists (one synchronisation)."""
        if not self._on_host and self._filled:
            rows = self._buffer[: self._filled].to("cpu", torch.float64).numpy()
            self._loss.extend(rows[:, 0].tolist())
            self._sq.extend(np.square(rows[:, 1:]).sum(axis=1).tolist())  # NaN propagates
            self._filled = 0

    def _record_on_device(self, loss: torch.Tensor | float | None) -> bool:
        if self._filled == len(self._rows):
            self._drain()
        row = self._rows[self._filled]
        self._filled += 1
        grads = [p.grad for p in self._params if p.grad is not None]
        head = loss.detach() if isinstance(loss, torch.Tensor) else self._scalar(loss)
        if self._fused and grads and len(grads) == len(self._params):
            try:
                torch.stack([head, *torch._foreach_norm(grads)], out=row)
                return True
            except RuntimeError:  # loss or gradients on another device: convert from now on
                self._fused = False
        values = [head, *map(_norm, grads)] if grads else [head, self._scalar(None)]
        row.zero_()  # a missing gradient contributes nothing to the global norm
        torch.stack([v.to(row.device, row.dtype) for v in values], out=row[: len(values)])
        return bool(grads)

    def _scalar(self, value: float | None) -> torch.Tensor:
        return torch.tensor(float("nan") if value is None else float(value),
                            dtype=self._buffer.dtype, device=self._buffer.device)


def _norm(g: torch.Tensor) -> torch.Tensor:
    """The L2 norm of any gradient (sparse, half precision, complex, carrying a graph)."""
    g = g.detach()
    if g.is_sparse:
        g = g.coalesce().values()
    dtype = torch.float64 if g.is_floating_point() else None
    norm: torch.Tensor = torch.linalg.vector_norm(g, dtype=dtype)
    return norm


def _squared_norm(g: torch.Tensor) -> float:
    return float(_norm(g)) ** 2


__all__ = ["StepBuffer"]
