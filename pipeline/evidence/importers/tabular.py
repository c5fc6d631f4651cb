"""CSV and JSONL metrics (one row/object per step) → a run."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.importers.common import finish
from pipeline.evidence.models import Run
from pipeline.evidence.runs import parse_jsonl_columns

MAX_BYTES = 2 * 1024**3


def _source(path: Path | str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"{p} does not exist or is not a file")
    if p.stat().st_size > MAX_BYTES:
        raise InputError(f"{p} is larger than {MAX_BYTES} bytes")
    if p.stat().st_size == 0:
        raise InputError(f"{p} is empty")
    return p


def read_csv_columns(path: Path, notes: list[str]) -> dict[str, np.ndarray]:
    """Numeric columns of a CSV with a header row (empty cells → NaN)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"{path}: no header row") from exc
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise InputError(f"{path}: the header must name every column once: {header}")
    rows = []
    try:
        for i, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise InputError(f"{path}: line {i} has {len(row)} fields, the header "
                                 f"{len(header)}")
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV: {exc}") from exc
    if not rows:
        raise InputError(f"{path}: no data rows")
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        cells = [r[j].strip() for r in rows]
        try:
            columns[name.strip()] = np.array([float(c) if c else np.nan for c in cells])
        except ValueError:
            notes.append(f"column {name!r} is not numeric; ignored")
    return columns


def import_csv(path: Path | str, out_dir: Path | str, *, config: Mapping[str, Any] | None = None,
               run_id: str | None = None, kind: str = "training") -> Run:
    src = _source(path)
    notes: list[str] = []
    cols = read_csv_columns(src, notes)
    return finish(cols, out_dir, source="csv", source_path=src, config=config, run_id=run_id,
                  kind=kind, notes=notes)


def import_jsonl(path: Path | str, out_dir: Path | str, *,
                 config: Mapping[str, Any] | None = None, run_id: str | None = None,
                 kind: str = "training") -> Run:
    src = _source(path)
    notes: list[str] = []
    cols = parse_jsonl_columns(src, notes)
    return finish(dict(cols), out_dir, source="jsonl", source_path=src, config=config,
                  run_id=run_id, kind=kind, notes=notes)


__all__ = ["import_csv", "import_jsonl", "read_csv_columns"]
