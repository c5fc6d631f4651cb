"""Importers: metrics logged elsewhere become a run directory (:mod:`pipeline.evidence.runs`).

``import_run(fmt, source, out_dir, ...)`` with ``fmt`` one of :data:`FORMATS`. Column names
are normalised (``train/loss`` → ``loss``, ``learning_rate`` → ``lr``, ...) so that the
checks find them; the original names are kept where no canonical name applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.evidence.models import Run

FORMATS: tuple[str, ...] = ("csv", "jsonl", "tensorboard", "mlflow", "wandb")


def import_run(fmt: str, source: Path | str, out_dir: Path | str, *,
               config: Mapping[str, Any] | None = None, run_id: str | None = None,
               kind: str = "training", mlflow_run: str | None = None) -> Run:
    """Import ``source`` (a file, a TensorBoard log folder, an MLflow store, a W&B offline run
    folder) into ``out_dir``."""
    importers: dict[str, Callable[..., Run]]
    from pipeline.evidence.importers.mlflow import import_mlflow
    from pipeline.evidence.importers.tabular import import_csv, import_jsonl
    from pipeline.evidence.importers.tensorboard import import_tensorboard
    from pipeline.evidence.importers.wandb import import_wandb

    importers = {"csv": import_csv, "jsonl": import_jsonl, "tensorboard": import_tensorboard,
                 "wandb": import_wandb}
    if fmt == "mlflow":
        return import_mlflow(source, out_dir, mlflow_run=mlflow_run, config=config,
                             run_id=run_id, kind=kind)
    if fmt not in importers:
        raise InputError(f"unknown import format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return importers[fmt](source, out_dir, config=config, run_id=run_id, kind=kind)


__all__ = ["FORMATS", "import_run"]
