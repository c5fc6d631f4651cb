from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.evidence.store import latest_verdicts
from pipeline.store.db import Database
from tests.evidence.helpers import make_run

pytest_plugins = ["pytester"]

TESTS = """
import pytest

@pytest.mark.hypothesis_check("sgd_chung", "h_decreasing")
def test_lr_decreases(run):
    assert run.metrics["lr"][-1] < run.metrics["lr"][0]

@pytest.mark.hypothesis_check("sgd_chung", "h_small")
def test_lr_small(run):
    assert run.metrics["lr"].max() < 0.01, "lr too large"

@pytest.mark.hypothesis_check("sgd_chung", "h_skip")
def test_skipped(run):
    pytest.skip("not measurable here")

@pytest.fixture
def broken():
    raise RuntimeError("fixture bug")

@pytest.mark.hypothesis_check("sgd_chung", "h_broken")
def test_broken(run, broken):
    pass

def test_unmarked(run):
    assert run.metrics is not None
"""


def test_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(skipped=5)
    assert "recorded" not in result.stdout.str()


def test_records_marked_outcomes_as_verdicts(pytester: pytest.Pytester, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(tmp_path, metrics={"lr": 0.5 / np.arange(1, 51)})
    db_url = f"sqlite:///{tmp_path / 'verdicts.db'}"
    monkeypatch.setenv("SEQUENT_DATABASE_URL", db_url)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))  # this checkout
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sequent-run", str(run.path))
    result.assert_outcomes(passed=2, failed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines(["*sequent: recorded 4 hypothesis verdicts on run run*"])
    db = Database(db_url)
    got = {v.binder: v for v in latest_verdicts(db, "sgd_chung")}
    db.close()
    assert {b: v.outcome for b, v in got.items()} == {
        "h_decreasing": "holds", "h_small": "fails", "h_skip": "inconclusive", "h_broken": "error"}
    assert "lr too large" in got["h_small"].reason and got["h_small"].source == "pytest"
    assert "not measurable" in got["h_skip"].reason and got["h_decreasing"].run_id == "run"


def test_bad_run_dir_is_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sequent-run", str(tmp_path / "no"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--sequent-run: run directory * does not exist*"])
