from __future__ import annotations

import pytest

from pipeline.evidence.schedule import decide_schedule


@pytest.mark.parametrize(("formula", "constants", "outcome"), [
    ("0.5/(mu*t)", {"mu": 0.1}, "holds"),
    ("0.5/(mu*t)", {}, "holds"),  # symbolic positive constant
    ("c/(t+t0)**0.75", {"t0": 10}, "holds"),
    ("1/(t*log(t+1))", {}, "holds"),
    ("0.1", {}, "fails"),  # constant: Σηₜ² = ∞
    ("eta", {"eta": 0.3}, "fails"),
    ("1/sqrt(t)", {}, "fails"),  # Σ 1/t diverges
    ("1/t**2", {}, "fails"),  # Σηₜ < ∞
    ("0.1*0.99**t", {}, "fails"),  # geometric decay
    ("-1/t", {}, "fails"),
])
def test_robbins_monro_is_decided_symbolically(formula: str, constants: dict[str, float],
                                               outcome: str) -> None:
    assert decide_schedule(formula, constants).outcome == outcome


def test_rate_is_reported() -> None:
    d = decide_schedule("0.5/(mu*t)", {"mu": 0.1})
    assert d.decay_exponent == 1.0 and d.rate_constant == "5" and d.sum_diverges is True
    assert d.sum_squares_converges is True


@pytest.mark.parametrize("formula", [
    "__import__('os').system('echo hi')", "t.__class__", "10**10**10", "sin(t)/t",
    "lambda: 1", "", "x" * 300, "1/(t-t)"])
def test_unsupported_or_hostile_formulas_are_inconclusive(formula: str) -> None:
    d = decide_schedule(formula, {})
    assert d.outcome == "inconclusive" and d.reason
