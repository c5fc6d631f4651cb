"""Weights & Biases offline runs (``wandb/offline-run-*/run-<id>.wandb``), no server, no network.

The ``.wandb`` file is W&B's transaction log: a 7-byte header (``:W&B``, magic 0xBEE1,
version 0) and 32 KiB blocks of records framed like LevelDB's log (CRC32 of type and data,
length, type FULL/FIRST/MIDDLE/LAST). ``wandb`` 0.31 moved its own log reader into the Go
``wandb-core`` binary, so the framing is read here and every record is decoded with the
``wandb`` package's own protobuf schema (``wandb.proto.wandb_internal_pb2.Record``).
History records become the metrics (``_step`` is the step), config records the config, the
run record the id and seed-free provenance. Names are normalised like every importer's.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.importers.common import finish
from pipeline.evidence.models import Run

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def find_log(source: Path) -> Path:
    """The ``.wandb`` file of ``source`` (the file, a run folder, or ``wandb/`` with one run)."""
    if source.is_file():
        return source
    if not source.exists():
        raise NotFoundError(f"W&B run {source} does not exist")
    found = sorted(source.glob("run-*.wandb")) or sorted(  # latest-run is a link to one
        {f.resolve() for f in source.glob("*/run-*.wandb")})
    if len(found) != 1:
        raise InputError(f"{source} holds {len(found)} W&B run logs (run-*.wandb); name the "
                         "run folder or the file")
    return found[0]


def records(path: Path) -> Iterator[bytes]:
    """The payloads of the log's records, reassembled across blocks, CRC-checked."""
    data = path.read_bytes()
    if not data.startswith(HEADER):
        raise InputError(f"{path} is not a W&B transaction log (no :W&B header)")
    pos, pending = len(HEADER), b""
    while pos + 7 <= len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:  # the rest of a block too small for a header is padding
            pos += room
            continue
        checksum, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:  # zero padding at the end of a block
            pos += room
            continue
        body = data[pos + 7: pos + 7 + length]
        if len(body) < length:
            break  # a truncated last record, as a killed process leaves it
        if zlib.crc32(body, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != checksum:
            raise InputError(f"{path}: corrupt record at byte {pos} (CRC mismatch)")
        pos += 7 + length
        if kind == FULL:
            yield body
        elif kind == FIRST:
            pending = body
        elif kind == MIDDLE:
            pending += body
        elif kind == LAST:
            yield pending + body
            pending = b""
        else:
            raise InputError(f"{path}: unknown record type {kind} at byte {pos}")


def _value(item: Any) -> Any:
    text = item.value_json
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def import_wandb(source: Path | str, out_dir: Path | str, *,
                 config: Mapping[str, Any] | None = None, run_id: str | None = None,
                 kind: str = "training") -> Run:
    """Import one offline W&B run (its folder or its ``.wandb`` file) into ``out_dir``."""
    try:
        from wandb.proto import wandb_internal_pb2 as pb
    except ImportError as exc:
        raise InputError("the W&B importer needs the wandb package (pip install -e .[wandb])"
                         ) from exc
    log = find_log(Path(source))
    rows: list[dict[str, float]] = []
    cfg: dict[str, Any] = {}
    wandb_id: str | None = None
    notes: list[str] = []
    for payload in records(log):
        rec = pb.Record()  # type: ignore[attr-defined]  # generated protobuf module
        try:
            rec.ParseFromString(payload)
        except Exception as exc:  # protobuf's DecodeError
            raise InputError(f"{log}: a record is not a W&B protobuf record: {exc}") from exc
        which = rec.WhichOneof("record_type")
        if which == "history":
            row: dict[str, float] = {}
            for item in rec.history.item:
                key = item.key or "/".join(item.nested_key)
                value = _value(item)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    row[key] = float(value)
            rows.append(row)
        elif which in ("config", "run"):
            updates = rec.config.update if which == "config" else rec.run.config.update
            for item in updates:
                value = _value(item)
                key = item.key or "/".join(item.nested_key)
                if key.startswith("_"):  # wandb's own bookkeeping (_wandb)
                    continue
                cfg[key] = value.get("value", value) if isinstance(value, dict) else value
            if which == "run" and rec.run.run_id:
                wandb_id = rec.run.run_id
    if not rows:
        raise InputError(f"{log}: the run logged no history (no metrics to import)")
    keys = [k for k in dict.fromkeys(k for r in rows for k in r)
            if k not in ("_runtime", "_timestamp")]
    columns = {("step" if k == "_step" else k):
               np.array([r.get(k, np.nan) for r in rows], dtype=np.float64) for k in keys}
    merged = {**cfg, **dict(config or {}), "wandb_run_id": wandb_id}
    return finish(columns, out_dir, source="wandb", source_path=log, config=merged,
                  run_id=run_id or wandb_id, kind=kind, notes=notes)


__all__ = ["find_log", "import_wandb", "records"]
