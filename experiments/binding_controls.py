"""Negative controls under each claim's **own** parameter binding (issue 26, A/B/G): data for
which the hypothesis is false at every admissible value of the parameter, or at the value
the claim binds, at the threshold, and on dependent data — evaluated through the same path
as ``sequent hypotheses check`` (:func:`pipeline.evidence.evaluate.evaluate` with the
claim's :class:`~pipeline.evidence.evaluate.Target`: constants, exact estimates, held-out
estimates on calibration seeds). ``benchmarks/bench_false_rates.py`` repeats each over many
seeds for its false-"holds" rate; a few positives give the false-"fails" rate.

``OWN_BINDING`` lists :class:`BindingControl` rows; ``make(seed) -> (Run, Target)``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from experiments.near_threshold import second_moment_group
from pipeline.evidence.evaluate import EstimateSource, Target
from pipeline.evidence.groups import pool_runs
from pipeline.evidence.models import Provenance, Run
from pipeline.evidence.runs import load_run
from pipeline.tracking import Tracker

P = "pipeline.evidence.checks."
SECOND = P + "sgd:bounded_second_moment"
STEP = P + "sgd:step_size_exact"
UPDATE = P + "sgd:plain_update"
REGULARITY = P + "llc:regularity"
DELTA = 0.3
"""bic_regular's δ, a claim constant: h_regular is |λ − d/2| ≤ δ."""
G2 = 4.0
"""sgd_chung's G², a claim constant."""
Maker = Callable[[int], tuple[Run, Target]]


@dataclass(frozen=True)
class BindingControl:
    check: str
    what: str
    binding: str
    """The claim's binding of the check's parameters, for people."""
    make: Maker
    expected: Literal["not holds", "holds"] = "not holds"


def _claim_g2(run: Run, g2: float = G2) -> tuple[Run, Target]:
    return run, Target(claim_id="sgd_chung", binder="h_bounded_second_moment", check=SECOND,
                       parameters={"G2": g2}, provenance={"G2": "claim"})


def _held_out(run: Run) -> tuple[Run, Target]:
    return run, Target(claim_id="sgd_chung", binder="h_bounded_second_moment", check=SECOND,
                       estimates={"G2": EstimateSource(
                           estimate="grad_second_moment_bound", binding="held_out",
                           calibration_seeds=(0, 1, 2, 3), factor=1.5)})


def _heavy(seed: int) -> tuple[Run, Target]:
    return _claim_g2(second_moment_group(seed, np.full(200, 1.0), seeds=12, heavy=1.5))


def _heavy_held_out(seed: int) -> tuple[Run, Target]:
    return _held_out(second_moment_group(seed, np.full(200, 1.0), seeds=16, heavy=1.5))


def _at_threshold(seed: int) -> tuple[Run, Target]:
    return _claim_g2(second_moment_group(seed, np.full(50, 1.05 * G2)))


def _spike(seed: int) -> tuple[Run, Target]:
    mean = np.full(200, 0.5)
    mean[6] = 8 * G2
    return _claim_g2(second_moment_group(seed, mean, seeds=12))


def _dependent(seed: int) -> tuple[Run, Target]:
    """E‖gₜ‖² = 1.1·G² at every step; each seed's draws are log-normal with an AR(1)
    (ρ = 0.9) latent over the steps."""
    rng = np.random.default_rng(seed)
    seeds, steps, rho, s = 40, 200, 0.9, 0.3
    z = np.empty((seeds, steps))
    z[:, 0] = rng.normal(size=seeds)
    for t in range(1, steps):
        z[:, t] = rho * z[:, t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=seeds)
    draws = 1.1 * G2 * np.exp(s * z - s**2 / 2)
    members = [Run(id=f"dep-{seed}-{k}", kind="sgd", seed=k, provenance=Provenance(source="test"),
                   metrics={"step": np.arange(steps, dtype=float), "grad_sq": row})
               for k, row in enumerate(draws)]
    return _claim_g2(pool_runs(members, group_id=f"dep-{seed}"))


def _positive(seed: int) -> tuple[Run, Target]:
    return _claim_g2(second_moment_group(seed, np.full(200, 0.5 * G2), seeds=24))


