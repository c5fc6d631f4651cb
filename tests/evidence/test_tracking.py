from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.errors import InputError
from pipeline.evidence.runs import load_run
from pipeline.tracking import Tracker

pytestmark = pytest.mark.torch


def train(root: Path, steps: int = 50, **kwargs: object) -> tuple[torch.nn.Module, list[float]]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (t + 1))
    norms = []
    with Tracker(root, model, opt, config={"lr_schedule": "0.1/t"}, seed=0, **kwargs) as track:
        for _ in range(steps):
            opt.zero_grad()
            x = torch.randn(16, 4)
            loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
            loss.backward()
            norms.append(float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()))
            track.step(loss, accuracy=torch.tensor(0.5))
            opt.step()
            sched.step()
    return model, norms


def test_the_hook_records_every_step(tmp_path: Path) -> None:
    _, norms = train(tmp_path / "r", steps=50, snapshot_every=10, flush_every=7)
    run = load_run(tmp_path / "r")
    assert run.n_steps == 50 and run.metrics["step"].tolist() == list(range(1, 51))
    np.testing.assert_allclose(run.metrics["grad_norm"], norms, rtol=1e-5)
    np.testing.assert_allclose(run.metrics["grad_sq"], np.square(run.metrics["grad_norm"]))
    np.testing.assert_allclose(run.metrics["lr"], [0.1 / (t + 1) for t in range(50)])
    assert (run.metrics["accuracy"] == 0.5).all() and np.isfinite(run.metrics["loss"]).all()
    assert [s.step for s in run.snapshots] == [10, 20, 30, 40, 50]
    assert run.snapshots[0].grad_kind == "minibatch"
    assert run.snapshots[0].params.shape == (4 * 8 + 8 + 8 + 1,)
    assert run.config == {"lr_schedule": "0.1/t"} and run.provenance.source == "tracking"
    assert run.provenance.torch == torch.__version__


def test_jsonl_and_npz_agree(tmp_path: Path) -> None:
    train(tmp_path / "r", steps=30, flush_every=4)
    lines = (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 30 and json.loads(lines[0])["step"] == 1
    (tmp_path / "r" / "metrics.npz").unlink()
    from_jsonl = load_run(tmp_path / "r")
    np.testing.assert_allclose(from_jsonl.metrics["loss"],
                               [json.loads(ln)["loss"] for ln in lines])


def test_a_killed_loop_leaves_a_loadable_run(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    track = Tracker(tmp_path / "r", model, opt, flush_every=5)
    for _ in range(12):
        opt.zero_grad()
        loss = model(torch.ones(1, 2)).sum()
        loss.backward()
        track.step(loss)
    # no close(): only the flushed steps are on disk, and run.json says "running"
    run = load_run(tmp_path / "r")
    assert run.n_steps == 10


def test_refuses_an_existing_run_and_bad_config(tmp_path: Path) -> None:
    train(tmp_path / "r", steps=3)
    with pytest.raises(InputError, match="already holds a run"):
        Tracker(tmp_path / "r", torch.nn.Linear(1, 1))
    with pytest.raises(InputError, match="plain JSON"):
        Tracker(tmp_path / "s", torch.nn.Linear(1, 1), config={"x": object()})


def test_steps_without_gradients_log_nan(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    with Tracker(tmp_path / "r", model) as track:
        track.step(1.0)
    run = load_run(tmp_path / "r")
    assert np.isnan(run.metrics["grad_norm"][0]) and np.isnan(run.metrics["lr"][0])


def test_a_loss_must_be_one_number(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    with Tracker(tmp_path / "r", model) as track:
        model(torch.ones(1, 2)).sum().backward()
        track.step(torch.tensor([0.25]))  # one element, any shape
        with pytest.raises(InputError, match="loss must be a scalar"):
            track.step(torch.ones(3))
    assert load_run(tmp_path / "r").metrics["loss"].tolist() == [0.25]


def test_a_scalar_that_appears_later_is_nan_before(tmp_path: Path) -> None:
    model = torch.nn.Linear(2, 1)
    with Tracker(tmp_path / "r", model, flush_every=2) as track:
        for step in range(1, 6):
            model.zero_grad()
            model(torch.ones(1, 2)).sum().backward()
            track.step(0.5, **({"acc": torch.tensor(step / 10)} if step >= 4 else {}))
    run = load_run(tmp_path / "r")
    acc = run.metrics["acc"]
    assert np.isnan(acc[:3]).all() and acc[3:].tolist() == pytest.approx([0.4, 0.5])
    lines = [json.loads(ln) for ln in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert "acc" not in lines[0] and lines[4]["acc"] == pytest.approx(0.5)
    assert [ln["step"] for ln in lines] == [1, 2, 3, 4, 5]
