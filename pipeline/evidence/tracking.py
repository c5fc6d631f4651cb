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
flattened parameters and gradient. Values stay on the device as 0-d tensors until a flush
(every ``flush_every`` steps), so a step costs one fused norm and no host synchronisation.
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
    ) -> None:
        if snapshot_every < 0 or flush_every < 1:
            raise InputError("snapshot_every must be >= 0 and flush_every >= 1")
        self.root = Path(run_dir)
        self._params = [
            p for p in (model.parameters() if isinstance(model, torch.nn.Module) else model)
            if p.requires_grad
        ]
        self._optimizer = optimizer
        self._snapshot_every = snapshot_every
        self._flush_every = flush_every
        self._step = 0
        self._closed = False
        # pending (not yet converted) per-step values
        self._loss: list[torch.Tensor | float] = []
        self._norm: list[list[torch.Tensor] | float] = []
        self._lr: list[float] = []
        self._extra: list[dict[str, Any]] = []
        self._columns: dict[str, list[float]] = {"step": [], "loss": [], "lr": [],
                                                 "grad_norm": [], "grad_sq": []}
        self._run = Run(
            id=run_id or runs.new_run_id(),
            kind=kind,
            config=_jsonable_config(config or {}),
            seed=seed,
            provenance=_provenance(source),
            path=self.root,
        )
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
        grads = [p.grad for p in self._params if p.grad is not None]
        # per-parameter norms, combined at flush time (one fused kernel per step)
        self._norm.append(list(torch._foreach_norm(grads)) if grads else float("nan"))
        self._loss.append(loss.detach() if isinstance(loss, torch.Tensor)
                          else float("nan") if loss is None else float(loss))
        self._lr.append(self._current_lr())
        if scalars or self._extra:
            self._extra.append({k: v.detach() if isinstance(v, torch.Tensor) else v
                                for k, v in scalars.items()})
        self._step += 1
        if self._snapshot_every and self._step % self._snapshot_every == 0:
            self.snapshot(grad_kind="minibatch" if grads else "none")
        if len(self._loss) >= self._flush_every:
            self.flush()

    def snapshot(self, *, grad_kind: Literal["minibatch", "full", "none"] = "minibatch") -> None:
        """Save the flattened parameters and their current ``.grad`` at this step.

        Pass ``grad_kind="full"`` when the ``.grad`` fields hold a full-batch gradient.
        """
        with torch.no_grad():
            params = torch.cat([p.detach().reshape(-1) for p in self._params]).double().cpu()
            grad = None
            if grad_kind != "none":
                grad = torch.cat([
                    (p.grad if p.grad is not None else torch.zeros_like(p)).detach().reshape(-1)
                    for p in self._params
                ]).double().cpu().numpy()
        snap = Snapshot(step=self._step, params=params.numpy(), grad=grad,
                        grad_kind=grad_kind if grad is not None else "none")
        try:
            runs.write_snapshot(self.root / runs.SNAPSHOTS, snap)
        except OSError as exc:
            raise EvidenceError(f"cannot write snapshot in {self.root}: {exc}") from exc

    @property
    def steps(self) -> int:
        return self._step

    # ---------------------------------------------------------------- flushing and closing
    def flush(self) -> None:
        """Convert pending values and append them to ``metrics.jsonl``."""
        n = len(self._loss)
        if n == 0:
            return
        loss = _to_floats(self._loss)
        norm = _total_norms(self._norm)
        cols = self._columns
        start = self._step - n
        new: dict[str, list[float]] = {
            "step": [start + i + 1 for i in range(n)],
            "loss": loss,
            "lr": self._lr,
            "grad_norm": norm,
            "grad_sq": [v * v for v in norm],
        }
        if self._extra:
            pad: list[dict[str, Any]] = [{}] * (n - len(self._extra))
            extra = pad + self._extra
            for key in dict.fromkeys(k for e in extra for k in e):
                values = _to_floats([e.get(key, float("nan")) for e in extra])
                if key not in cols:
                    cols[key] = [float("nan")] * len(cols["step"])
                new[key] = values
        for key in cols:
            cols[key].extend(new.get(key, [float("nan")] * n))
        names = [k for k in cols if k in new]
        keys = [json.dumps(k).replace("{", "{{").replace("}", "}}") for k in names]
        template = "{{" + ", ".join(f"{k}: {{}}" for k in keys) + "}}"
        columns = [new[k] for k in names]
        lines = [template.format(*(_json(c[i]) for c in columns)) for i in range(n)]
        try:  # append and close at every flush: a killed loop leaves whole lines behind
            with (self.root / runs.METRICS_JSONL).open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        except OSError as exc:
            raise EvidenceError(f"cannot write {self.root / runs.METRICS_JSONL}: {exc}") from exc
        self._loss, self._norm, self._lr, self._extra = [], [], [], []

    def close(self, *, samples: Mapping[str, Any] | None = None) -> Run:
        """Flush, write ``metrics.npz`` (and ``samples.npz``) and finalise ``run.json``."""
        if self._closed:
            return self._run
        self.flush()
        self._closed = True
        metrics = {k: np.asarray(v, dtype=np.float64) for k, v in self._columns.items()}
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


def _json(v: float) -> str:
    """A JSON number; JSON has no NaN/inf, so they are written as null (read back as NaN)."""
    if isinstance(v, int):
        return str(v)
    return repr(v) if math.isfinite(v) else "null"


def _total_norms(entries: list[list[torch.Tensor] | float]) -> list[float]:
    """Global L2 norms from per-parameter norms, one ``torch.stack`` for the whole flush."""
    flat = [t for e in entries if isinstance(e, list) for t in e]
    if not flat:
        return [float("nan")] * len(entries)
    squares = (torch.stack(flat).double() ** 2).cpu().numpy()
    counts = [len(e) for e in entries if isinstance(e, list)]
    sums = np.add.reduceat(squares, np.cumsum([0, *counts[:-1]]))
    it = iter(np.sqrt(sums).tolist())
    return [next(it) if isinstance(e, list) else float("nan") for e in entries]


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


def _provenance(source: str) -> Provenance:
    return Provenance(
        source=source,
        created_at=datetime.now(UTC),
        host=socket.gethostname(),
        python=platform.python_version(),
        torch=torch.__version__,
        git_commit=_git_commit(),
        argv=tuple(sys.argv),
    )


__all__ = ["Tracker"]
