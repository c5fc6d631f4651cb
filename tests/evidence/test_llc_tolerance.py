"""h_regular as the theorem now states it, |λ − d/2| ≤ δ with the claim's δ = 0.3, and the
estimator's finite-n target.

* the target by log-space quadrature against an independent 2-D quadrature, at n where the old
  fixed grid broke (0.061 at n = 10⁹ against 0.448);
* the decision rule on synthetic traces: the finite-n bias never turns into "singular" or
  "regular";
* the negative control of class D, real SGLD: a singular model at λ = 0.9·d/2 fails under the
  claim's δ, and its near-threshold twin (d/2 − λ = 1/4 < δ) holds.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from experiments.llc_validation import MIXED, llc_regression
from pipeline.claims.registry import load_registry
from pipeline.evidence import llc
from pipeline.evidence.checks import Bound
from pipeline.evidence.evaluate import run_check
from pipeline.evidence.runs import load_run
from pipeline.settings import Settings
from tests.evidence.helpers import make_run

CHECK = "pipeline.evidence.checks.llc:regularity"
ROOT = Path(__file__).resolve().parents[2]


def claim_delta() -> float:
    """δ as bic_regular binds it (the claim's own constant, not a test's choice)."""
    claim = load_registry(Settings.load(ROOT)).get("bic_regular")
    value = claim.parameters["δ"]
    assert isinstance(value, float | int)
    return float(value)


def _two_d(n: float, gamma: float) -> float:
    """E[nβ a²b²/2] by nested quadrature over (log a, log b), nothing integrated analytically."""
    nb = n / math.log(n)

    def density(v: float, u: float, numerator: bool) -> float:
        a, b = math.exp(u), math.exp(v)
        k = 0.5 * (a * b) ** 2
        w = math.exp(-nb * k - gamma * (a * a + b * b) / 2) * a * b
        return w * nb * k if numerator else w

    lo, hi = -40.0, 0.5 * math.log(200.0 / gamma) + 1
    num = integrate.dblquad(lambda v, u: density(v, u, True), lo, hi, lo, hi,
                            epsabs=0, epsrel=1e-8)[0]
    den = integrate.dblquad(lambda v, u: density(v, u, False), lo, hi, lo, hi,
                            epsabs=0, epsrel=1e-8)[0]
    return num / den


@pytest.mark.parametrize("n", [10_000, 10**6, 10**9])
def test_finite_n_target_agrees_with_an_independent_quadrature(n: int) -> None:
    assert llc.finite_n_target("product", n, gamma=1.0) == pytest.approx(_two_d(n, 1.0),
                                                                          rel=1e-5)


def test_finite_n_target_at_large_n_and_its_bias_as_a_function_of_n() -> None:
    """0.382 at n = 10⁴ (the estimator's target, not λ = 1/2), 0.448 at 10⁹ where the old
    grid gave 0.061, rising to 1/2 only logarithmically; the quartic (multiplicity 1) is at
    1/4 to within 1 % from n = 10⁴."""
    values = [llc.finite_n_target("product", n, gamma=1.0) for n in (10**2, 10**4, 10**9, 10**30)]
    assert values[1] == pytest.approx(0.3825, abs=1e-3)
    assert values[2] == pytest.approx(0.4479, abs=1e-3)
    assert all(a < b < 0.5 for a, b in itertools.pairwise(values))
    bias = [llc.crossing_bias(n, gamma=1.0) for n in (10**4, 10**9, 10**30)]
    for n, b in zip((10**4, 10**9, 10**30), bias, strict=True):
        assert 0.7 < b * math.log(n / math.log(n)) < 1.0  # ≈ 0.9 / log(nβ/γ)
    assert llc.finite_n_target("quartic", 10**4, gamma=1.0) == pytest.approx(0.25, rel=0.02)
    assert llc.finite_n_target("quartic", 10**9, gamma=1.0) == pytest.approx(0.25, rel=1e-4)
    with pytest.raises(ValueError, match="γ > 0"):
        llc.finite_n_target("product", 100, gamma=0.0)
    with pytest.raises(ValueError, match="unknown model"):
        llc.finite_n_target("cubic", 100, gamma=1.0)


def _traces(tmp: Path, name: str, centre: float, *, d: int, spread: float = 0.02,
            n: int = 10_000, gamma: float | None = 1.0, seed: int = 0):  # type: ignore[no-untyped-def]
    """8 well-mixed synthetic chains whose mean sits at ``centre``."""
    rng = np.random.default_rng(seed)
    traces = centre + spread * rng.standard_normal((8, 400))
    cfg = {"n": n, "d": d, "burn_in": 50, "beta": 1 / math.log(n)}
    if gamma is not None:
        cfg["gamma"] = gamma
    return make_run(tmp, name, samples=llc.run_samples(traces), config={"llc": cfg})


def test_the_tolerance_is_tested_as_written(tmp_path: Path) -> None:
    delta = claim_delta()
    bound = Bound(parameters={"δ": delta})
    d, half = 10, 5.0
    bias = llc.crossing_bias(10_000, gamma=1.0)
    floor = half - delta
    # inside the tolerance: holds, whatever the finite-n bias (it only lowers λ̂)
    inside = run_check(CHECK, _traces(tmp_path, "in", floor + 0.05, d=d), bound)
    assert inside.outcome == "holds" and inside.threshold == pytest.approx(floor), inside.reason
    # λ = 0.9·d/2 = 4.5 with its finite-n target λₙ = 4.5 − bias: the estimate is below the
    # floor by more than the allowance: fails
    singular = run_check(CHECK, _traces(tmp_path, "sing", 4.5 - bias, d=d), bound)
    assert singular.outcome == "fails", singular.reason
    assert "finite-n bias allowance" in singular.reason
    # below the floor by less than the bias allowance: the bias could explain the gap, so
    # neither singular nor regular
    gap = run_check(CHECK, _traces(tmp_path, "gap", floor - bias / 2, d=d), bound)
    assert gap.outcome == "inconclusive" and "straddles" in gap.reason, gap.reason
    # without n or γ the bias cannot be bounded: never "fails"
    blind = run_check(CHECK, _traces(tmp_path, "blind", 3.0, d=d, gamma=None), bound)
    assert blind.outcome == "inconclusive" and "cannot be bounded" in blind.reason
    # a tighter claim constant turns the same run into a failure: δ is read, not assumed
    tight = run_check(CHECK, _traces(tmp_path, "in2", floor + 0.05, d=d),
                      Bound(parameters={"δ": 0.05}))
    assert tight.outcome == "fails", tight.reason
    # above d/2 + δ no model can be: inconclusive, not "regular"
    above = run_check(CHECK, _traces(tmp_path, "above", half + delta + 0.2, d=d), bound)
    assert above.outcome == "inconclusive" and "above d/2 + δ" in above.reason
    unbound = run_check(CHECK, _traces(tmp_path, "unbound", half, d=d))
    assert unbound.outcome == "inconclusive" and "'δ'" in unbound.reason


@pytest.mark.torch
@pytest.mark.heavy
@pytest.mark.parametrize(("variant", "expected"), [("singular_90", "fails"),
                                                   ("near_regular", "holds")])
def test_singular_model_at_ninety_percent_of_half_d_fails(tmp_path: Path, variant: str,
                                                          expected: str) -> None:
    """Class D's negative control, real SGLD on real PyTorch models: one product direction
    beside 8 regular ones (λ = 4.5 = 0.9·d/2, d = 10) fails under the claim's δ = 0.3; one
    quartic direction instead (λ = 4.25 = d/2 − 1/4, d = 9, inside the tolerance) holds."""
    _regular, _kind, truth = MIXED[variant]
    run = load_run(llc_regression(tmp_path / variant, seed=0, quick=True, variant=variant))
    outcome = run_check(CHECK, run, Bound(parameters={"δ": claim_delta()}))
    assert outcome.outcome == expected, outcome.reason
    d = outcome.details["d"]
    assert isinstance(d, int) and truth < d / 2
    if variant == "singular_90":
        assert truth == pytest.approx(0.9 * d / 2)
