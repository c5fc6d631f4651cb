"""SGD on strongly convex problems (least squares with ridge, logistic regression with L2),
with the step size ηₜ = 1/(μ(t + t₀)) of Chung's lemma; plus controls that break one
hypothesis each by construction:

* ``constant_lr``  — a constant step size (violates Σηₜ² < ∞);
* ``divergent``    — a constant step above 2/L (the gradient second moment blows up);
* ``nonconvex``    — a double-well objective started at its concave saddle;
* ``chung``        — ηₜ = 1/(μt) exactly, the step size of the theorem's h_step_size
  (logistic only: its gradients are bounded, so the large first steps do not diverge);
* ``mislabelled_lr`` — the config declares ``lr_schedule = "1/(mu*t)"`` but the optimiser
  runs at 0.05 every step (what was logged beats what was declared);
* ``chung_short`` — the ``chung`` run cut to 100 steps: sgd_chung's reference experiment is
  a group of 8 of them (``sequent gate`` regenerates it);
* ``far_start``   — the ``chung`` run started at w₁ = 30·1, outside the radius 4G²/λ² of
  sgd_chung's own binding (h_init fails);
* ``adam``, ``momentum``, ``weight_decay``, ``clipping`` — the ``chung`` run labelled plain SGD
  but updated by Adam, SGD with momentum 0.9, SGD with weight decay 0.01, or SGD whose
  gradient is clipped to norm 0.05 after the tracker logged it (h_update fails on each).

:func:`sgd_noise` is linear regression with label noise of a chosen law, for the gradient
second moment: ``gaussian`` (E‖gₜ‖² bounded, light tail), ``heavy`` (Student t with 1.5
degrees of freedom: infinite variance, E‖gₜ‖² = ∞), ``spike`` (a corrupted batch at t = 7 in
every seed, whose features are 8× too large: E‖g₇‖² ≈ 8× the claim's G² = 4).

Least-squares runs record the optimum w* (sample ``w_star``, the ridge solution), logistic runs
the regularised optimum (Newton's method on the full batch), and the
double-well runs the minimiser they settle in, so strong convexity is checked against the
true w*.

The problem (data, w*) is the same for every seed and the seed draws the mini-batches (and the
double well's start), so runs of several seeds form a run group: expectations over training
noise are estimated at each step across them.

Every ``snapshot_every`` steps the full-batch gradient is taken and snapshotted, so the
strong-convexity check sees exact gradients.
"""

from __future__ import annotations

from pathlib import Path

import torch

from experiments.common import check_variant, fresh_dir, seeded, train_step
from pipeline.tracking import Tracker

VARIANTS = ("reference", "constant_lr", "divergent", "nonconvex")
MISLABELLED = ("mislabelled_lr", "adam", "momentum", "weight_decay", "clipping")
"""Variants of the ``chung`` run whose declared config says plain SGD with ηₜ = 1/(μt)."""
LOGISTIC_VARIANTS = ("reference", "constant_lr", "nonconvex", "chung", "chung_short",
                     "far_start", *MISLABELLED)
NOISE_VARIANTS = ("gaussian", "heavy", "spike")
FAR_START = 30.0
"""Every coordinate of the ``far_start`` variant's first iterate: e₁ ≈ 8·30² = 7,200 >
4G²/λ² = 6,400 at sgd_chung's G² = 4 and λ = μ = 0.05."""
SHORT_STEPS = 100
"""Steps of the ``chung_short`` variant: the ``chung`` run cut short, one member of sgd_chung's
reference run group (many seeds of few steps decide E‖gₜ‖² at every t within seconds)."""
SPIKE = 8.0
"""The feature scale of the ``spike`` variant's corrupted batch at t = 7."""
DTYPE = torch.float64


