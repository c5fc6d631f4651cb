"""MLflow runs from a file store (``mlruns/``) or an SQLite store (``*.db``), no server."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.importers.common import finish
from pipeline.evidence.models import Run


def tracking_uri(store: Path) -> str:
    if store.is_dir():
        return store.resolve().as_uri()
    if store.is_file():
        with store.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise InputError(f"{store} is neither an MLflow folder nor an SQLite database")
        return f"sqlite:///{store.resolve()}"
    raise NotFoundError(f"MLflow store {store} does not exist")


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """Read an existing file store (MLflow refuses it unless opted in); hide its warnings."""
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before


def _number(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def import_mlflow(store: Path | str, out_dir: Path | str, *, mlflow_run: str | None = None,
                  config: Mapping[str, Any] | None = None, run_id: str | None = None,
                  kind: str = "training") -> Run:
    """Import one MLflow run (``mlflow_run``; may be omitted when the store holds one)."""
    src = Path(store)
    uri = tracking_uri(src)
    with _quiet_mlflow():
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        try:
            client = MlflowClient(tracking_uri=uri)
            if mlflow_run is None:
                experiments = client.search_experiments()
                found = client.search_runs([e.experiment_id for e in experiments],
                                           max_results=50) if experiments else []
                if len(found) != 1:
                    ids = ", ".join(r.info.run_id for r in found[:10]) or "none"
                    raise InputError(f"{src} holds {len(found)} MLflow runs; name one with "
                                     f"--mlflow-run (runs: {ids})")
                mlflow_run = found[0].info.run_id
            record = client.get_run(mlflow_run)
            columns_raw: dict[str, dict[int, float]] = {}
            for key in record.data.metrics:
                history = client.get_metric_history(mlflow_run, key)
                columns_raw[key] = {int(m.step): float(m.value) for m in history}
        except MlflowException as exc:
            raise InputError(f"cannot read MLflow run {mlflow_run or ''} from {src}: "
                             f"{str(exc).splitlines()[0]}") from exc
        except Exception as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"cannot read the MLflow store {src}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
    steps = np.array(sorted({s for col in columns_raw.values() for s in col}), dtype=np.float64)
    index = {int(s): i for i, s in enumerate(steps)}
    columns: dict[str, np.ndarray] = {"step": steps}
    for key, values in columns_raw.items():
        col = np.full(steps.shape[0], np.nan)
        for s, v in values.items():
            col[index[s]] = v
        columns[key] = col
    params = {k: _number(v) for k, v in record.data.params.items()}
    merged = {**params, **dict(config or {}), "mlflow_run_id": mlflow_run}
    return finish(columns, out_dir, source="mlflow", source_path=src, config=merged,
                  run_id=run_id or mlflow_run, kind=kind, notes=[])


__all__ = ["import_mlflow", "tracking_uri"]
