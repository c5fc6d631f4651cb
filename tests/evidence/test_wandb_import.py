"""The W&B importer on a run written by the real ``wandb`` in offline mode (no network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.importers import import_run

pytest.importorskip("wandb", reason="wandb is not installed (pip install -e .[wandb])")

WRITER = """
import wandb
run = wandb.init(project="p", dir={dir!r}, config={{"mu": 0.5, "opt": "sgd"}}, mode="offline")
for t in range(1, 41):
    run.log({{"train/loss": 1.0 / t, "learning_rate": 0.2 / t, "acc": t / 40}}, step=t)
run.finish()
"""


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wandb")
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
           "WANDB_DISABLE_GIT": "true"}
    subprocess.run([sys.executable, "-c", WRITER.format(dir=str(root))], env=env, check=True,
                   timeout=120, capture_output=True)
    return root / "wandb"


def test_an_offline_run_becomes_a_run(offline_run: Path, tmp_path: Path) -> None:
    run = import_run("wandb", offline_run, tmp_path / "run")
    assert run.provenance.source == "wandb" and run.n_steps == 40
    assert list(run.metrics["step"][:3]) == [1.0, 2.0, 3.0]
    assert run.metrics["loss"][3] == pytest.approx(0.25)  # train/loss → loss
    assert run.metrics["lr"][-1] == pytest.approx(0.2 / 40)  # learning_rate → lr
    assert run.config["mu"] == 0.5 and run.config["opt"] == "sgd"
    assert run.id == run.config["wandb_run_id"]
    outcome = run_check("pipeline.evidence.checks.sgd:step_size_schedule", run)
    assert outcome.outcome == "holds", outcome.reason  # ηₜ = 0.2/t


def test_bad_logs_are_named(offline_run: Path, tmp_path: Path) -> None:
    log = next(p for p in offline_run.glob("offline-run-*/run-*.wandb"))
    data = log.read_bytes()
    fake = tmp_path / "run-x.wandb"
    fake.write_bytes(b"not a log")
    with pytest.raises(InputError, match="not a W&B transaction log"):
        import_run("wandb", fake, tmp_path / "a")
    broken = tmp_path / "run-y.wandb"
    broken.write_bytes(data[:200] + bytes([data[200] ^ 0xFF]) + data[201:])
    with pytest.raises(InputError, match="CRC mismatch"):
        import_run("wandb", broken, tmp_path / "b")
    with pytest.raises(InputError, match="holds 2 W&B run logs"):
        import_run("wandb", tmp_path, tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds 0 W&B run logs"):
        import_run("wandb", tmp_path / "empty", tmp_path / "d")
