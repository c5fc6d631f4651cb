"""Issue 26, class D: hypotheses that are equalities no finite run confirms (conformal
h_exchangeable, the certificate's h_independent and h_same_distribution) are checked by
proxies; under each claim's own binding the verdict says "proxy" and states what it
certifies, with the numbers (the coverage 1 − α − D̄, the rate 1/m + D̄ or 1/(m(1 − ρ̄))),
and the proxy still fails on data that break it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.claims.registry import load_registry
from pipeline.evidence.evaluate import Target, evaluate, targets_of
from pipeline.evidence.models import HypothesisVerdict, Provenance, Run
from pipeline.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def targets() -> dict[str, Target]:
    registry = load_registry(Settings.load(REPO))
    return {t.binder: t for cid in ("zero_failure_certificate", "conformal_coverage")
            for t in targets_of(registry, cid)}


def scores_run(shift: float = 0.0, bursty: bool = False) -> Run:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=4000), rng.normal(size=4000)
    fail = (rng.random(4000) < 0.1).astype(float)
    if bursty:
        fail = np.repeat(fail[:200], 20)
    return Run(id="eq", provenance=Provenance(source="test"),
               samples={"failure": fail, "certification": a, "deployment": b + shift,
                        "calibration_scores": np.abs(a), "test_scores": np.abs(b) + shift})


def verdict(targets: dict[str, Target], binder: str, run: Run) -> HypothesisVerdict:
    (out,) = evaluate(run, [targets[binder]])
    return out


def number_after(text: str, label: str) -> float:
    match = re.search(re.escape(label) + r" = (-?[0-9.e+-]+)", text)
    assert match, (label, text)
    return float(match.group(1))


def test_the_equality_proxies_say_what_they_certify_with_the_claims_numbers(
        targets: dict[str, Target]) -> None:
    run = scores_run()
    exch = verdict(targets, "h_exchangeable", run)
    assert exch.outcome == "holds" and exch.kind == "proxy" and exch.ci is not None
    text = exch.not_covered or ""
    d_bar = number_after(text, "D̄")
    assert d_bar == pytest.approx(exch.ci.high, rel=1e-2)
    assert number_after(text, "1 − α − D̄") == pytest.approx(1 - 0.1 - d_bar, abs=2e-3)

    same = verdict(targets, "h_same_distribution", run)
    assert same.outcome == "holds" and same.kind == "proxy" and same.parameters["m"] == 1000
    text = same.not_covered or ""
    d_bar = number_after(text, "D̄")
    assert number_after(text, "1/m + D̄") == pytest.approx(1e-3 + d_bar, abs=1e-3)

    indep = verdict(targets, "h_independent", run)
    assert indep.outcome == "holds" and indep.kind == "proxy" and indep.ci is not None
    text = indep.not_covered or ""
    rho = max(indep.ci.high, 0.0)
    assert number_after(text, "1/(m(1 − ρ))") == pytest.approx(1e-3 / (1 - rho), rel=1e-3)


def test_the_equality_proxies_still_fail(targets: dict[str, Target]) -> None:
    assert verdict(targets, "h_exchangeable", scores_run(shift=0.3)).outcome == "fails"
    assert verdict(targets, "h_same_distribution", scores_run(shift=0.3)).outcome == "fails"
    assert verdict(targets, "h_independent", scores_run(bursty=True)).outcome == "fails"
