from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputError, NotFoundError
from pipeline.evidence.runs import load_run
from tests.evidence.helpers import make_run


def test_round_trip_keeps_metrics_samples_and_snapshots(tmp_path: Path) -> None:
    from pipeline.evidence.models import Snapshot

    run = make_run(tmp_path, metrics={"step": [1, 2, 3], "loss": [3.0, 2.0, 1.0]},
                   samples={"x": [1.0, 0.0]},
                   snapshots=[Snapshot(step=2, params=[1.0, 2.0], grad=[0.1, 0.2],
                                       grad_kind="full")],
                   config={"lr_schedule": "1/t"})
    assert run.metrics["loss"].tolist() == [3.0, 2.0, 1.0]
    assert run.samples["x"].tolist() == [1.0, 0.0]
    assert run.snapshots[0].grad_kind == "full" and run.snapshots[0].step == 2
    assert run.config == {"lr_schedule": "1/t"} and run.seed == 7
    assert run.path == (tmp_path / "run").resolve()


def test_missing_directory_and_missing_metadata(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_run(tmp_path / "nope")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "metrics.jsonl").write_text('{"loss": 1}\n')
    with pytest.raises(NotFoundError, match="sequent hypotheses import"):
        load_run(tmp_path / "raw")


def test_corrupt_and_non_utf8_metadata(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.json").write_text('{"id": "x",')
    with pytest.raises(InputError, match="malformed JSON at line 1"):
        load_run(bad)
    (bad / "run.json").write_bytes(b'{"id": "\xff"}')
    with pytest.raises(InputError, match="not UTF-8"):
        load_run(bad)
    (bad / "run.json").write_text('{"format": "other/9"}')
    with pytest.raises(InputError, match="unknown run format"):
        load_run(bad)
    (bad / "run.json").write_text('{"seed": "many"}')
    with pytest.raises(InputError, match="seed"):
        load_run(bad)


def test_truncated_last_jsonl_line_is_dropped_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "run.json").write_text(json.dumps({"id": "r"}))
    (root / "metrics.jsonl").write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.0}\n'
                                        '{"step": 3, "lo')
    run = load_run(root)
    assert run.metrics["loss"].tolist() == [2.0, 1.0]
    assert any("truncated" in n for n in run.provenance.notes)


def test_corrupt_middle_line_names_the_line(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "run.json").write_text(json.dumps({"id": "r"}))
    (root / "metrics.jsonl").write_text('{"loss": 2.0}\nnot json\n{"loss": 1.0}\n')
    with pytest.raises(InputError, match="line 2"):
        load_run(root)


def test_missing_keys_are_nan_and_strings_are_dropped(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "run.json").write_text(json.dumps({"id": "r"}))
    (root / "metrics.jsonl").write_text('{"loss": 2.0, "phase": "a"}\n{"acc": 0.5, "phase": "b"}\n')
    run = load_run(root)
    assert np.isnan(run.metrics["loss"][1]) and np.isnan(run.metrics["acc"][0])
    assert "phase" not in run.metrics
    assert any("phase" in n for n in run.provenance.notes)


def test_corrupt_npz_falls_back_to_jsonl(tmp_path: Path) -> None:
    make_run(tmp_path, metrics={"loss": [1.0, 2.0]})
    (tmp_path / "run" / "metrics.npz").write_bytes(b"garbage")
    run = load_run(tmp_path / "run")
    assert run.metrics["loss"].tolist() == [1.0, 2.0]
    assert any("unreadable" in n for n in run.provenance.notes)


def test_corrupt_snapshot_is_an_input_error(tmp_path: Path) -> None:
    make_run(tmp_path, metrics={"loss": [1.0]})
    snaps = tmp_path / "run" / "snapshots"
    snaps.mkdir()
    (snaps / "step_00000001.npz").write_bytes(b"\x00" * 10)
    with pytest.raises(InputError, match="snapshot"):
        load_run(tmp_path / "run")


def test_jsonl_is_written_in_chunks_without_losing_a_row(tmp_path: Path) -> None:
    from pipeline.evidence import runs

    n = runs.JSONL_CHUNK_ROWS + 3
    loss = np.linspace(0.0, 1.0, n)
    loss[5] = np.nan
    path = tmp_path / "metrics.jsonl"
    runs.write_jsonl(path, {"step": np.arange(1.0, n + 1), "loss": loss})
    lines = path.read_text().splitlines()
    assert len(lines) == n
    assert json.loads(lines[-1]) == {"step": n, "loss": 1.0}
    assert json.loads(lines[5])["loss"] is None
    assert json.loads(lines[runs.JSONL_CHUNK_ROWS])["loss"] == loss[runs.JSONL_CHUNK_ROWS]
