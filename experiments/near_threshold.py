"""Near-threshold controls: for every check, a positive control just inside the claim's
threshold and a negative control just outside it — the right shape with the wrong constant
(ηₜ = c/t with c ≠ 1/λ, a liar who wins 13 % against ε = 10 %); for a ∀ statement the
nearest negative is one counterexample among many items (one wrong leaf among 2,000). Synthetic numpy runs with a seed, so a benchmark can repeat them over many seeds
(``benchmarks/bench_false_rates.py``) and a test can pin a few.

``NEAR[check] = NearPair(positive, negative)``; each side is ``fn(seed) -> (Run, Bound)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.evidence.checks import Bound
from pipeline.evidence.models import Provenance, Run, Snapshot

P = "pipeline.evidence.checks."
Maker = Callable[[int], tuple[Run, Bound]]


@dataclass(frozen=True)
class NearPair:
    check: str
    positive: Maker
    negative: Maker
    what: str
    """The two settings, for people."""


def _run(seed: int, **fields: object) -> Run:
    return Run(id=f"near-{seed}", kind="near-threshold", seed=seed,
               provenance=Provenance(source="near-threshold control"), **fields)  # type: ignore[arg-type]


def _rate(column: str, p: float, n: int, bound: Bound) -> Maker:
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        return _run(seed, samples={column: (rng.random(n) < p).astype(float)}), bound
    return make


def _items(column: str, good: float, n: int, broken: bool) -> Maker:
    """``n`` items of a ∀ statement, all ``good`` (1: a correct leaf; 0: no liar win), or
    with one counterexample at a random position — the nearest negative a ∀ has."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        values = np.full(n, good)
        if broken:
            values[int(rng.integers(n))] = 1.0 - good
        return _run(seed, samples={column: values}), Bound()
    return make


def _agreed(broken: bool) -> Maker:
    """8,000 steps, 80 % answered alone; all agreed answers right, or one wrong."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        agree = (rng.random(8000) < 0.8).astype(float)
        correct = np.ones(8000)
        if broken:
            correct[int(rng.choice(np.flatnonzero(agree == 1.0)))] = 0.0
        return _run(seed, metrics={"agree": agree, "correct": correct}), Bound()
    return make


def _queries_count(queries: int) -> Maker:
    """A stream of 5,000 steps over |H| = 64 candidates with ``queries`` queries at random
    steps (the version space logged from 64 down)."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        queried = np.zeros(5000)
        queried[rng.choice(5000, queries, replace=False)] = 1.0
        space = np.maximum(1.0, 64.0 - np.concatenate([[0.0], np.cumsum(queried)[:-1]]))
        return _run(seed, metrics={"queried": queried, "version_space": space,
                                   "agree": 1 - queried, "correct": np.ones(5000)}), Bound()
    return make


def _trials(n: int) -> Maker:
    """``n`` logged trials (rate 1 %) against j·m = 3 · 1,000."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        return (_run(seed, samples={"failure": (rng.random(n) < 0.01).astype(float)}),
                Bound(parameters={"m": 1000.0, "j": 3.0}))
    return make


def _blocks(clustered: bool) -> Maker:
    """8,000 trials against m = 20, j = 3. Independent at the rate 1.3/m (a block passes
    with probability 0.935²⁰ = 0.26 ≤ 1/2), or the same number of failures packed into the
    first 10 % of the trials (rate ≥ 1/m, but 90 % of the blocks pass: not independent)."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        fail = (rng.random(8000) < 1.3 / 20).astype(float)
        if clustered:
            k = int(fail.sum())
            fail = np.zeros(8000)
            fail[rng.choice(800, min(k, 800), replace=False)] = 1.0
        return _run(seed, samples={"failure": fail}), Bound(parameters={"m": 20.0, "j": 3.0})
    return make


def _dishonest(p: float) -> Maker:
    """2,000 answers, dishonest with probability ``p``, against (q + ε)/(1 − q) = 0.105."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        return (_run(seed, samples={"dishonest_answer": (rng.random(2000) < p).astype(float)}),
                Bound(parameters={"q": 0.05, "ε": 0.05}))
    return make


def _roots(broken: bool) -> Maker:
    """1,000 arguments whose root errors are uniform in [0, δ] (δ = 0.05), or one of them
    1.1·δ."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        exact = rng.random(1000)
        err = rng.uniform(-0.05, 0.05, 1000)
        if broken:
            err[int(rng.integers(1000))] = 0.055
        return (_run(seed, samples={"root_exact": exact, "root_estimate": exact + err}),
                Bound(parameters={"δ": 0.05}))
    return make


