"""The claims registry's models: one :class:`Claim` per ``claims/<id>.toml``.

A claim links an informal statement (Markdown, for humans) to a Lean theorem whose
statement is *pinned* in the registry. Nothing here records whether a claim is proved:
status is derived by :mod:`pipeline.claims.proof_status`, never entered by hand.
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.models import Frozen

CLAIM_ID = r"^[a-z][a-z0-9_]*$"
BINDER = r"^h_[A-Za-z0-9_']+$"
CHECK_REF = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
LEAN_NAME = r"^[^\s.:()\[\]{},]+(\.[^\s.:()\[\]{},]+)*$"


VARIABLE = r"^[^\W\d][\w'₀-₉]*$"
ESTIMATOR = r"^[a-z][a-z0-9_]*$"


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _number(value: object) -> object:
    if isinstance(value, bool) or (isinstance(value, int | float) and not math.isfinite(value)):
        raise ValueError(f"must be a finite number, got {value!r}")
    return value


Number = Annotated[float, BeforeValidator(_number)]


def _digests_match(value: dict[str, str], pattern: str, message: str) -> None:
    """Every pin (name -> digest) matches ``pattern``; otherwise ``message`` about the first
    that does not."""
    for name, digest in value.items():
        if not re.fullmatch(pattern, digest):
            raise ValueError(message.format(name=name))


BindingKind = Literal["claim", "derived", "exact", "held_out", "uniform"]
"""How a theorem variable got its value (its *provenance*), shown with every verdict:

* ``claim``: a constant written in the claim's TOML;
* ``derived``: a formula over other claim parameters (``{ derived = "4*G2/lam^2" }``);
* ``exact``: fixed exactly by deterministic logged quantities (the logged lr schedule);
* ``held_out``: a statistical estimate computed on runs the test does not use, declared in
  the claim (``calibration_seeds``: the seeds of a run group set aside for it);
* ``uniform``: a statistical estimate whose procedure is valid uniformly (a bound that
  accounts for being chosen on the data it then tests).

A statistical estimate on the very sample it then tests (*in sample*) is never a binding:
a check compared with its own estimate cannot fail. Such a claim is refused when it loads."""

ESTIMATE_BINDINGS = ("exact", "held_out", "uniform")
"""The bindings an ``estimate`` entry may declare (``claim`` and ``derived`` are written
differently: a number, a ``derived`` formula)."""


class Estimate(Frozen):
    """A theorem variable bound to a run quantity by an estimator, with its declared binding."""

    estimate: str = Field(pattern=ESTIMATOR)
    """An estimator of :mod:`pipeline.evidence.estimators` (``sequent hypotheses list``)."""
    binding: str
    """``exact``, ``held_out`` or ``uniform`` (see :data:`BindingKind`); the estimator must
    support it (``claims check``; evaluation refuses it otherwise)."""
    calibration_seeds: tuple[int, ...] = ()
    """``held_out``: the seeds of the run group the estimate is computed on. The checks of the
    claim never see these runs: a run group is tested on its other seeds, and a single run
    whose seed is one of them is refused."""
    factor: Number = 1.0
    """A statistical estimate times this claim constant (≥ 1): a looser bound the test can
    confirm with fewer seeds. ``exact`` takes the value as it is (factor 1)."""

    @field_validator("binding", mode="before")
    @classmethod
    def _binding(cls, value: object) -> object:
        if value == "in_sample":
            raise ValueError("an in-sample estimate is refused: a statistical parameter chosen "
                             "on the sample it then tests cannot fail its test; bind it as "
                             "held_out (calibration_seeds), uniform, or a claim constant")
        if value not in ESTIMATE_BINDINGS:
            raise ValueError(f"binding must be one of {', '.join(ESTIMATE_BINDINGS)} "
                             f"(got {value!r})")
        return value

    @model_validator(mode="before")
    @classmethod
    def _declared(cls, data: object) -> object:
        if isinstance(data, dict) and "estimate" in data and "binding" not in data:
            raise ValueError(
                f"estimate {data['estimate']!r} does not declare its binding: say "
                "binding = \"exact\" (fixed by deterministic logged quantities), \"held_out\" "
                "(with calibration_seeds the test does not use) or \"uniform\"; a statistical "
                "estimate on the run it then tests is refused")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Estimate:
        if self.binding == "held_out" and not self.calibration_seeds:
            raise ValueError("a held_out estimate names its calibration_seeds (the runs the "
                             "estimate is computed on, which the test does not use)")
        if self.binding != "held_out" and self.calibration_seeds:
            raise ValueError("calibration_seeds belong to a held_out estimate")
        if len(set(self.calibration_seeds)) != len(self.calibration_seeds) \
                or any(s < 0 for s in self.calibration_seeds):
            raise ValueError("calibration_seeds must be distinct non-negative seeds")
        if self.factor < 1.0 or (self.binding == "exact" and self.factor != 1.0):
            raise ValueError("factor must be ≥ 1, and 1 for an exact binding")
        return self


class Derived(Frozen):
    """A theorem variable computed from other claim parameters (binding ``derived``)."""

    derived: str = Field(min_length=1, max_length=200)
    """A formula over the claim's other ``[parameters]`` (the safe formula parser of
    :mod:`pipeline.evidence.schedule`; never ``eval``), e.g. ``"4*G2/lam^2"``."""

    def names(self) -> set[str]:
        return set(re.findall(r"[^\W\d][\w']*", self.derived))


ParameterValue = Number | Estimate | Derived


class CheckBinding(Frozen):
    """How a check is fed from the claim: which claim parameter plays each of the check's
    variables (default: the same name) and the check's own settings."""

    parameters: dict[str, str] = Field(default_factory=dict)
    """The check's variable -> the claim's ``[parameters]`` name, when they differ."""
    settings: dict[str, Number] = Field(default_factory=dict)
    """The check's constants (tolerances, a proxy's threshold), e.g. ``step_tolerance``."""


