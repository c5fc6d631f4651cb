"""Wire models of the empirical side: runs, check outcomes and hypothesis verdicts.

A :class:`Run` holds columnar per-step metrics (:class:`Columns`, numpy arrays so that a
run of 10⁶ steps is checked in well under a second), named 1-D samples of any length
(evaluation outcomes, scores), optional parameter snapshots, the config, the seed and
where the run came from.

A check returns a :class:`CheckOutcome`; :func:`pipeline.evidence.evaluate.check_run` turns
it into a :class:`HypothesisVerdict` bound to a claim, a binder and a run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    PlainValidator,
    field_validator,
)
from pydantic_core import core_schema

from pipeline.models import Frozen

FloatArray = NDArray[np.float64]
Outcome = Literal["holds", "fails", "inconclusive", "error"]
"""``error``: the check crashed — a defect of the check, shown as such, never a verdict on
the data (unlike ``inconclusive``, which says the data cannot decide)."""
Scalar = float | int | str | bool | None


def _to_array(value: Any) -> FloatArray:
    try:
        arr = np.array(value, dtype=np.float64, copy=True).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"expected a sequence of numbers: {exc}") from exc
    arr.flags.writeable = False
    return arr


Array = Annotated[
    Any, PlainValidator(_to_array), PlainSerializer(lambda a: a.tolist(), when_used="always")
]
"""A read-only 1-D float64 array in a pydantic model."""


class Columns(Mapping[str, FloatArray]):
    """Named float64 columns of equal length (metrics) or of any length (samples).

    Read-only: the arrays are flagged non-writeable so that a check cannot alter a run.
    Validates from a mapping of sequences; serialises to a mapping of lists (NaN → None).
    """

    __slots__ = ("_data", "_equal_length")

    def __init__(self, data: Mapping[str, Any] | None = None, *, equal_length: bool = False):
        cols: dict[str, FloatArray] = {}
        for name, values in (data or {}).items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"column names must be non-empty strings, got {name!r}")
            arr = np.array(values, dtype=np.float64, copy=True).reshape(-1)
            arr.flags.writeable = False
            cols[name] = arr
        if equal_length and len({a.shape[0] for a in cols.values()}) > 1:
            sizes = {k: int(a.shape[0]) for k, a in cols.items()}
            raise ValueError(f"metric columns differ in length: {sizes}")
        self._data = cols
        self._equal_length = equal_length

    def __getitem__(self, key: str) -> FloatArray:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def rows(self) -> int:
        """Length of the columns (0 when there are none); for samples, the longest."""
        return max((int(a.shape[0]) for a in self._data.values()), default=0)

    def to_lists(self) -> dict[str, list[float | None]]:
        return {
            k: [None if not math.isfinite(x) else x for x in a.tolist()]
            for k, a in self._data.items()
        }

    def __repr__(self) -> str:
        return f"Columns({', '.join(f'{k}[{a.shape[0]}]' for k, a in self._data.items())})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Columns):
            return NotImplemented
        return self.keys() == other.keys() and all(
            np.array_equal(self[k], other[k], equal_nan=True) for k in self
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Columns:
            if isinstance(value, Columns):
                return value
            if not isinstance(value, Mapping):
                raise ValueError("expected a mapping of column name to numbers")  # noqa: TRY004
            try:
                return Columns({k: [np.nan if v is None else v for v in vals]
                                if isinstance(vals, list) else vals
                                for k, vals in value.items()})
            except (TypeError, ValueError) as exc:
                raise ValueError(f"columns must hold numbers: {exc}") from exc

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda c: c.to_lists(), when_used="always"
            ),
        )


class Snapshot(Frozen):
    """Flattened parameters (and gradient, when recorded) at one step."""

    step: int
    params: Array
    grad: Array | None = None
    grad_kind: Literal["minibatch", "full", "none"] = "none"
    """``full``: the full-batch gradient at ``params``; ``minibatch``: the last mini-batch
    gradient the training loop computed; ``none``: not recorded."""


class Provenance(Frozen):
    """Where a run came from."""

    source: str
    """``tracking``, ``experiment:<name>``, ``csv``, ``jsonl``, ``tensorboard``, ``mlflow``."""
    source_path: str | None = None
    created_at: datetime | None = None
    host: str | None = None
    python: str | None = None
    torch: str | None = None
    git_commit: str | None = None
    argv: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Anything the loader had to tolerate, e.g. a truncated last line."""


