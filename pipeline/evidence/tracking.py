"""The tracking hook: two or three lines in any PyTorch training loop.

    from pipeline.tracking import Tracker

    with Tracker("runs/exp1", model, optimizer, config={"lr_schedule": "0.5/(mu*t)", "mu": 0.1},
                 seed=0, snapshot_every=100) as track:
        for x, y in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            track.step(loss)          # after backward(), before optimizer.step()
            optimizer.step()

Per step it records ``loss``, ``lr`` (of the first parameter group), ``grad_norm`` and
``grad_sq`` (the squared norm of the mini-batch gradient, a sample of its second moment),
plus any extra scalars passed as keywords. Every ``snapshot_every`` steps it saves the
flattened parameters and gradient.

Every ``update_check_every`` steps it also *probes the update*: it keeps the parameters, the
gradient it logged and the lr, and at the next step compares the update the optimiser made
with the plain SGD update −ηₜgₜ (samples ``update_probe_step``, ``update_residual`` =
‖Δw + ηₜgₜ‖/‖ηₜgₜ‖, ``update_rounding`` — what rounding in the parameters' precision alone
can leave —, and the optimiser as the tracker saw it: ``update_plain_sgd`` — 1 for
``torch.optim.SGD`` without Nesterov —, ``update_momentum`` (SGD's momentum, Adam's β₁) and
``update_weight_decay``; the optimiser's class in the provenance notes). Adam, momentum,
weight decay and clipping after the hook all show there, whatever the config declares.

A step gathers the loss and the squared gradient norm as cheaply as the device allows
(:mod:`pipeline.evidence.step_buffer`: no host synchronisation on an accelerator, nothing that
outlives the step); every ``flush_every`` steps the pending rows are appended to
``metrics.jsonl``.
"""

from __future__ import annotations

import json
import math
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import numpy as np
import torch

from pipeline.errors import EvidenceError, InputError
from pipeline.evidence import runs
from pipeline.evidence.models import Provenance, Run, Snapshot
from pipeline.evidence.projection import Projection, project
from pipeline.evidence.step_buffer import StepBuffer