class Hypothesis(CheckBinding):
    """One hypothesis of the theorem, named by its Lean binder."""

    binder: str = Field(pattern=BINDER)
    """The Lean binder name in the theorem's signature, e.g. ``h_judge_leaf``."""
    meaning: str
    """What the hypothesis says, informally."""
    check: str | None = Field(default=None, pattern=CHECK_REF)
    """The empirical check that tests it, ``module:function``."""
    assumed: StrictBool = False
    """True when no experiment tests it; then ``justification`` says why it is reasonable."""
    justification: str | None = None

    _meaning = field_validator("meaning")(_nonblank)

    @model_validator(mode="after")
    def _check_or_assumed(self) -> Hypothesis:
        if self.check is not None and self.assumed:
            raise ValueError("a hypothesis has either `check` or `assumed = true`, not both")
        if self.check is None and not self.assumed:
            raise ValueError("give the empirical `check` that tests it, or `assumed = true` "
                             "with a `justification`")
        if self.assumed and not (self.justification or "").strip():
            raise ValueError("an assumed hypothesis needs a written `justification`")
        return self

    @property
    def module(self) -> str | None:
        return self.check.split(":", 1)[0] if self.check else None

    @property
    def function(self) -> str | None:
        return self.check.split(":", 1)[1] if self.check else None


STATEMENT_KEY = "(statement)"
"""The key of the statement's own digest in ``[lean.meaning]`` (not a Lean name)."""
class HypothesisSummary(Frozen):
    """A hypothesis as a reader sees it (the report's table, the API's claim view): its binder,
    its meaning and how it is tested or why it is assumed, without how its check is fed."""

    binder: str
    meaning: str
    check: str | None = None
    assumed: bool = False
    justification: str | None = None

    @classmethod
    def of(cls, hypothesis: Hypothesis, **more: Any) -> Self:
        """``hypothesis``'s summary (with the fields a subclass adds, ``more``)."""
        return cls(**hypothesis.model_dump(include=set(HypothesisSummary.model_fields)), **more)

    @property
    def empirical(self) -> bool:
        """Tested by an experiment (not assumed)."""
        return self.check is not None and not self.assumed


class Conclusion(CheckBinding):
    """A conclusion of the theorem measured on the same runs as its hypotheses."""

    name: str = Field(pattern=ESTIMATOR)
    meaning: str
    check: str = Field(pattern=CHECK_REF)
    guarantee: str | None = None
    """What a run the claim applies to is guaranteed, with ``{formula}`` placeholders over the
    claim's variables filled in by the report, e.g. ``"eₜ ≤ {4*G2/lam^2}/t for t ≥ 1"``."""
    vacuous_at_least: Number | None = None
    """The guarantee says nothing when its first filled-in value reaches this (a probability
    bound ≥ 1); the report flags it."""

    _meaning = field_validator("meaning")(_nonblank)


