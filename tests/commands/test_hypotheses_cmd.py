"""``sequent hypotheses`` end to end, as a user runs it (a subprocess, real files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.evidence.helpers import P, make_run


def sequent(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEQUENT_STATE_DIR": str(cwd / "state"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_check_prints_a_table_writes_json_and_stores(tmp_path: Path) -> None:
    make_run(tmp_path, metrics={"lr": 0.5 / np.arange(1, 301)})
    res = sequent("hypotheses", "check", "--run", "run", "--check", P + "sgd:step_size_schedule",
                  "--check", "bogus:name", "--json", "out/v.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "holds" in res.stdout and "inconclusive" in res.stdout
    data = json.loads((tmp_path / "out" / "v.json").read_text())
    assert [d["outcome"] for d in data] == ["holds", "inconclusive"]
    assert (tmp_path / "state" / "sequent.db").exists()


def test_bad_input_is_a_clean_error(tmp_path: Path) -> None:
    res = sequent("hypotheses", "check", "--run", "missing", "--check", "a:b", cwd=tmp_path)
    assert res.returncode == 2 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{")
    res = sequent("hypotheses", "check", "--run", "bad", "--check", "a:b", cwd=tmp_path)
    assert res.returncode == 2 and "malformed JSON" in res.stderr
    res = sequent("hypotheses", "import", "xml", "f", "--out", "o", cwd=tmp_path)
    assert res.returncode == 2 and "unknown import format" in res.stderr
    res = sequent("hypotheses", "experiment", "nope", "--out", "o", cwd=tmp_path)
    assert res.returncode == 2 and "unknown experiment" in res.stderr
    (tmp_path / "m.csv").write_text("loss\n1\n")
    res = sequent("hypotheses", "import", "csv", "m.csv", "--out", "o", "--config", "{oops",
                  cwd=tmp_path)
    assert res.returncode == 2 and "--config" in res.stderr and "Traceback" not in res.stderr


def test_import_then_check(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("step,lr\n" + "".join(f"{t},0.1\n" for t in range(1, 101)))
    res = sequent("hypotheses", "import", "csv", "m.csv", "--out", "imported", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = sequent("hypotheses", "check", "--run", "imported", "--check",
                  P + "sgd:step_size_schedule", "--no-plots", cwd=tmp_path)
    assert res.returncode == 0 and "fails" in res.stdout and "constant" in res.stdout


def test_check_says_what_each_claims_evidence_means(tmp_path: Path) -> None:
    """Issue 26 F: with every hypothesis holding, a claim whose conclusion is not verified
    on the run is not "applies" and the command says why."""
    repo = Path(__file__).resolve().parents[2]
    protocol = [(i, int(i % 2 == 0), int(i % 2 == 0)) for i in range(8)] * 100
    from experiments.debate import transcript_samples

    make_run(tmp_path, samples={"leaf_correct": np.ones(1600), **transcript_samples(protocol)})
    res = sequent("hypotheses", "check", "--run", "run", "--claim", "debate_tree", "--no-plots",
                  "--project", str(repo), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = " ".join((res.stdout + res.stderr).split())
    assert "debate_tree on the evidence: hypotheses hold; conclusion unverified (honest_wins)" \
        in out, out
