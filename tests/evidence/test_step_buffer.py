"""Both paths of the tracking hook's per-step gathering agree with a plain computation, on
every kind of gradient the CPU path cannot view through NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.evidence.step_buffer import StepBuffer

pytestmark = pytest.mark.torch


def squared_norm(params: list[torch.Tensor]) -> float:
    grads = [p.grad.detach() for p in params if p.grad is not None]
    grads = [g.coalesce().values() if g.is_sparse else g for g in grads]
    return sum(float(torch.linalg.vector_norm(g.abs().double()) ** 2) for g in grads)


def params_of(kind: str) -> list[torch.nn.Parameter]:
    torch.manual_seed(0)
    if kind == "float64":
        return [torch.nn.Parameter(torch.randn(5, 3, dtype=torch.float64))]
    if kind in ("bfloat16", "float16"):
        return [torch.nn.Parameter(torch.randn(40, 30).to(getattr(torch, kind))),
                torch.nn.Parameter(torch.randn(7))]
    if kind == "complex":
        return [torch.nn.Parameter(torch.randn(6, dtype=torch.complex64))]
    return [torch.nn.Parameter(torch.randn(64, 32)), torch.nn.Parameter(torch.randn(32)),
            torch.nn.Parameter(torch.randn(3, 3).t())]  # a non-contiguous one


def backward(params: list[torch.nn.Parameter]) -> torch.Tensor:
    loss = sum(((p.real if p.is_complex() else p).float() ** 2 * (i + 1)).sum()
               for i, p in enumerate(params))
    assert isinstance(loss, torch.Tensor)
    loss.backward()
    return loss


@pytest.mark.parametrize("fused", [False, True], ids=["host", "fused"])
@pytest.mark.parametrize("kind", ["float32", "float64", "bfloat16", "float16", "complex"])
def test_both_paths_match_a_plain_norm(kind: str, fused: bool) -> None:
    params = params_of(kind)
    buf = StepBuffer(params, capacity=4, fused=fused)
    expected = []
    for step in range(6):  # more steps than rows: the fused path drains to the host
        for p in params:
            p.grad = None
        loss = backward(params)
        expected.append((loss.item(), squared_norm(params)))
        assert buf.record(loss) is True
        with torch.no_grad():
            for p in params:
                p.mul_(0.5 + step / 10)
    loss_seen, sq = buf.take()
    rtol = 1e-2 if kind in ("bfloat16", "float16") else 1e-5
    np.testing.assert_allclose(loss_seen, [e[0] for e in expected], rtol=rtol)
    np.testing.assert_allclose(sq, [e[1] for e in expected], rtol=rtol)
    assert buf.take()[0].size == 0


@pytest.mark.parametrize("fused", [False, True], ids=["host", "fused"])
def test_missing_gradients_count_as_zero_and_none_at_all_is_nan(fused: bool) -> None:
    params = params_of("float32")
    buf = StepBuffer(params, capacity=8, fused=fused)
    backward(params[:1])
    assert buf.record(2.5) is True
    for p in params:
        p.grad = None
    assert buf.record(None) is False
    loss, sq = buf.take()
    assert loss[0] == 2.5 and math.isnan(loss[1])
    assert sq[0] == pytest.approx(float((2 * params[0].detach().double()).square().sum()),
                                  rel=1e-5)
    assert math.isnan(sq[1])


@pytest.mark.parametrize("fused", [False, True], ids=["host", "fused"])
def test_sparse_and_graph_carrying_gradients(fused: bool) -> None:
    emb = torch.nn.Embedding(10, 4, sparse=True)
    emb(torch.tensor([1, 1, 3])).sum().backward()
    buf = StepBuffer(list(emb.parameters()), capacity=2, fused=fused)
    buf.record(torch.tensor(1.0))
    # rows 1 (twice) and 3 have gradient 2 and 1 in each of 4 columns: 4*4 + 4*1
    assert buf.take()[1][0] == pytest.approx(20.0)

    p = torch.nn.Parameter(torch.ones(3))
    (p.grad,) = torch.autograd.grad((p**2).sum(), p, create_graph=True)  # requires grad
    assert p.grad is not None and p.grad.requires_grad
    buf = StepBuffer([p], capacity=2, fused=fused)
    buf.record(torch.tensor(0.0, requires_grad=True) * 1)
    assert buf.take()[1][0] == pytest.approx(12.0)  # grad 2 in each of 3 entries


@pytest.mark.parametrize("fused", [False, True], ids=["host", "fused"])
def test_no_parameters_records_nan(fused: bool) -> None:
    buf = StepBuffer([], capacity=2, fused=fused)
    assert buf.record(torch.tensor(3.0)) is False
    loss, sq = buf.take()
    assert loss.tolist() == [3.0] and math.isnan(sq[0])
