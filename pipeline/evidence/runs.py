"""The run directory: reading and writing it.

Layout (``format: sequent.run/1``)::

    RUN_DIR/
      run.json          metadata: id, kind, config, seed, provenance, rows, columns
      metrics.jsonl     one JSON object per step (human-readable, streamed while training)
      metrics.npz       the same columns, float64, written when a run is closed (fast path)
      samples.npz       optional named 1-D arrays of any length (evaluation outcomes, scores)
      snapshots/step_00000100.npz   optional: params, grad, grad_kind

:func:`load_run` prefers ``metrics.npz`` when its row count matches ``run.json``; otherwise it
parses ``metrics.jsonl`` (a truncated last line, as a killed training loop leaves it, is
dropped with a note in the provenance). Every problem is an :class:`InputError`,
:class:`NotFoundError` or :class:`EvidenceError` with a message that names the file.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import EvidenceError, InputError, NotFoundError
from pipeline.evidence.models import Columns, FloatArray, Provenance, Run, Snapshot

FORMAT = "sequent.run/1"
META = "run.json"
METRICS_JSONL = "metrics.jsonl"
METRICS_NPZ = "metrics.npz"
SAMPLES_NPZ = "samples.npz"
SNAPSHOTS = "snapshots"
MAX_META_BYTES = 16 * 1024 * 1024


def run_digest(run: Run) -> str:
    """SHA-256 of what checks read from a run: config, metrics, samples and snapshots (not
    its id, path or provenance), so a verdict names the exact data it was computed on."""
    import hashlib

    h = hashlib.sha256()
    h.update(json.dumps(run.config, sort_keys=True, default=str).encode())
    for group, columns in (("m", run.metrics), ("s", run.samples)):
        for name in sorted(columns):
            h.update(f"{group}:{name}:{columns[name].shape[0]}".encode())
            h.update(np.ascontiguousarray(columns[name], dtype="<f8").tobytes())
    for snap in run.snapshots:
        h.update(f"snap:{snap.step}:{snap.grad_kind}".encode())
        h.update(np.ascontiguousarray(snap.params, dtype="<f8").tobytes())
        if snap.grad is not None:
            h.update(np.ascontiguousarray(snap.grad, dtype="<f8").tobytes())
    return h.hexdigest()


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------------- reading
def load_run(path: Path | str) -> Run:
    """Load a run directory (or its ``run.json``)."""
    root = Path(path)
    if root.name == META and root.is_file():
        root = root.parent
    if not root.exists():
        raise NotFoundError(f"run directory {root} does not exist")
    if not root.is_dir():
        raise InputError(f"{root} is not a run directory (expected a folder holding {META})")
    meta_path = root / META
    if not meta_path.is_file():
        hint = ""
        if (root / METRICS_JSONL).exists() or any(root.glob("*.csv")):
            hint = " (to use raw metrics, import them: `sequent hypotheses import`)"
        raise NotFoundError(f"{root} holds no {META}: not a run directory{hint}")
    meta = read_meta(meta_path)
    notes: list[str] = []
    metrics = _load_metrics(root, meta, notes)
    samples = _load_npz_columns(root / SAMPLES_NPZ) if (root / SAMPLES_NPZ).exists() else Columns()
    snapshots = load_snapshots(root / SNAPSHOTS)
    prov_raw = meta.get("provenance") or {"source": "unknown"}
    if not isinstance(prov_raw, dict):
        raise InputError(f"{meta_path}: 'provenance' must be an object")
    try:
        provenance = Provenance.model_validate(
            {**prov_raw, "notes": tuple(prov_raw.get("notes", ())) + tuple(notes)}
        )
        return Run(
            id=str(meta.get("id") or root.name),
            kind=str(meta.get("kind") or "training"),
            config=meta.get("config") or {},
            metrics=metrics,
            samples=samples,
            snapshots=snapshots,
            seed=meta.get("seed"),
            provenance=provenance,
            path=root.resolve(),
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise InputError(f"{meta_path}: invalid run metadata: {_first_error(exc)}") from exc


def read_meta(meta_path: Path) -> dict[str, Any]:
    size = meta_path.stat().st_size
    if size > MAX_META_BYTES:
        raise InputError(f"{meta_path} is {size} bytes; the limit is {MAX_META_BYTES}")
    text = _read_text(meta_path)
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{meta_path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(meta, dict):
        raise InputError(f"{meta_path}: expected a JSON object")
    fmt = meta.get("format", FORMAT)
    if fmt != FORMAT:
        raise InputError(f"{meta_path}: unknown run format {fmt!r} (expected {FORMAT!r})")
    return meta


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc


def _load_metrics(root: Path, meta: Mapping[str, Any], notes: list[str]) -> Columns:
    rows = (meta.get("metrics") or {}).get("rows") if isinstance(meta.get("metrics"), dict) else None
    npz, jsonl = root / METRICS_NPZ, root / METRICS_JSONL
    if npz.exists():
        try:
            cols = _load_npz_columns(npz, equal_length=True)
        except InputError as exc:
            if not jsonl.exists():
                raise
            notes.append(f"{METRICS_NPZ} unreadable ({exc}); parsed {METRICS_JSONL} instead")
        else:
            if rows is None or cols.rows == rows or not jsonl.exists():
                return cols
            notes.append(f"{METRICS_NPZ} has {cols.rows} rows, run.json says {rows}; "
                         f"parsed {METRICS_JSONL} instead")
    if jsonl.exists():
        return parse_jsonl_columns(jsonl, notes)
    return Columns(equal_length=True)


def _load_npz_columns(path: Path, *, equal_length: bool = False) -> Columns:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k], dtype=np.float64).reshape(-1) for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path} is not a readable .npz file: {exc}") from exc
    try:
        return Columns(arrays, equal_length=equal_length)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc


def parse_jsonl_columns(path: Path, notes: list[str] | None = None) -> Columns:
    """Columns from a JSONL file of flat objects (missing keys → NaN, strings dropped).

    Fast path: the whole file is decoded with one ``json.loads`` call.
    """
    notes = notes if notes is not None else []
    text = _read_text(path)
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return Columns(equal_length=True)
    try:
        records = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        records = []
        for i, line in enumerate(lines):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if i == len(lines) - 1 and not text.endswith("\n"):
                    notes.append(f"{path.name}: dropped a truncated last line ({i + 1})")
                    break
                raise InputError(f"{path}: line {i + 1} is not valid JSON: {exc.msg}") from exc
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputError(f"{path}: line {i + 1} is not a JSON object")
    return records_to_columns(records, notes, origin=path.name)


def records_to_columns(
    records: Sequence[Mapping[str, Any]], notes: list[str], *, origin: str = "records"
) -> Columns:
    """Column-wise float64 arrays from per-step dicts; non-numeric columns are dropped."""
    if not records:
        return Columns(equal_length=True)
    first = records[0].keys()
    uniform = all(r.keys() == first for r in records)
    keys: Iterable[str] = first if uniform else dict.fromkeys(k for r in records for k in r)
    cols: dict[str, FloatArray] = {}
    for key in keys:
        values = [r.get(key) for r in records]
        try:
            arr = np.array(values, dtype=np.float64)
        except (TypeError, ValueError):
            notes.append(f"{origin}: column {key!r} is not numeric; ignored")
            continue
        if arr.ndim != 1:
            notes.append(f"{origin}: column {key!r} holds nested values; ignored")
            continue
        cols[key] = arr
    return Columns(cols, equal_length=True)


def load_snapshots(folder: Path) -> tuple[Snapshot, ...]:
    if not folder.is_dir():
        return ()
    snaps: list[Snapshot] = []
    for file in sorted(folder.glob("step_*.npz")):
        try:
            with np.load(file, allow_pickle=False) as data:
                params = np.asarray(data["params"], dtype=np.float64)
                grad = np.asarray(data["grad"], dtype=np.float64) if "grad" in data.files else None
                kind = str(data["grad_kind"]) if "grad_kind" in data.files else "none"
                step = int(data["step"]) if "step" in data.files else int(file.stem[5:])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"{file} is not a readable snapshot: {exc}") from exc
        if kind not in ("minibatch", "full", "none"):
            raise InputError(f"{file}: unknown grad_kind {kind!r}")
        if grad is not None and grad.shape != params.shape:
            raise InputError(f"{file}: grad and params differ in shape")
        snaps.append(Snapshot(step=step, params=params, grad=grad, grad_kind=kind))
    return tuple(sorted(snaps, key=lambda s: s.step))


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            err = errors()[0]
            return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        except (IndexError, KeyError, TypeError):
            pass
    return str(exc).splitlines()[0]


# ---------------------------------------------------------------------------------- writing
def metadata(run: Run) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "id": run.id,
        "kind": run.kind,
        "config": run.config,
        "seed": run.seed,
        "provenance": run.provenance.model_dump(mode="json", exclude_none=True),
        "metrics": {"rows": run.metrics.rows, "columns": list(run.metrics)},
        "samples": {k: int(v.shape[0]) for k, v in run.samples.items()},
    }


def write_meta(root: Path, meta: Mapping[str, Any]) -> None:
    tmp = root / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str, allow_nan=False) + "\n", "utf-8")
    os.replace(tmp, root / META)


def write_columns_npz(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    os.replace(tmp, path)


def jsonl_lines(columns: Mapping[str, Any]) -> str:
    """Equal-length columns as JSON Lines text, one object per row, each line ending in ``\\n``.

    JSON has no NaN or infinity, so those are written as ``null`` (read back as NaN). A column
    whose values are all whole numbers (a step counter) is written as integers, any other with
    the shortest repr that reads back to the same float64.
    """
    names = list(columns)
    if not names:
        return ""
    texts = [_json_numbers(np.asarray(columns[n], dtype=np.float64)) for n in names]
    keys = [json.dumps(n).replace("{", "{{").replace("}", "}}") for n in names]
    template = "{{" + ", ".join(f"{k}: {{}}" for k in keys) + "}}\n"
    return "".join(map(template.format, *texts))


def _json_numbers(col: np.ndarray) -> list[str]:
    finite = np.isfinite(col)
    if finite.all() and (np.abs(col) < 2**53).all() and np.array_equal(col, np.trunc(col)):
        return list(map(str, col.astype(np.int64).tolist()))
    out = list(map(repr, col.tolist()))
    for i in np.flatnonzero(~finite).tolist():
        out[i] = "null"
    return out


JSONL_CHUNK_ROWS = 65536
"""Rows formatted at a time by :func:`write_jsonl`, so a long run is not one huge string."""


def write_jsonl(path: Path, columns: Mapping[str, np.ndarray]) -> None:
    n = len(next(iter(columns.values()), ()))
    with path.open("w", encoding="utf-8") as fh:
        for start in range(0, n, JSONL_CHUNK_ROWS):
            fh.write(jsonl_lines({k: v[start:start + JSONL_CHUNK_ROWS]
                                  for k, v in columns.items()}))


def write_snapshot(folder: Path, snap: Snapshot) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step_{snap.step:08d}.npz"
    arrays: dict[str, Any] = {"params": snap.params, "step": np.int64(snap.step),
                              "grad_kind": np.str_(snap.grad_kind)}
    if snap.grad is not None:
        arrays["grad"] = snap.grad
    np.savez(path, **arrays)
    return path


def write_run(run: Run, out_dir: Path | str, *, jsonl: bool = True) -> Path:
    """Write ``run`` as a run directory (created if needed); returns the directory."""
    root = Path(out_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        if jsonl and len(run.metrics):
            write_jsonl(root / METRICS_JSONL, run.metrics)
        if len(run.metrics):
            write_columns_npz(root / METRICS_NPZ, run.metrics)
        if len(run.samples):
            write_columns_npz(root / SAMPLES_NPZ, run.samples)
        for snap in run.snapshots:
            write_snapshot(root / SNAPSHOTS, snap)
        write_meta(root, metadata(run))
    except OSError as exc:
        raise EvidenceError(f"cannot write run directory {root}: {exc.strerror or exc}") from exc
    return root


__all__ = [
    "FORMAT",
    "jsonl_lines",
    "load_run",
    "metadata",
    "new_run_id",
    "parse_jsonl_columns",
    "records_to_columns",
    "run_digest",
    "write_columns_npz",
    "write_meta",
    "write_run",
    "write_snapshot",
]