def _lr_run(seed: int, lr: np.ndarray, config: dict[str, object] | None = None) -> Run:
    t = np.arange(lr.shape[0], dtype=float)
    return Run(id=f"lr-{seed}", kind="sgd", seed=seed, config=config or {},
               provenance=Provenance(source="test"), metrics={"step": t, "lr": lr})


def _exact_lam(run: Run) -> tuple[Run, Target]:
    return run, Target(claim_id="sgd_chung", binder="h_step_size", check=STEP,
                       estimates={"lam": EstimateSource(estimate="step_size_rate",
                                                        binding="exact")})


def _offset(seed: int) -> tuple[Run, Target]:
    t = np.arange(1, 5001, dtype=float)
    return _exact_lam(_lr_run(seed, 1 / (0.5 * (t + 10))))


def _almost(seed: int) -> tuple[Run, Target]:
    t = np.arange(1, 5001, dtype=float)
    return _exact_lam(_lr_run(seed, 2.0 * t**-0.99))


def _declared(seed: int) -> tuple[Run, Target]:
    return _exact_lam(_lr_run(seed, np.full(5000, 0.05), {"lr_schedule": "1/(mu*t)",
                                                          "mu": 0.5}))


def _one_step_off(seed: int) -> tuple[Run, Target]:
    t = np.arange(1, 5001, dtype=float)
    lr = 1 / (0.5 * t)
    lr[int(np.random.default_rng(seed).integers(1, 4999))] *= 1.005  # not the last step
    return _exact_lam(_lr_run(seed, lr))


def _float32(seed: int) -> tuple[Run, Target]:
    t = np.arange(1, 5001, dtype=float)
    mu = np.float32(0.5 + 0.1 * np.random.default_rng(seed).random())
    return _exact_lam(_lr_run(seed, (np.float32(1) / (mu * t.astype(np.float32)))
                              .astype(np.float64)))


def _exact(seed: int) -> tuple[Run, Target]:
    t = np.arange(1, 5001, dtype=float)
    return _exact_lam(_lr_run(seed, 1 / (0.5 * t), {"lr_schedule": "1/(mu*t)", "mu": 0.5}))