class Tracker:
    """Owns one run directory while a training loop writes to it."""

    def __init__(
        self,
        run_dir: Path | str,
        model: torch.nn.Module | Iterable[torch.nn.Parameter],
        optimizer: torch.optim.Optimizer | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        seed: int | None = None,
        kind: str = "training",
        run_id: str | None = None,
        snapshot_every: int = 0,
        flush_every: int = 256,
        source: str = "tracking",
        snapshot_projection: Projection | None = None,
        update_check_every: int = 100,
    ) -> None:
        """``snapshot_projection`` reduces each snapshot to ``dim`` numbers (a seeded
        CountSketch or coordinate subset, :mod:`pipeline.evidence.projection`), recorded in
        ``config["snapshot_projection"]``: bounded memory and disk for large models."""
        if snapshot_every < 0 or flush_every < 1 or update_check_every < 0:
            raise InputError("snapshot_every and update_check_every must be >= 0 and "
                             "flush_every >= 1")
        self.root = Path(run_dir)
        self._params = [
            p for p in (model.parameters() if isinstance(model, torch.nn.Module) else model)
            if p.requires_grad
        ]
        self._optimizer = optimizer
        self._projection = snapshot_projection
        if snapshot_projection is not None:
            config = {**(config or {}), "snapshot_projection": snapshot_projection.model_dump()
                      | {"parameters": sum(p.numel() for p in self._params)}}
        self._snapshot_every = snapshot_every
        self._update_every = update_check_every
        self._probe: tuple[int, list[torch.Tensor], list[torch.Tensor]] | None = None
        self._probes: dict[str, list[float]] = {k: [] for k in PROBE_COLUMNS}
        self._flush_every = flush_every
        self._step = 0
        self._closed = False
        self._stats = StepBuffer(self._params, flush_every)
        self._pending = 0  # steps recorded since the last flush
        self._lr: list[float] = []
        self._extra: list[dict[str, Any]] = []
        # flushed values per column; the hook's own columns first, keyword scalars as they come
        self._chunks: dict[str, list[np.ndarray]] = {
            k: [np.empty(0)] for k in ("step", "loss", "lr", "grad_norm", "grad_sq")}
        self._flushed = 0
        self._run = Run(
            id=run_id or runs.new_run_id(),
            kind=kind,
            config=_jsonable_config(config or {}),
            seed=seed,
            provenance=_provenance(source, optimizer),
            path=self.root,
        )
        self._create_run_directory()

    def _create_run_directory(self) -> None:
        """A new run directory with an empty metrics log and the run marked running."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if (self.root / runs.META).exists():
                raise InputError(f"{self.root} already holds a run; choose a new directory")
            (self.root / runs.METRICS_JSONL).write_text("", encoding="utf-8")
            runs.write_meta(self.root, runs.metadata(self._run) | {"status": "running"})
        except OSError as exc:
            raise EvidenceError(f"cannot create run directory {self.root}: {exc}") from exc

    # ---------------------------------------------------------------- the per-step hook
    def step(self, loss: torch.Tensor | float | None = None, **scalars: torch.Tensor | float) -> None:
        """Record one optimisation step. Call after ``backward()``, before ``optimizer.step()``."""
        if self._closed:
            raise EvidenceError("Tracker.step() after close()")
        if isinstance(loss, torch.Tensor) and loss.dim() != 0:
            if loss.numel() != 1:
                raise InputError(f"Tracker.step(loss): loss must be a scalar, got shape "
                                 f"{tuple(loss.shape)}")
            loss = loss.reshape(())
        if self._probe is not None:
            self._finish_probe()
        any_grad = self._stats.record(loss)
        self._pending += 1
        lr = self._current_lr()
        self._lr.append(lr)
        if self._update_every and (self._step + 1) % self._update_every == 0 and any_grad \
                and self._optimizer is not None:
            self._start_probe()
        if scalars or self._extra:
            self._extra.append({k: v.detach() if isinstance(v, torch.Tensor) else v
                                for k, v in scalars.items()})
        self._step += 1
        if self._snapshot_every and self._step % self._snapshot_every == 0:
            self.snapshot(grad_kind="minibatch" if any_grad else "none")
        if self._pending == self._flush_every:
            self.flush()

    def snapshot(self, *, grad_kind: Literal["minibatch", "full", "none"] = "minibatch") -> None:
        """Save the flattened parameters and their current ``.grad`` at this step.

        Pass ``grad_kind="full"`` when the ``.grad`` fields hold a full-batch gradient.
        """
        if self._projection is not None:
            self._write_snapshot(*self._projected(grad_kind), grad_kind)
            return
        with torch.no_grad():
            params = torch.cat([p.detach().reshape(-1) for p in self._params]).double().cpu()
            grad = None
            if grad_kind != "none":
                grad = torch.cat([
                    (p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1)
                    for p in self._params
                ]).double().cpu().numpy()
        self._write_snapshot(params.numpy(), grad, grad_kind)

    def _projected(self, grad_kind: str) -> tuple[np.ndarray, np.ndarray | None]:
        if self._projection is None:
            raise EvidenceError("Tracker._projected() needs a projection (Tracker(project=...))")
        shapes = [p.shape for p in self._params]
        with torch.no_grad():
            params = project(self._params, shapes, self._projection)
            grad = None if grad_kind == "none" else project(
                [p.grad for p in self._params], shapes, self._projection)
        return params, grad

    def _write_snapshot(self, params: np.ndarray, grad: np.ndarray | None,
                        grad_kind: Literal["minibatch", "full", "none"]) -> None:
        snap = Snapshot(step=self._step, params=params, grad=grad,
                        grad_kind=grad_kind if grad is not None else "none")
        try:
            runs.write_snapshot(self.root / runs.SNAPSHOTS, snap)
        except OSError as exc:
            raise EvidenceError(f"cannot write snapshot in {self.root}: {exc}") from exc

    @property
    def steps(self) -> int:
        return self._step

    # ---------------------------------------------------------------- the update probe
    def _start_probe(self) -> None:
        """Keep wₜ, the gradient the hook logged and each parameter's ηₜ (its group's lr), to
        compare with wₜ₊₁ next step."""
        group_lr: dict[int, float] = {}
        for group in self._optimizer.param_groups if self._optimizer is not None else ():
            lr = group.get("lr", math.nan)
            for p in group["params"]:
                group_lr[id(p)] = float(lr.item() if isinstance(lr, torch.Tensor) else lr)
        with torch.no_grad():
            params = [p.detach().clone() for p in self._params]
            grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).detach().clone()
                     * group_lr.get(id(p), math.nan) for p in self._params]
        self._probe = (self._step + 1, params, grads)

    def _finish_probe(self) -> None:
        """‖Δw + ηₜgₜ‖/‖ηₜgₜ‖ for the probed step, and the optimiser's settings then."""
        if self._probe is None:
            return
        step, params, steps = self._probe  # steps: ηₜgₜ per parameter
        self._probe = None
        with torch.no_grad():
            diff = sum(float(torch.sum(((p.detach().double() - w.double()) + g.double()) ** 2))
                       for p, w, g in zip(self._params, params, steps, strict=True))
            size = sum(float(torch.sum(g.double() ** 2)) for g in steps)
            # what rounding alone can leave: the update is made in the parameters' precision
            ulp = sum((torch.finfo(p.dtype).eps if p.is_floating_point() else 0.0) ** 2
                      * float(torch.sum(p.detach().double() ** 2)) for p in self._params)
        residual = math.sqrt(diff) / math.sqrt(size) if size > 0 else math.nan
        rounding = 4 * math.sqrt(ulp) / math.sqrt(size) if size > 0 else math.nan
        opt = self._optimizer
        groups = opt.param_groups if opt is not None else []

        def largest(key: str) -> float:  # over the parameter groups; Adam's β₁ is a momentum
            values = [g.get(key, (g.get("betas") or (0.0,))[0] if key == "momentum" else 0.0)
                      for g in groups]
            return max((float(v or 0.0) for v in values), default=0.0)

        plain = type(opt) is torch.optim.SGD and not any(g.get("nesterov") for g in groups)
        row = {"update_probe_step": float(step), "update_residual": residual,
               "update_rounding": rounding,
               "update_plain_sgd": 1.0 if plain else 0.0,
               "update_momentum": largest("momentum"),
               "update_weight_decay": largest("weight_decay")}
        for key, value in row.items():
            self._probes[key].append(value)

    # ---------------------------------------------------------------- flushing and closing
    def flush(self) -> None:
        """Copy pending rows to the host and append them to ``metrics.jsonl``."""
        n = self._pending
        if n == 0:
            return
        loss, grad_sq = self._stats.take()  # NaN where a step had no gradient
        new: dict[str, np.ndarray] = {
            "step": np.arange(self._flushed + 1, self._flushed + n + 1, dtype=np.float64),
            "loss": loss,
            "lr": np.asarray(self._lr, dtype=np.float64),
            "grad_norm": np.sqrt(grad_sq),
            "grad_sq": grad_sq,
        }
        if self._extra:
            pad: list[dict[str, Any]] = [{}] * (n - len(self._extra))
            extra = pad + self._extra
            for key in dict.fromkeys(k for e in extra for k in e):
                new[key] = np.asarray(_to_floats([e.get(key, float("nan")) for e in extra]),
                                      dtype=np.float64)
        try:  # append and close at every flush: a killed loop leaves whole lines behind
            with (self.root / runs.METRICS_JSONL).open("a", encoding="utf-8") as fh:
                fh.write(runs.jsonl_lines(new))
        except OSError as exc:
            raise EvidenceError(f"cannot write {self.root / runs.METRICS_JSONL}: {exc}") from exc
        for key in [*self._chunks, *(k for k in new if k not in self._chunks)]:
            chunks = self._chunks.setdefault(key, [np.full(self._flushed, np.nan)])
            chunks.append(new.get(key, np.full(n, np.nan)))
        self._flushed += n
        self._pending = 0
        self._lr, self._extra = [], []

    def close(self, *, samples: Mapping[str, Any] | None = None) -> Run:
        """Flush, write ``metrics.npz`` (and ``samples.npz``) and finalise ``run.json``."""
        if self._closed:
            return self._run
        self._finish_probe()
        if self._probes["update_probe_step"]:
            samples = {**self._probes, **(samples or {})}
        self.flush()
        self._closed = True
        metrics = {k: np.concatenate(chunks) for k, chunks in self._chunks.items()}
        run = self._run.model_copy(update={"metrics": _columns(metrics, equal=True)})
        if samples:
            run = run.model_copy(update={"samples": _columns(dict(samples), equal=False)})
        try:
            runs.write_columns_npz(self.root / runs.METRICS_NPZ, run.metrics)
            if samples:
                runs.write_columns_npz(self.root / runs.SAMPLES_NPZ, run.samples)
            runs.write_meta(self.root, runs.metadata(run) | {"status": "closed"})
        except OSError as exc:
            raise EvidenceError(f"cannot finalise run directory {self.root}: {exc}") from exc
        self._run = run
        return run

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _current_lr(self) -> float:
        if self._optimizer is None or not self._optimizer.param_groups:
            return float("nan")
        lr = self._optimizer.param_groups[0].get("lr", float("nan"))
        return float(lr.item() if isinstance(lr, torch.Tensor) else lr)