def _problem(rng_seed: int, n: int, d: int, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(rng_seed)
    scales = torch.linspace(0.5, 2.0, d, dtype=DTYPE)
    x = torch.randn(n, d, generator=g, dtype=DTYPE) * scales
    w = torch.randn(d, generator=g, dtype=DTYPE)
    if kind == "logistic":
        p = torch.sigmoid(x @ w)
        y = (torch.rand(n, generator=g, dtype=DTYPE) < p).to(DTYPE)
    else:
        y = x @ w + 0.3 * torch.randn(n, generator=g, dtype=DTYPE)
    return x, y


def _loss(kind: str, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
          lam: float) -> torch.Tensor:
    if kind == "logistic":
        data = torch.nn.functional.binary_cross_entropy_with_logits(x @ theta, y)
    elif kind == "nonconvex":
        # double well per coordinate plus a data term whose full-batch gradient is zero
        # (y is orthogonal to the columns of x) but whose mini-batch gradients are noisy
        return 0.25 * ((theta**2 - 1.0) ** 2).sum() + 0.05 * ((x @ theta) * y).mean()
    else:
        data = 0.5 * ((x @ theta - y) ** 2).mean()
    return data + 0.5 * lam * (theta @ theta)


def _curvature(kind: str, x: torch.Tensor, lam: float) -> tuple[float, float]:
    """(μ, L): exact for least squares; for logistic, μ = λ and L ≤ λ_max(XᵀX)/(4n) + λ."""
    h = x.T @ x / x.shape[0]
    eig = torch.linalg.eigvalsh(h)
    if kind == "logistic":
        return lam, float(eig[-1]) / 4 + lam
    if kind == "nonconvex":
        return -1.0, 2.0
    return float(eig[0]) + lam, float(eig[-1]) + lam


def run_sgd(out_dir: Path | str, seed: int = 0, quick: bool = False, *,
            problem: str = "quadratic", variant: str = "reference") -> Path:
    check_variant(variant, LOGISTIC_VARIANTS if problem == "logistic" else VARIANTS,
                  f"sgd_{problem}")
    root = fresh_dir(out_dir)
    kind = "nonconvex" if variant == "nonconvex" else problem
    n, d, lam, batch = 1024, 8, 0.1 if problem == "quadratic" else 0.05, 16
    steps = {"reference": 2000 if quick else 8000, "constant_lr": 2000 if quick else 8000,
             "chung": 2000 if quick else 8000, "chung_short": SHORT_STEPS,
             "divergent": 150, "nonconvex": 2000,
             "far_start": 300 if quick else 2000,
             **dict.fromkeys(MISLABELLED, 300 if quick else 2000)}[variant]
    snapshots = 30
    with seeded(seed):
        x, y = _problem(1000, n, d, problem)  # one problem: the seed draws the batches
        if kind == "nonconvex":
            y = y - x @ torch.linalg.lstsq(x, y).solution  # orthogonal to the columns of x
        mu, lip = _curvature(kind, x, lam)
        theta = torch.nn.Parameter(
            torch.full((d,), 0.01, dtype=DTYPE) + 0.01 * torch.randn(d, dtype=DTYPE)
            if kind == "nonconvex" else torch.full((d,), FAR_START if variant == "far_start"
                                                    else 0.0, dtype=DTYPE))
        t0 = lip / mu if mu > 0 else 0.0
        config: dict[str, object] = {"problem": kind, "n": n, "d": d, "lambda": lam,
                                     "batch_size": batch, "steps": steps, "L": lip,
                                     "quick": quick, "variant": variant}
        if variant == "reference":
            config |= {"mu": mu, "t0": t0, "lr_schedule": "1/(mu*(t+t0))"}
            schedule = lambda t: 1.0 / (mu * (t + t0))
        elif variant in ("chung", "chung_short", "far_start") or variant in MISLABELLED:
            config |= {"mu": mu, "lr_schedule": "1/(mu*t)", "optimizer": "SGD"}
            schedule = (lambda t: 0.05) if variant == "mislabelled_lr" else \
                (lambda t: 1.0 / (mu * t))
        elif variant == "constant_lr":
            eta = 0.5 / lip
            config |= {"mu": mu, "eta": eta, "lr_schedule": "eta"}
            schedule = lambda t: eta
        elif variant == "divergent":
            eta = 2.4 / lip
            config |= {"mu": mu, "eta": eta, "lr_schedule": "eta"}
            schedule = lambda t: eta
        else:
            config |= {"mu": 0.1}  # the (false) strong-convexity claim under test
            schedule = lambda t: 0.004
        opt: torch.optim.Optimizer = {
            "adam": lambda: torch.optim.Adam([theta], lr=schedule(1)),
            "momentum": lambda: torch.optim.SGD([theta], lr=schedule(1), momentum=0.9),
            "weight_decay": lambda: torch.optim.SGD([theta], lr=schedule(1), weight_decay=0.01),
        }.get(variant, lambda: torch.optim.SGD([theta], lr=schedule(1)))()
        clip = (lambda: torch.nn.utils.clip_grad_norm_([theta], 0.05)) \
            if variant == "clipping" else None
        every = max(1, steps // snapshots)
        gen = torch.Generator().manual_seed(seed)
        w_star = None
        if kind == "logistic":  # the regularised optimum, by full-batch Newton steps
            w_star = _logistic_optimum(x, y, lam)
        if kind == "quadratic":  # the ridge solution: (XᵀX/n + λI) w* = Xᵀy/n
            w_star = torch.linalg.solve(x.T @ x / n + lam * torch.eye(d, dtype=DTYPE),
                                        x.T @ y / n)
        with Tracker(root, [theta], opt, config=config, seed=seed, kind="sgd",
                     source=f"experiment:sgd_{problem}",
                     update_check_every=10 if variant in MISLABELLED else 100) as track:
            for t in range(1, steps + 1):
                if t % every == 0 or t == 1:
                    opt.zero_grad()
                    _loss(kind, theta, x, y, lam).backward()
                    track.snapshot(grad_kind="full")
                for group in opt.param_groups:
                    group["lr"] = schedule(t)
                idx = torch.randint(0, n, (batch,), generator=gen)
                train_step(opt, track, _loss(kind, theta, x[idx], y[idx], lam),
                           after_step=clip)
            if kind == "nonconvex":  # the minimiser of the double well the run settles in
                w_star = torch.where(theta.detach() >= 0, 1.0, -1.0).to(DTYPE)
            if w_star is not None:
                track.close(samples={"w_star": w_star.numpy()})
    return root


def _logistic_optimum(x: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """argmin of the L2-regularised logistic loss: Newton's method on the full batch (the
    objective is λ-strongly convex and smooth, so it converges to machine precision)."""
    w = torch.zeros(x.shape[1], dtype=DTYPE)
    eye = torch.eye(x.shape[1], dtype=DTYPE)
    for _ in range(50):
        p = torch.sigmoid(x @ w)
        grad = x.T @ (p - y) / x.shape[0] + lam * w
        hess = (x.T * (p * (1 - p))) @ x / x.shape[0] + lam * eye
        step = torch.linalg.solve(hess, grad)
        w = w - step
        if float(step.norm()) < 1e-14:
            break
    return w


def sgd_quadratic(out_dir: Path | str, seed: int = 0, quick: bool = False,
                  variant: str = "reference") -> Path:
    """Least squares with a ridge term (μ = λ_min(XᵀX/n) + λ)."""
    return run_sgd(out_dir, seed, quick, problem="quadratic", variant=variant)


def sgd_logistic(out_dir: Path | str, seed: int = 0, quick: bool = False,
                 variant: str = "reference") -> Path:
    """Logistic regression with an L2 term (μ = λ)."""
    return run_sgd(out_dir, seed, quick, problem="logistic", variant=variant)


def sgd_noise(out_dir: Path | str, seed: int = 0, quick: bool = False,
              variant: str = "gaussian") -> Path:
    """Least squares (d = 4, ridge 0.1) by mini-batch SGD with ηₜ = 1/(μ(t + t₀)), the labels'
    noise of the variant's law; 200 steps (quick) or 1,000, every step's ‖gₜ‖² logged."""
    check_variant(variant, NOISE_VARIANTS, "sgd_noise")
    root = fresh_dir(out_dir)
    n, d, lam, batch, steps = 512, 4, 0.1, 8, 200 if quick else 1000
    with seeded(seed):
        g = torch.Generator().manual_seed(1000)  # one problem; the seed draws the batches
        x = torch.randn(n, d, generator=g, dtype=DTYPE) * 0.5
        w_true = torch.randn(d, generator=g, dtype=DTYPE) * 0.5
        gen = torch.Generator().manual_seed(seed)
        if variant == "heavy":
            law = torch.distributions.StudentT(torch.tensor(1.5, dtype=DTYPE))
            noise = law.sample((n,)) * 0.5
        else:
            noise = torch.randn(n, generator=g, dtype=DTYPE) * 0.5
        y = x @ w_true + noise
        mu, lip = _curvature("quadratic", x, lam)
        t0 = lip / mu
        theta = torch.nn.Parameter(torch.zeros(d, dtype=DTYPE))
        opt = torch.optim.SGD([theta], lr=1.0 / (mu * (1 + t0)))
        config: dict[str, object] = {"problem": "quadratic", "n": n, "d": d, "lambda": lam,
                                     "batch_size": batch, "steps": steps, "mu": mu, "t0": t0,
                                     "lr_schedule": "1/(mu*(t+t0))", "variant": variant,
                                     "quick": quick}
        with Tracker(root, [theta], opt, config=config, seed=seed, kind="sgd",
                     source="experiment:sgd_noise", update_check_every=0) as track:
            for t in range(1, steps + 1):
                for group in opt.param_groups:
                    group["lr"] = 1.0 / (mu * (t + t0))
                if variant == "heavy":  # fresh heavy-tailed label noise for every draw
                    idx = torch.randint(0, n, (batch,), generator=gen)
                    yb = x[idx] @ w_true + law.sample((batch,)) * 0.5
                    xb = x[idx]
                else:
                    idx = torch.randint(0, n, (batch,), generator=gen)
                    xb, yb = x[idx], y[idx]
                    if variant == "spike" and t == 7:  # one corrupted batch, the same in
                        xb, yb = x[:batch] * SPIKE, y[:batch]  # every seed: wrong scale
                train_step(opt, track, _loss("quadratic", theta, xb, yb, lam))
    return root


__all__ = ["MISLABELLED", "NOISE_VARIANTS", "VARIANTS", "run_sgd", "sgd_logistic", "sgd_noise",
           "sgd_quadratic"]