def _step(off: float) -> Maker:
    """ηₜ = 1/(λt), λ = 0.5, computed and logged in float32 for 5,000 steps, with one step
    (not the last) multiplied by 1 + ``off``; the check's own tolerance (float rounding,
    2⁻²¹ ≈ 4.8·10⁻⁷)."""
    def make(seed: int) -> tuple[Run, Bound]:
        t = np.arange(1, 5001, dtype=np.float32)
        lr = (np.float32(1) / (np.float32(0.5) * t)).astype(np.float64)
        lr[int(np.random.default_rng(seed).integers(0, 4999))] *= 1 + off
        return (_run(seed, metrics={"step": t.astype(np.float64) - 1, "lr": lr}),
                Bound(parameters={"lam": 0.5}))
    return make


def _convexity(lam: float) -> Maker:
    """Noisy gradient descent on ½wᵀHw, H = diag(0.5, 1, 2): the ratio towards w* = 0 tends
    to 0.5 as the iterate aligns with the flattest direction."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        h = np.diag([0.5, 1.0, 2.0])
        w = rng.normal(size=3) * 3
        snaps = []
        for i in range(60):
            snaps.append(Snapshot(step=i * 10, params=w.copy(), grad=h @ w, grad_kind="full"))
            w = w - 0.2 * (h @ w) + rng.normal(0, 0.01, 3)
        return (_run(seed, snapshots=tuple(snaps), samples={"w_star": np.zeros(3)}),
                Bound(parameters={"lam": lam}))
    return make


def second_moment_group(seed: int, mean: np.ndarray, seeds: int = 40, dof: int = 32,
                        heavy: float | None = None) -> Run:
    """A run group of ``seeds`` seeds whose ‖gₜ‖² at step t has mean ``mean[t]``: the mean
    times χ²(dof)/dof (the squared norm of a dof-dimensional Gaussian gradient), or, with
    ``heavy``, a sum of squared Student-t draws with that many degrees of freedom (heavy
    tails; infinite variance of the gradient for ``heavy`` ≤ 2)."""
    from pipeline.evidence.groups import pool_runs

    rng = np.random.default_rng(seed)
    if heavy is None:
        draws = rng.chisquare(dof, (seeds, mean.shape[0])) / dof * mean
    else:
        draws = (rng.standard_t(heavy, (seeds, mean.shape[0], 4)) ** 2).sum(-1) / 4 * mean
    members = [Run(id=f"near-{seed}-{k}", kind="near-threshold", seed=k,
                   provenance=Provenance(source="near-threshold control"),
                   metrics={"step": np.arange(mean.shape[0], dtype=float), "grad_sq": row})
               for k, row in enumerate(draws)]
    return pool_runs(members, group_id=f"near-group-{seed}")


def _second_moment(g2_bound: float) -> Maker:
    """E‖gₜ‖² = 2 at each of 50 steps, 40 seeds; the claim's G² a constant."""
    def make(seed: int) -> tuple[Run, Bound]:
        return (second_moment_group(seed, np.full(50, 2.0)),
                Bound(parameters={"G2": g2_bound}, provenance={"G2": "claim"}))
    return make


def _failures(rho: float) -> Maker:
    """0/1 failures from a thresholded AR(1) latent with lag-1 correlation ``rho``."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        n = 5000
        z = np.empty(n)
        z[0] = rng.normal()
        eps = rng.normal(size=n) * np.sqrt(1 - rho**2)
        for i in range(1, n):
            z[i] = rho * z[i - 1] + eps[i]
        return _run(seed, samples={"failure": (z > 1.0).astype(float)}), Bound()
    return make


def _shift(delta: float) -> Maker:
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        return (_run(seed, samples={"certification": rng.normal(size=3000),
                                    "deployment": rng.normal(delta, 1.0, 3000)}), Bound())
    return make


def _queries(alpha: float) -> Maker:
    """Help queries with Q(T) ≈ 2,000·(T/20,000)^α over 20,000 steps (per-step 0/1)."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        t = np.arange(1, 20_001, dtype=float)
        a = 2000 / 20_000**alpha
        p = np.minimum(1.0, a * alpha * t ** (alpha - 1))
        return _run(seed, metrics={"queried": (rng.random(t.shape[0]) < p).astype(float)}), Bound()
    return make