class Run(Frozen):
    """One training or evaluation run, loaded from a run directory."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str
    kind: str = "training"
    """Free-form: ``training``, ``sgd``, ``debate``, ``ensemble``, ``certificate``, ..."""
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: Columns = Field(default_factory=lambda: Columns(equal_length=True))
    """Per-step columns of equal length; ``step`` holds the step numbers when present."""
    samples: Columns = Field(default_factory=Columns)
    """Named 1-D arrays of any length (evaluation outcomes, scores)."""
    snapshots: tuple[Snapshot, ...] = ()
    seed: int | None = None
    provenance: Provenance = Provenance(source="unknown")
    path: Path | None = None
    """The run directory, when loaded from disk (plots are written under it)."""
    members: tuple[Run, ...] = ()
    """For a run group (the same config over several seeds): its runs, one per seed. The
    group's own metrics are the per-step means over the members, its samples their
    concatenation (:func:`pipeline.evidence.groups.load_group`)."""

    @field_validator("metrics", mode="after")
    @classmethod
    def _equal_length(cls, value: Columns) -> Columns:
        sizes = {int(a.shape[0]) for a in value.values()}
        if len(sizes) > 1:
            raise ValueError(
                "metric columns differ in length: "
                + ", ".join(f"{k}={value[k].shape[0]}" for k in value)
            )
        return value

    @property
    def n_steps(self) -> int:
        return self.metrics.rows

    def column(self, name: str) -> FloatArray | None:
        """A metric column, or a sample of that name, or ``None``."""
        if name in self.metrics:
            return self.metrics[name]
        if name in self.samples:
            return self.samples[name]
        return None

    def logged_t(self, n: int) -> FloatArray:
        """The 1-based step t of each of ``n`` logged rows (from ``step`` when it is there)."""
        steps = self.column("step")
        if steps is not None and steps.shape[0] == n and np.isfinite(steps).all():
            t: FloatArray = steps - steps[0] + 1.0
            return t
        return np.arange(1.0, n + 1.0)

    def seeds(self) -> list[int]:
        seeds = self.config.get("seeds")
        if isinstance(seeds, list) and all(isinstance(s, int) for s in seeds):
            return list(seeds)
        return [self.seed] if self.seed is not None else []


class RecordedRun(Frozen):
    """A run that has verdicts, as the evidence store recorded it."""

    id: str
    kind: str = ""
    source: str = ""
    """Where it came from, e.g. ``experiment:debate`` or ``tracking``."""
    path: str | None = None
    n_steps: int = 0
    recorded_at: datetime | None = None
    """UTC (SQLite drops the zone; the store puts it back)."""


class ConfidenceInterval(Frozen):
    low: float
    high: float
    level: float = 0.95
    method: str
    """``wilson``, ``clopper-pearson``, ``bootstrap``, ``t``, ``fisher-z``, ``exact``..."""


class PlotSeries(Frozen):
    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    style: Literal["line", "scatter", "step", "hist"] = "line"


class PlotData(Frozen):
    """What a check wants drawn; :mod:`pipeline.evidence.plots` renders it to PNG."""

    title: str
    xlabel: str
    ylabel: str
    series: tuple[PlotSeries, ...] = ()
    hlines: tuple[tuple[str, float], ...] = ()
    """Labelled horizontal reference lines (thresholds)."""
    logx: bool = False
    logy: bool = False


class Measurement(Frozen):
    """What every empirical verdict carries: the outcome and the evidence for it."""

    outcome: Outcome
    statistic: str
    """Name of the statistic, e.g. ``leaf accuracy``."""
    value: float | None = None
    threshold: float | None = None
    ci: ConfidenceInterval | None = None
    n: int = 0
    """Sample size the statistic rests on."""
    seeds: tuple[int, ...] = ()
    reason: str
    """One sentence a person can read: why the outcome is what it is."""
    details: dict[str, Scalar] = Field(default_factory=dict)
    kind: Literal["direct", "proxy"] = "direct"
    """``proxy``: the check measured a weaker quantity than the hypothesis says."""
    not_covered: str | None = None
    """For a proxy: what the measurement does not cover."""
    check_version: str | None = None
    parameters: dict[str, float] = Field(default_factory=dict)
    """The claim's parameter and setting values the check used."""
    provenance: dict[str, str] = Field(default_factory=dict)
    """Each theorem variable the check used -> how it was bound: ``claim`` (a constant of
    the claim), ``derived: …``, ``exact: …``, ``held_out: …`` or ``uniform: …`` with how the
    value was obtained (:data:`pipeline.claims.models.BindingKind`)."""
    data_hash: str | None = None
    """SHA-256 of the run's data (metrics, samples, snapshots, config) the check read."""

    @field_validator("value", "threshold", mode="after")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        return None if v is None or not math.isfinite(v) else v


class CheckOutcome(Measurement):
    """What a hypothesis check function returns for one run."""

    plot: PlotData | None = None


class HypothesisVerdict(Measurement):
    """A check outcome bound to a claim's hypothesis and a run (what the store keeps)."""

    claim_id: str
    binder: str
    check: str | None
    """``module:function``; ``None`` when recorded by a pytest test."""
    run_id: str
    plot: str | None = None
    """Path of the PNG of the evidence, when one was drawn."""
    source: Literal["check", "pytest"] = "check"
    role: Literal["hypothesis", "conclusion"] = "hypothesis"
    """``conclusion``: a measurement of the theorem's conclusion (``binder`` is its name)."""
    recorded_at: datetime | None = None

    @property
    def holds(self) -> bool:
        return self.outcome == "holds"

    @classmethod
    def from_outcome(
        cls, outcome: CheckOutcome, *, claim_id: str, binder: str, check: str | None,
        run_id: str, plot: str | None = None, source: Literal["check", "pytest"] = "check",
        role: Literal["hypothesis", "conclusion"] = "hypothesis",
    ) -> HypothesisVerdict:
        measured = {name: getattr(outcome, name) for name in Measurement.model_fields}
        return cls(**measured, claim_id=claim_id, binder=binder, check=check, run_id=run_id,
                   plot=plot, source=source, role=role)


def inconclusive(statistic: str, reason: str, **details: Scalar) -> CheckOutcome:
    """The outcome of a check the data cannot decide."""
    return CheckOutcome(outcome="inconclusive", statistic=statistic, reason=reason,
                        details=dict(details))


def error(statistic: str, reason: str, **details: Scalar) -> CheckOutcome:
    """The outcome of a check that crashed (a defect, not a verdict on the data)."""
    return CheckOutcome(outcome="error", statistic=statistic, reason=reason,
                        details=dict(details))


__all__ = [
    "CheckOutcome",
    "Columns",
    "ConfidenceInterval",
    "FloatArray",
    "HypothesisVerdict",
    "Measurement",
    "Outcome",
    "PlotData",
    "PlotSeries",
    "Provenance",
    "Run",
    "Snapshot",
    "error",
    "inconclusive",
]