class LeanRef(Frozen):
    """Where the claim lives in Lean, and what is pinned about it."""

    module: str = Field(pattern=LEAN_NAME)
    """The module holding the theorem, e.g. ``Formal.Debate``."""
    declaration: str = Field(pattern=LEAN_NAME)
    """The theorem's fully qualified name."""
    statement: str
    """The pinned statement: the theorem's type as a closed term (``∀ (x : X) (h_… : …), …``)."""
    witness: str = Field(pattern=LEAN_NAME)
    """A named theorem that applies the theorem to concrete values, proving every hypothesis:
    the hypotheses are jointly satisfiable."""
    opens: tuple[str, ...] = Field(default=(), alias="open")
    """Namespaces opened before the statement (TOML key ``open``)."""
    definitions: dict[str, str] = Field(default_factory=dict)
    """Definition name -> SHA-256 of its source (comments removed, white space folded): a
    readable summary; the meaning pin below is what decides."""
    meaning: dict[str, str] = Field(default_factory=dict)
    """The pinned *meaning*, read from the compiled environment by ``sequent claims pin``:
    ``"(statement)"`` -> digest of the theorem's type as an ``Expr``, and every project constant
    that type reaches -> digest of its ``ConstantInfo``. Lets ``claims check`` detect a changed
    meaning (an instance, a literal, a local instance) on a lone checkout."""

    _statement = field_validator("statement")(_nonblank)

    @field_validator("meaning")
    @classmethod
    def _meaning(cls, value: dict[str, str]) -> dict[str, str]:
        _digests_match(value, r"[0-9a-f]{40,64}|unknown", "the meaning pin of {name} is not a hex digest")
        if value and STATEMENT_KEY not in value:
            raise ValueError(f"the meaning pins lack {STATEMENT_KEY!r} (run `sequent claims pin`)")
        return value

    @field_validator("opens")
    @classmethod
    def _opens(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not re.match(LEAN_NAME, name):
                raise ValueError(f"{name!r} is not a namespace name")
        return value

    @field_validator("definitions")
    @classmethod
    def _digests(cls, value: dict[str, str]) -> dict[str, str]:
        _digests_match(value, r"[0-9a-f]{64}", "the pin of {name} is not a SHA-256 hex digest")
        return value


class Approval(Frozen):
    """A committed approval of what a claim certifies (``[approval]``, written by
    ``sequent claims approve``): the gate lets a change that weakens the claim pass only when
    this digest names the claim's certified content exactly
    (:func:`pipeline.claims.approval.certified_digest`)."""

    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    by: str | None = None
    reason: str | None = None
    at: str | None = None
    """When it was approved (UTC, ISO 8601)."""


class ReferenceExperiment(Frozen):
    """The claim's reference experiment (``[reference_experiment]``): a name of
    ``experiments.REFERENCE`` that ``sequent gate`` regenerates at quick settings, seeds
    0…seeds−1, in a temporary folder (no run data is committed), and on which it checks the
    claim's hypotheses and conclusions: the project says the claim applies there."""

    experiment: str = Field(pattern=ESTIMATOR)
    variant: str = Field("reference", pattern=ESTIMATOR)
    seeds: int = Field(1, ge=1, le=12)
    """1: one run; more: a run group of that many seeds (at most 12: the gate regenerates them
    on every run, so a reference group is many seeds of a short run, not a long one)."""


class Claim(Frozen):
    """One claim of the registry."""

    id: str = Field(pattern=CLAIM_ID)
    title: str
    statement: str
    """The informal statement, Markdown."""
    argument: str
    """The informal proof sketch a human reads."""
    source: str
    """The reference the claim comes from."""
    lean: LeanRef
    hypotheses: tuple[Hypothesis, ...] = ()
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)
    """The theorem's variables bound to numbers or to run estimates (one value per variable,
    shared by every hypothesis and conclusion check)."""
    conclusions: tuple[Conclusion, ...] = ()
    reference_runs: tuple[str, ...] = ()
    """Registered reference runs: run or run-group directories, relative to the project
    root, on which the claim is expected to apply; ``sequent gate`` re-checks them and fails
    on a soundness alarm (every hypothesis holds, a conclusion fails)."""
    reference_experiment: ReferenceExperiment | None = None
    """The experiment ``sequent gate`` regenerates and checks the claim on (see
    :class:`ReferenceExperiment`)."""
    depends_on: tuple[str, ...] = ()
    approval: Approval | None = None
    """The committed approval of the certified content (see :class:`Approval`)."""
    path: Path
    """The TOML file the claim was read from (set by the loader, not written in the file)."""

    _text = field_validator("title", "statement", "argument", "source")(_nonblank)

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameter_entries(cls, value: object) -> object:
        """Each table entry as its one kind (a number, an estimate, a derived formula), with
        the parameter named in the error: a union's three error lists say little."""
        if not isinstance(value, dict):
            return value
        out: dict[object, object] = {}
        for name, entry in value.items():
            kind: type[Estimate | Derived] | None = None
            if isinstance(entry, dict):
                kind = Estimate if "estimate" in entry else Derived if "derived" in entry \
                    else None
                if kind is None:
                    raise ValueError(f"parameter {name!r}: give a number (binding claim), "
                                     "{ derived = \"formula\" } or { estimate = \"...\", "
                                     "binding = \"exact\" | \"held_out\" | \"uniform\" }")
            if kind is not None:
                try:
                    entry = kind.model_validate(entry)
                except ValidationError as exc:
                    problems = "; ".join(
                        (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "")
                        + e["msg"].removeprefix("Value error, ")
                        for e in exc.errors(include_url=False))
                    raise ValueError(f"parameter {name!r}: {problems}") from None
            out[name] = entry
        return out

    @field_validator("parameters")
    @classmethod
    def _variable_names(cls, value: dict[str, ParameterValue]) -> dict[str, ParameterValue]:
        for name in value:
            if not re.match(VARIABLE, name) or name.startswith("h_"):
                raise ValueError(f"{name!r} is not a theorem variable name")
        derived = {n: v.names() & set(value) for n, v in value.items() if isinstance(v, Derived)}
        for name, uses in derived.items():
            if name in uses:
                raise ValueError(f"parameter {name!r} is derived from itself")
        seen: set[str] = set()
        while len(seen) < len(derived):  # every derived entry must resolve (no cycle)
            ready = {n for n, uses in derived.items() if n not in seen and not (uses & (
                set(derived) - seen))}
            if not ready:
                raise ValueError("derived parameters form a cycle: "
                                 + ", ".join(sorted(set(derived) - seen)))
            seen |= ready
        return value

    @field_validator("reference_runs")
    @classmethod
    def _relative_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parts = PurePosixPath(entry).parts
            if not entry.strip() or entry.startswith(("/", "\\")) or ".." in parts \
                    or ":" in entry:
                raise ValueError(f"reference run {entry!r} must be a path inside the project, "
                                 "relative to its root, with / separators and no '..'")
        if len(set(value)) != len(value):
            raise ValueError("a reference run is listed twice")
        return value

    @model_validator(mode="after")
    def _bindings(self) -> Claim:
        entries: list[tuple[str, CheckBinding]] = [
            (f"hypotheses[{i}]", h) for i, h in enumerate(self.hypotheses)]
        entries += [(f"conclusions[{i}]", c) for i, c in enumerate(self.conclusions)]
        for where, entry in entries:
            for role, target in entry.parameters.items():
                if target not in self.parameters:
                    raise ValueError(f"{where}.parameters.{role} names {target!r}, which is "
                                     "not in the claim's [parameters] table")
            clash = sorted(set(entry.settings) & set(self.parameters))
            if clash:
                raise ValueError(f"{where}.settings sets {', '.join(clash)}, a theorem variable "
                                 "bound in [parameters]: one value per variable")
        names = [c.name for c in self.conclusions]
        if len(names) != len(set(names)):
            raise ValueError("two [[conclusions]] have the same name")
        return self

    def hypothesis(self, binder: str) -> Hypothesis | None:
        return next((h for h in self.hypotheses if h.binder == binder), None)


Severity = Literal["error", "warning"]


class Issue(Frozen):
    """One consistency problem, located by file and field."""

    file: str
    """The file, relative to the project root where possible."""
    field: str
    """The field in that file, e.g. ``lean.statement`` or ``hypotheses[2].binder``."""
    message: str
    claim_id: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.file}: {self.field}: {tag}{self.message}"


__all__ = ["ESTIMATE_BINDINGS", "BindingKind", "CheckBinding", "Claim", "Conclusion", "Derived",
           "Estimate", "Hypothesis", "HypothesisSummary", "Issue", "LeanRef", "Number", "ParameterValue",
           "ReferenceExperiment", "Severity"]