def _coverage(shift: float) -> Maker:
    """Split conformal with α = 0.1: 5,000 calibration scores N(0, 1), 5,000 test scores
    N(shift, 1); true coverage Φ(1.2816 − shift) (0.93 at −0.194, 0.87 at +0.155)."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        return (_run(seed, samples={"calibration_scores": rng.normal(size=5000),
                                    "test_scores": rng.normal(shift, 1.0, 5000)}),
                Bound(parameters={"α": 0.1}))
    return make


def _drift(size: float) -> Maker:
    """Calibration and test scores N(0, 1); the test scores drift by ``size`` σ over time."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        test = rng.normal(size=3000) + size * np.linspace(0.0, 1.0, 3000)
        return (_run(seed, samples={"calibration_scores": rng.normal(size=3000),
                                    "test_scores": test}), Bound())
    return make


def _distance(c: float) -> Maker:
    """A group of 20 seeds whose ‖wₜ − w*‖² averages c·4G²/(λ²t) (λ = 0.5, G² = 1), each
    draw the bound times a Gamma(20)/20 factor, snapshots at 20 steps."""
    def make(seed: int) -> tuple[Run, Bound]:
        from pipeline.evidence.groups import pool_runs

        rng = np.random.default_rng(seed)
        steps = np.arange(0, 200, 10)
        members = []
        for k in range(20):
            e = c * 16.0 / (steps + 1.0) * rng.gamma(20.0, 1 / 20, steps.shape[0])
            snaps = tuple(Snapshot(step=int(s), params=np.array([np.sqrt(v)]))
                          for s, v in zip(steps, e, strict=True))
            members.append(Run(id=f"near-{seed}-{k}", kind="near-threshold", seed=k,
                               provenance=Provenance(source="near-threshold control"),
                               snapshots=snaps, samples={"w_star": np.zeros(1)}))
        return (pool_runs(members, group_id=f"near-group-{seed}"),
                Bound(parameters={"lam": 0.5, "G2": 1.0}))
    return make


def _decay(p: float) -> Maker:
    """A logged step size ηₜ = 0.5·t^(−p) over 5,000 steps (Robbins–Monro: 1/2 < p ≤ 1)."""
    def make(seed: int) -> tuple[Run, Bound]:
        t = np.arange(1, 5001, dtype=float)
        return _run(seed, metrics={"step": t - 1, "lr": 0.5 * t**-p}), Bound()
    return make


def _transcripts(broken: str) -> Maker:
    """2,000 debates of 8 alternating moves (claimant at ∃ first); ``broken``: ``"move"`` puts
    one ∀-node where an ∃-node is due in one random debate, ``"depth"`` makes one random
    debate one move longer than d = 8."""
    def make(seed: int) -> tuple[Run, Bound]:
        rng = np.random.default_rng(seed)
        debates = [[(i, int(i % 2 == 0), int(i % 2 == 0)) for i in range(8)]
                   for _ in range(2000)]
        k = int(rng.integers(2000))
        if broken == "move":
            i = 2 * int(rng.integers(4))
            debates[k][i] = (i, 0, 0)
        elif broken == "depth":
            debates[k].append((8, 1, 1))
        rows = np.array([m for d in debates for m in d], dtype=float)
        return (_run(seed, samples={"move_index": rows[:, 0], "move_exists": rows[:, 1],
                                    "move_claimant": rows[:, 2]}),
                Bound(parameters={"d": 8.0}))
    return make


