"""Reference experiments: real, seeded PyTorch runs on the CPU that exercise the empirical
hypotheses of the claims in ``Formal/``.

``REFERENCE[name](out_dir, seed, quick) -> run_dir`` runs one (≤ 2 min on 2 cores; with
``quick=True`` a few seconds). Positive and negative controls for every check are in
:mod:`experiments.controls`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from experiments import certificate as _certificate
from experiments import conformal as _conformal
from experiments import debate as _debate
from experiments import ensemble as _ensemble
from experiments import icl_regression as _icl_regression
from experiments import llc_validation as _llc_validation
from experiments import mentor as _mentor
from experiments import modular_addition as _modular_addition
from experiments import prover_estimator as _prover_estimator
from experiments import sgd as _sgd

Experiment = Callable[..., Path]
"""``(out_dir, seed=0, quick=False, variant="reference") -> run_dir``."""

REFERENCE: dict[str, Experiment] = {
    "sgd_quadratic": _sgd.sgd_quadratic,
    "sgd_logistic": _sgd.sgd_logistic,
    "sgd_noise": _sgd.sgd_noise,
    "debate": _debate.debate,
    "ensemble": _ensemble.ensemble,
    "certificate": _certificate.certificate,
    "conformal": _conformal.conformal,
    "icl_regression": _icl_regression.icl_regression,
    "modular_addition": _modular_addition.modular_addition,
    "llc_regression": _llc_validation.llc_regression,
    "mentor": _mentor.mentor,
    "prover_estimator": _prover_estimator.prover_estimator,
}

__all__ = ["REFERENCE", "Experiment"]
