"""Every check separates its positive control (holds by construction) from its negative
control (violated by construction), on real seeded PyTorch runs in quick mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments import REFERENCE
from experiments.controls import CONTROLS, Control
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.models import Run
from pipeline.evidence.runs import load_run

pytestmark = [pytest.mark.torch, pytest.mark.heavy]


@pytest.fixture(scope="module")
def control_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, int], Run]:
    root = tmp_path_factory.mktemp("controls")
    runs: dict[tuple[str, str, int], Run] = {}
    for pair in CONTROLS.values():
        for control in pair:
            key = (control.experiment, control.variant, control.seeds)
            if key not in runs:
                runs[key] = control.load(root / f"{key[0]}-{key[1]}-{key[2]}", seed=0,
                                         quick=True)
    return runs


@pytest.mark.parametrize("check", sorted(CONTROLS))
def test_check_separates_its_controls(check: str,
                                      control_runs: dict[tuple[str, str, int], Run]) -> None:
    positive, negative = CONTROLS[check]
    pos_run = control_runs[(positive.experiment, positive.variant, positive.seeds)]
    neg_run = control_runs[(negative.experiment, negative.variant, negative.seeds)]
    pos = run_check(check, pos_run, positive.bound(pos_run))
    neg = run_check(check, neg_run, negative.bound(neg_run))
    assert (pos.outcome, neg.outcome) == ("holds", "fails"), (pos.reason, neg.reason)
    assert pos.seeds == tuple(range(positive.seeds)) and pos.reason and neg.reason


def test_every_reference_experiment_is_deterministic(tmp_path: Path) -> None:
    for name, experiment in REFERENCE.items():
        a = load_run(experiment(tmp_path / f"{name}-a", 3, True))
        b = load_run(experiment(tmp_path / f"{name}-b", 3, True))
        assert a.metrics == b.metrics and a.samples == b.samples, name
        assert len(a.snapshots) == len(b.snapshots)
        for sa, sb in zip(a.snapshots, b.snapshots, strict=True):
            assert np.array_equal(sa.params, sb.params)


def test_unknown_variant_and_reused_directory(tmp_path: Path) -> None:
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="unknown variant"):
        REFERENCE["debate"](tmp_path / "x", 0, True, variant="nope")
    with pytest.raises(InputError, match="unknown variant"):
        Control("c", "sgd_logistic", "divergent", "fails").run(tmp_path / "y", quick=True)
    REFERENCE["certificate"](tmp_path / "z", 0, True)
    with pytest.raises(InputError, match="already holds a run"):
        REFERENCE["certificate"](tmp_path / "z", 0, True)