def tiny_sgd(seed: int, variant: str, root: Path, steps: int = 60) -> Run:
    """A real PyTorch loop: least squares in 4 dimensions, mini-batches of 8, the tracker
    probing the update every 5 steps; ``variant`` picks the optimiser (``sgd``, ``adam``,
    ``momentum``, ``weight_decay``) or ``clipping`` (plain SGD, gradient clipped after the
    hook). The config always declares plain SGD."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(128, 4, generator=gen, dtype=torch.float64)
    y = x @ torch.ones(4, dtype=torch.float64) + 0.1 * torch.randn(128, generator=gen,
                                                                      dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    opt: torch.optim.Optimizer = {
        "adam": lambda: torch.optim.Adam([w], lr=0.05),
        "momentum": lambda: torch.optim.SGD([w], lr=0.05, momentum=0.9),
        "weight_decay": lambda: torch.optim.SGD([w], lr=0.05, weight_decay=0.01),
    }.get(variant, lambda: torch.optim.SGD([w], lr=0.05))()
    with Tracker(root / f"{variant}-{seed}", [w], opt, config={"optimizer": "SGD"}, seed=seed,
                 kind="sgd", update_check_every=5, flush_every=64) as track:
        for _ in range(steps):
            idx = torch.randint(0, 128, (8,), generator=gen)
            opt.zero_grad()
            loss = 0.5 * ((x[idx] @ w - y[idx]) ** 2).mean()
            loss.backward()
            track.step(loss)
            if variant == "clipping":
                torch.nn.utils.clip_grad_norm_([w], 0.1)
            opt.step()
    return load_run(root / f"{variant}-{seed}")


def _update(variant: str) -> Maker:
    def make(seed: int) -> tuple[Run, Target]:
        with tempfile.TemporaryDirectory() as tmp:
            run = tiny_sgd(seed, variant, Path(tmp))
        return run, Target(claim_id="sgd_chung", binder="h_update", check=UPDATE)
    return make


def llc_traces(seed: int, centre: float, *, d: int, n: int = 10_000) -> Run:
    """16 SGLD-like chains of 400 draws whose mean is ``centre``: chain means spread with sd
    0.25 and draws with sd 1 around them, as in the real runs of ``llc_regression``'s mixed
    variants (``config["llc"]`` as the sampler records it, γ = 1)."""
    from pipeline.evidence import llc

    rng = np.random.default_rng(seed)
    means = centre + 0.25 * rng.standard_normal(16)
    traces = means[:, None] + rng.standard_normal((16, 400))
    settings = llc.SGLDSettings(step_size=1e-4, gamma=1.0, chains=16, draws=400, burn_in=0)
    return Run(id=f"llc-{seed}", kind="llc", seed=seed,
               provenance=Provenance(source="synthetic LLC traces"),
               samples=llc.run_samples(traces), config={"llc": llc.run_config(settings, n=n, d=d)})


def _regularity(centre_below_half: float, d: int = 10) -> Maker:
    def make(seed: int) -> tuple[Run, Target]:
        return (llc_traces(seed, d / 2 - centre_below_half, d=d),
                Target(claim_id="bic_regular", binder="h_regular", check=REGULARITY,
                       parameters={"δ": DELTA}, provenance={"δ": "claim"}))
    return make


OWN_BINDING: tuple[BindingControl, ...] = (
    BindingControl(SECOND, "infinite variance (Student t, 1.5 dof; 12 seeds × 200 steps)",
                   "G² = 4 (claim)", _heavy),
    BindingControl(SECOND, "infinite variance, G² held out on 4 of 16 seeds (× 1.5)",
                   "G² held_out", _heavy_held_out),
    BindingControl(SECOND, "at the threshold: E‖gₜ‖² = 1.05·G² at every step (40 seeds)",
                   "G² = 4 (claim)", _at_threshold),
    BindingControl(SECOND, "E‖g₇‖² = 8·G² at one step of 200 (12 seeds)", "G² = 4 (claim)",
                   _spike),
    BindingControl(SECOND, "dependent: AR(1) log-normal draws, E‖gₜ‖² = 1.1·G² (40 seeds)",
                   "G² = 4 (claim)", _dependent),
    BindingControl(SECOND, "positive: E‖gₜ‖² = G²/2 (24 seeds × 200 steps)",
                   "G² = 4 (claim)", _positive, "holds"),
    BindingControl(STEP, "ηₜ = 1/(μ(t + 10)): c/t for no c", "λ exact (logged lr)", _offset),
    BindingControl(STEP, "ηₜ = 2t^(−0.99) over 5,000 steps", "λ exact (logged lr)", _almost),
    BindingControl(STEP, "declares 1/(mu*t), logs 0.05 at every step", "λ exact (logged lr)",
                   _declared),
    BindingControl(STEP, "ηₜ = 1/(μt) but 0.5 % off at one step of 5,000",
                   "λ exact (logged lr)", _one_step_off),
    BindingControl(STEP, "positive: ηₜ = 1/(μt) logged and declared", "λ exact (logged lr)",
                   _exact, "holds"),
    BindingControl(STEP, "positive: ηₜ = 1/(μt) computed and logged in float32",
                   "λ exact (logged lr)", _float32, "holds"),
    *(BindingControl(UPDATE, f"{name} labelled plain SGD (PyTorch, 60 steps)", "none",
                     _update(variant)) for variant, name in (
        ("adam", "Adam"), ("momentum", "momentum 0.9"), ("weight_decay", "weight decay 0.01"),
        ("clipping", "clipping after the hook"))),
    BindingControl(UPDATE, "positive: torch.optim.SGD (PyTorch, 60 steps)", "none",
                   _update("sgd"), "holds"),
    BindingControl(REGULARITY, "at the threshold: λ̂ centred at d/2 − δ − 0.02, no finite-n "
                   "bias (d = 10)", "δ = 0.3 (claim)", _regularity(DELTA + 0.02)),
    BindingControl(REGULARITY, "λ = 0.9·d/2 with its finite-n target (−0.118 at n = 10⁴)",
                   "δ = 0.3 (claim)", _regularity(0.5 + 0.1175)),
    BindingControl(REGULARITY, "positive: λ̂ centred at d/2 (d = 10)", "δ = 0.3 (claim)",
                   _regularity(0.0), "holds"),
)


__all__ = ["OWN_BINDING", "BindingControl", "llc_traces", "tiny_sgd"]
