"""Near-threshold controls (the right shape with the wrong constant, just outside the claim's
threshold) never hold, and their positive twins just inside never fail, on pinned seeds; the
benchmark repeats them over ≥ 20 seeds for the rates in docs/evidence.md."""

from __future__ import annotations

import pytest

from experiments.near_threshold import NEAR
from pipeline.evidence.evaluate import run_check


@pytest.mark.parametrize("check", sorted(NEAR))
def test_near_threshold_controls(check: str) -> None:
    pair = NEAR[check]
    for seed in range(3):
        run, bound = pair.negative(seed)
        neg = run_check(check, run, bound)
        run, bound = pair.positive(seed)
        pos = run_check(check, run, bound)
        assert neg.outcome != "holds", (seed, neg.reason)
        assert pos.outcome != "fails", (seed, pos.reason)
    assert neg.outcome == "fails" and pos.outcome == "holds", (neg.reason, pos.reason)
