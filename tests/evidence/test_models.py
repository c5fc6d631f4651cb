from __future__ import annotations

import json
import math

import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.evidence.models import CheckOutcome, Columns, HypothesisVerdict, Run, Snapshot


def test_columns_are_read_only_float_arrays() -> None:
    cols = Columns({"loss": [1, 2, 3]})
    assert cols["loss"].dtype == np.float64
    with pytest.raises(ValueError):
        cols["loss"][0] = 5.0


def test_run_rejects_metric_columns_of_different_length() -> None:
    with pytest.raises(ValidationError, match="differ in length"):
        Run(id="r", metrics={"loss": [1.0, 2.0], "lr": [0.1]})


def test_samples_may_differ_in_length_and_none_reads_as_nan() -> None:
    run = Run(id="r", samples={"a": [1.0], "b": [1.0, None]})
    assert run.samples.rows == 2 and math.isnan(run.samples["b"][1])


def test_run_json_round_trip_writes_nan_as_null() -> None:
    run = Run(id="r", metrics={"loss": [1.0, float("nan")]},
              snapshots=(Snapshot(step=3, params=[1.0, 2.0], grad=[0.5, 0.5], grad_kind="full"),))
    data = json.loads(run.model_dump_json())
    assert data["metrics"]["loss"] == [1.0, None]
    back = Run.model_validate(data)
    assert back.metrics == run.metrics and back.snapshots[0].grad.tolist() == [0.5, 0.5]


def test_columns_reject_non_numbers() -> None:
    with pytest.raises(ValidationError, match="numbers"):
        Run(id="r", metrics={"loss": ["a", "b"]})


def test_outcome_drops_non_finite_values_and_verdict_binds_it() -> None:
    out = CheckOutcome(outcome="inconclusive", statistic="s", value=float("inf"), reason="x")
    assert out.value is None
    v = HypothesisVerdict.from_outcome(out, claim_id="c", binder="h", check="m:f", run_id="r")
    assert (v.claim_id, v.binder, v.outcome, v.holds) == ("c", "h", "inconclusive", False)


def test_seeds_come_from_config_or_seed() -> None:
    assert Run(id="r", seed=3).seeds() == [3]
    assert Run(id="r", seed=3, config={"seeds": [1, 2]}).seeds() == [1, 2]
    assert Run(id="r").seeds() == []
