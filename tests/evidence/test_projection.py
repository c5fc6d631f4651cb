"""Bounded-memory snapshots: the projections keep what the snapshot checks use, are seeded,
are recorded in the run, and the LLC refuses a projected snapshot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.errors import InputError
from pipeline.evidence import projection as proj
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.llc import SGLDSettings
from pipeline.evidence.runs import load_run
from pipeline.evidence.sgld import sample_at_snapshot
from pipeline.tracking import Projection, Tracker

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("kind", ["sketch", "subset"])
def test_norms_and_inner_products_are_kept_in_expectation(kind: str) -> None:
    g = torch.Generator().manual_seed(0)
    shapes = [torch.Size([300, 400]), torch.Size([80_000])]
    x = [torch.randn(s, generator=g) for s in shapes]
    y = [a + 0.5 * torch.randn(a.shape, generator=g) for a in x]
    p = Projection(kind=kind, dim=8192, seed=3)
    px, py = proj.project(x, shapes, p), proj.project(y, shapes, p)
    fx = torch.cat([a.reshape(-1) for a in x]).double().numpy()
    fy = torch.cat([a.reshape(-1) for a in y]).double().numpy()
    assert px.shape == (8192,)
    assert float(px @ px) == pytest.approx(float(fx @ fx), rel=0.05)
    assert float(px @ py) == pytest.approx(float(fx @ fy), rel=0.05)
    assert np.array_equal(px, proj.project(x, shapes, p))  # seeded
    assert not np.array_equal(px, proj.project(x, shapes, Projection(kind=kind, dim=8192, seed=4)))


def test_sketch_is_linear_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proj, "CHUNK", 1000)
    shapes = [torch.Size([2500]), torch.Size([10])]
    g = torch.Generator().manual_seed(0)
    # float64 inputs: in float32, u + v is itself rounded (~1e-7 each), which a bucket summing
    # ~40 of them near zero turns into more than allclose's tolerance; linearity is the point
    a = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    b = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    p = Projection(dim=64)
    both = proj.project([u + v for u, v in zip(a, b, strict=True)], shapes, p)
    assert np.allclose(both, proj.project(a, shapes, p) + proj.project(b, shapes, p))
    assert np.array_equal(proj.project([None, b[1]], shapes, p),
                          proj.project([torch.zeros(2500), b[1]], shapes, p))


def _least_squares(root: Path, projection: Projection | None) -> Path:
    """Full-batch gradient descent on a strongly convex least-squares problem, d = 200."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(500, 200, generator=g, dtype=torch.float64)
    y = x @ torch.randn(200, generator=g, dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(200, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=0.2)
    with Tracker(root, [w], opt, snapshot_projection=projection) as track:
        for t in range(30):
            opt.zero_grad()
            loss = 0.5 * ((x @ w - y) ** 2).mean() + 0.05 * (w @ w)
            loss.backward()
            if t % 2 == 0:
                track.snapshot(grad_kind="full")
            track.step(loss)
            opt.step()
    return root


def test_a_projected_run_records_its_projection_and_keeps_the_convexity_verdict(
        tmp_path: Path) -> None:
    full = load_run(_least_squares(tmp_path / "full", None))
    check = "pipeline.evidence.checks.sgd:strong_convexity"
    reference = run_check(check, full)
    assert reference.outcome == "holds" and full.snapshots[0].params.shape == (200,)
    for kind in ("sketch", "subset"):
        run = load_run(_least_squares(tmp_path / kind, Projection(kind=kind, dim=64, seed=0)))
        assert run.config["snapshot_projection"] == {"kind": kind, "dim": 64, "seed": 0,
                                                     "parameters": 200}
        assert run.snapshots[0].params.shape == (64,)
        outcome = run_check(check, run)
        assert outcome.outcome == "holds", (kind, outcome.reason)
        assert outcome.value == pytest.approx(reference.value, rel=0.5)
    model = torch.nn.Linear(200, 1, bias=False).double()
    with pytest.raises(InputError, match="holds 64 parameters, the model has 200"):
        sample_at_snapshot(run, model, lambda m, a: m(a).mean(), [torch.zeros(4, 200)],
                           SGLDSettings())
