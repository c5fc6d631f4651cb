from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.importers import import_run
from pipeline.evidence.runs import load_run
from tests.evidence.helpers import P


def test_csv_import_normalises_names_and_orders_steps(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    rows = ["iteration,train/loss,learning_rate,note"]
    rows += [f"{t},{1.0 / t},{0.5 / t},x" for t in (3, 1, 2)] + ["4,,0.125,y"]
    src.write_text("\n".join(rows) + "\n")
    run = import_run("csv", src, tmp_path / "run", config={"mu": 1.0})
    assert list(run.metrics) == ["step", "loss", "lr"]
    assert run.metrics["step"].tolist() == [1, 2, 3, 4] and np.isnan(run.metrics["loss"][3])
    assert any("note" in n for n in run.provenance.notes)
    again = load_run(tmp_path / "run")
    assert again.metrics == run.metrics and again.config == {"mu": 1.0}
    assert again.provenance.source == "csv"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"), (b"a,b\n1\n", "line 2 has 1 fields"), (b"a,a\n1,2\n", "once"),
    (b"loss\n\xff\n", "UTF-8"), (b"loss\n", "no data rows"), (b"name\nx\n", "no numeric")])
def test_bad_csv_is_an_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "m.csv"
    src.write_bytes(content)
    with pytest.raises(InputError, match=message):
        import_run("csv", src, tmp_path / "run")
    assert not (tmp_path / "run" / "run.json").exists()


def test_jsonl_import_and_missing_file(tmp_path: Path) -> None:
    src = tmp_path / "m.jsonl"
    t = np.arange(1, 2001)
    src.write_text("".join(json.dumps({"global_step": int(s), "lr": 1.0 / s}) + "\n" for s in t))
    run = import_run("jsonl", src, tmp_path / "run")
    assert run.n_steps == 2000
    assert run_check(P + "sgd:step_size_schedule", run).outcome == "holds"
    with pytest.raises(NotFoundError):
        import_run("jsonl", tmp_path / "absent.jsonl", tmp_path / "r2")
    with pytest.raises(InputError, match="unknown import format"):
        import_run("parquet", src, tmp_path / "r3")
    with pytest.raises(InputError, match="already holds a run"):
        import_run("jsonl", src, tmp_path / "run")


@pytest.mark.torch
def test_tensorboard_import(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tensorboard's own deprecations
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(tmp_path / "tb"))
        for step in range(1, 301):
            writer.add_scalar("train/loss", 1.0 / step, step)
            writer.add_scalar("lr", 0.1, step)
            if step % 10 == 0:
                writer.add_scalar("eval/acc", 0.5, step)
        writer.close()
    run = import_run("tensorboard", tmp_path / "tb", tmp_path / "run")
    assert run.n_steps == 300 and {"loss", "lr", "eval/acc"} <= set(run.metrics)
    assert run.metrics["loss"][9] == pytest.approx(0.1) and np.isnan(run.metrics["eval/acc"][0])
    assert run_check(P + "sgd:step_size_schedule", run).outcome == "fails"  # constant lr
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no TensorBoard event files"):
        import_run("tensorboard", tmp_path / "empty", tmp_path / "r2")


def _mlflow_store(uri: str) -> str:
    import os

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        exp = client.create_experiment("e")
        run = client.create_run(exp)
        rid = run.info.run_id
        for step in range(1, 101):
            client.log_metric(rid, "lr", 0.5 / step, step=step)
            client.log_metric(rid, "loss", 1.0 / step, step=step)
        client.log_param(rid, "lr_schedule", "0.5/t")
        client.log_param(rid, "batch_size", "32")
        client.set_terminated(rid)
    os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    return str(rid)


@pytest.mark.parametrize("kind", ["sqlite", "file"])
def test_mlflow_import(tmp_path: Path, kind: str) -> None:
    store = tmp_path / ("mlflow.db" if kind == "sqlite" else "mlruns")
    rid = _mlflow_store(f"sqlite:///{store}" if kind == "sqlite" else store.as_uri())
    run = import_run("mlflow", store, tmp_path / "run")
    assert run.id == rid and run.n_steps == 100
    assert run.config["lr_schedule"] == "0.5/t" and run.config["batch_size"] == 32
    assert run.metrics["lr"][0] == 0.5
    out = run_check(P + "sgd:step_size_schedule", run)
    assert out.outcome == "holds" and out.details["source"] == "symbolic"


def test_mlflow_bad_stores(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        import_run("mlflow", tmp_path / "none.db", tmp_path / "r")
    (tmp_path / "text.db").write_text("not sqlite")
    with pytest.raises(InputError, match="neither an MLflow folder nor an SQLite"):
        import_run("mlflow", tmp_path / "text.db", tmp_path / "r")