def _columns(data: Mapping[str, Any], *, equal: bool) -> Any:
    from pipeline.evidence.models import Columns

    try:
        return Columns(data, equal_length=equal)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _to_floats(values: list[torch.Tensor | float]) -> list[float]:
    tensors = [i for i, v in enumerate(values) if isinstance(v, torch.Tensor)]
    out = [float(v) if not isinstance(v, torch.Tensor) else 0.0 for v in values]
    if tensors:
        stacked = torch.stack([values[i].reshape(()).float()  # type: ignore[union-attr]
                               for i in tensors]).double().cpu().tolist()
        for i, v in zip(tensors, stacked, strict=True):
            out[i] = v
    return out


def _jsonable_config(config: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(dict(config), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise InputError(f"run config must be plain JSON (numbers, strings, lists): {exc}") from exc


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _provenance(source: str, optimizer: torch.optim.Optimizer | None) -> Provenance:
    kind = type(optimizer)
    return Provenance(
        notes=(f"optimizer: {kind.__module__}.{kind.__qualname__} (seen by the tracker)",)
        if optimizer is not None else (),
        source=source,
        created_at=datetime.now(UTC),
        host=socket.gethostname(),
        python=platform.python_version(),
        torch=torch.__version__,
        git_commit=_git_commit(),
        argv=tuple(sys.argv),
    )


PROBE_COLUMNS = ("update_probe_step", "update_residual", "update_rounding", "update_plain_sgd",
                 "update_momentum", "update_weight_decay")
"""The samples of the update probe (see the module docstring)."""

__all__ = ["PROBE_COLUMNS", "Tracker"]