NEAR: dict[str, NearPair] = {pair.check: pair for pair in (
    NearPair(P + "sgd:step_size_exact", _step(0.0), _step(1e-6),
             "ηₜ = 1/(λt) in float32 vs one step 10⁻⁶ off (tolerance: rounding, 4.8·10⁻⁷)"),
    NearPair(P + "sgd:strong_convexity", _convexity(0.45), _convexity(0.55),
             "curvature towards w* tends to 0.5; claimed λ = 0.45 vs 0.55"),
    NearPair(P + "sgd:bounded_second_moment", _second_moment(2.6), _second_moment(1.8),
             "E‖gₜ‖² = 2 at each of 50 steps, 40 seeds; G² = 2.6 vs 1.8"),
    NearPair(P + "debate:judge_leaf_accuracy", _items("leaf_correct", 1.0, 2000, False),
             _items("leaf_correct", 1.0, 2000, True),
             "∀ leaves: 2,000 leaves judged right vs one of them wrong"),
    NearPair(P + "debate:exploitability",
             _rate("liar_win", 0.07, 2000, Bound(parameters={"ε": 0.1})),
             _rate("liar_win", 0.13, 2000, Bound(parameters={"ε": 0.1})),
             "liar win rate 7 % vs 13 % against ε = 10 % (2,000 debates)"),
    NearPair(P + "debate:honest_win_rate",
             _rate("honest_win", 0.55, 2000, Bound(parameters={"q": 0.5})),
             _rate("honest_win", 0.46, 2000, Bound(parameters={"q": 0.5})),
             "honest win rate 55 % vs 46 % against 1 − q = 50 %"),
    NearPair(P + "debate:honest_always_wins", _items("liar_win", 0.0, 2000, False),
             _items("liar_win", 0.0, 2000, True),
             "∀ opponents: no liar win in 2,000 debates vs one"),
    NearPair(P + "debate:dishonesty_rate", _dishonest(0.07), _dishonest(0.14),
             "dishonest answers 7 % vs 14 % against (q + ε)/(1 − q) = 0.105"),
    NearPair(P + "certificate:failure_independence", _failures(0.0), _failures(0.5),
             "independent failures vs a latent AR(1) with ρ = 0.5 (failure lag-1 ≈ 0.2)"),
    NearPair(P + "certificate:same_distribution", _shift(0.0), _shift(0.4),
             "deployment shifted by 0 vs 0.4 σ (KS ≈ 0.16, tolerance 0.1)"),
    *(NearPair(P + check, positive, negative, what) for check, positive, negative, what in (
        ("debate:alternating_moves", _transcripts(""), _transcripts("move"),
         "2,000 alternating debates vs one ∀-node where an ∃-node is due in one of them"),
        ("debate:depth_bound", _transcripts(""), _transcripts("depth"),
         "2,000 debates of d = 8 moves vs one of them d + 1 moves long"),
        ("ensemble:agreement_implies_correct", _agreed(False), _agreed(True),
         "∀ agreed answers: ~6,400 right vs one of them wrong"),
        ("ensemble:query_count", _queries_count(63), _queries_count(64),
         "|H| = 64: 63 queries vs 64"),
        ("certificate:trial_count", _trials(3000), _trials(2999),
         "3,000 vs 2,999 trials against j·m = 3,000"),
        ("certificate:block_pass_rate", _blocks(False), _blocks(True),
         "m = 20: independent failures at rate 1.3/m vs the same failures packed together"),
        ("composition:root_error", _roots(False), _roots(True),
         "1,000 root errors within δ vs one at 1.1·δ"),
        ("ensemble:query_rate_sublinear", _queries(0.8), _queries(1.0),
         "queries Q(T) ~ T^0.8 vs T^1 (linear: not o(T))"),
        ("conformal:coverage", _coverage(-0.194), _coverage(0.155),
         "coverage 93 % vs 87 % against 1 − α = 90 %"),
        ("conformal:exchangeability", _drift(0.0), _drift(0.3),
         "test scores without vs with a drift of 0.3 σ over the test set"),
        ("sgd:distance_rate", _distance(0.7), _distance(1.15),
         "20 seeds, mean ‖wₜ − w*‖² at 0.7× vs 1.15× the bound 4G²/(λ²t)"),
        ("sgd:step_size_schedule", _decay(0.98), _decay(1.03),
         "ηₜ ∝ t^(−p), p = 0.98 vs 1.03 (Robbins–Monro p ≤ 1, tolerance 0.02)"),
    )),
)}


__all__ = ["NEAR", "NearPair"]
