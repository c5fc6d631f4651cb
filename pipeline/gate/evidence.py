"""The gate's evidence suite: soundness alarms on registered reference runs.

A claim lists its **registered reference runs** (``reference_runs = ["runs/debate"]`` in
``claims/<id>.toml``: run or run-group directories, relative to the project root) — the runs
on which the project says the claim applies. For each one the gate loads the run from the
tree it checks, evaluates the claim's hypotheses and conclusions afresh (nothing is read from
or written to the verdict store) and

* fails (error) on a **soundness alarm**: every empirical hypothesis holds and a conclusion
  fails beyond noise, so the checks or the formalization are wrong;
* fails (error) when a registered run is missing or cannot be read: a reference that is not
  there certifies nothing;
* warns when a check crashed (``error`` verdicts), and notes when the claim does not apply.

Soundness alarms in the verdicts stored for other runs (``sequent hypotheses check``) are
reported as warnings in one case, ``soundness alarms on other runs``: they do not fail the
gate, since nobody registered those runs as evidence.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pipeline.claims.models import Claim, ReferenceExperiment
from pipeline.claims.registry import Registry, read_registry
from pipeline.errors import SequentError
from pipeline.evidence.evaluate import (
    Application,
    application,
    evaluate,
    soundness_alarms,
    targets_of,
    vacuous_conclusions,
)
from pipeline.evidence.models import HypothesisVerdict, Run
from pipeline.gate.models import Finding, GateCase, Location, Severity
from pipeline.settings import Settings
from pipeline.vcs import repo_path

SUITE = "evidence"

Experiment = Callable[..., Path]
"""``(out_dir, seed=0, quick=False, variant="reference") -> run_dir``."""
Experiments = Callable[[], Mapping[str, Experiment]]
"""Gives the reference experiments (``experiments.REFERENCE``) when first needed, so that a
gate without a registered experiment never imports PyTorch."""


def load_reference(path: Path) -> Run:
    """A run directory (``run.json``) or a run group (one run directory per seed)."""
    from pipeline.evidence.groups import load_group
    from pipeline.evidence.runs import load_run

    return load_run(path) if (path / "run.json").is_file() else load_group(path)


def reference_case(settings: Settings, registry: Registry, claim: Claim, entry: str,
                   prefix: str) -> tuple[GateCase, str | None]:
    """The gate case of one (claim, reference run), and the run's id when it loaded."""
    where = Location(file=repo_path(prefix, f"{settings.claims_dir}/{claim.id}.toml"))
    name = f"{claim.id}: reference run {entry}"

    def case(severity: Severity | None, message: str = "") -> GateCase:
        findings = (Finding(severity=severity, message=message, location=where),) \
            if severity is not None else ()
        return GateCase(suite=SUITE, name=name, check="reference_run", claim_id=claim.id,
                        findings=findings)

    path = settings.project_root / entry
    if not path.is_dir():
        return case(Severity.error, f"claim {claim.id}: registered reference run {entry} does "
                                    "not exist (a run directory or a run group is expected)"), None
    try:
        run = load_reference(path)
    except SequentError as exc:
        return case(Severity.error, f"claim {claim.id}: registered reference run {entry} "
                                    f"cannot be read: {exc}"), None
    verdicts = evaluate(run, targets_of(registry, claim.id))
    result = _application(claim, verdicts)
    if result.alarms:
        failing = "; ".join(_reason(verdicts, c) for c in result.alarms)
        return case(Severity.error, (
            f"SOUNDNESS ALARM: claim {claim.id} on registered reference run {entry} "
            f"({run.id}): every empirical hypothesis holds but the conclusion "
            f"{', '.join(result.alarms)} fails — the checks or the formalization are wrong "
            f"({failing})")), run.id
    if result.errors:
        return case(Severity.warning, f"claim {claim.id} on reference run {entry}: the check "
                                      f"of {', '.join(result.errors)} crashed"), run.id
    if not result.applies:
        open_ = [v.binder for v in verdicts if v.role == "hypothesis" and not v.holds]
        why = (f"{', '.join(open_)} does not hold" if open_ else
               f"{result.label} ({', '.join((*result.vacuous, *result.unverified))})")
        return case(Severity.notice, f"claim {claim.id} does not apply to reference run "
                                     f"{entry}: {why}"), run.id
    return case(None), run.id


def _reason(verdicts: list[HypothesisVerdict], conclusion: str) -> str:
    found = next((v for v in verdicts if v.role == "conclusion" and v.binder == conclusion), None)
    return f"{conclusion}: {found.reason}" if found is not None else conclusion


def _figure(v: HypothesisVerdict) -> str:
    value = f"{v.statistic} = {v.value:.4g}" if v.value is not None else v.statistic
    against = f" against {v.threshold:.4g}" if v.threshold is not None else ""
    interval = f", 95% CI [{v.ci.low:.4g}, {v.ci.high:.4g}]" if v.ci is not None else ""
    return f"{v.binder} {v.outcome}: {value}{against}{interval}, n = {v.n} — {v.reason}"


def regenerate(table: Mapping[str, Experiment], ref: ReferenceExperiment, root: Path) -> Run:
    """Run the experiment at quick settings into ``root``: one run (seed 0) or a group."""
    from pipeline.evidence.groups import load_group
    from pipeline.evidence.runs import load_run

    experiment = table[ref.experiment]
    if ref.seeds == 1:
        return load_run(experiment(root / "seed-0", seed=0, quick=True, variant=ref.variant))
    group = root / ref.experiment
    for seed in range(ref.seeds):
        experiment(group / f"seed-{seed}", seed=seed, quick=True, variant=ref.variant)
    return load_group(group)


def experiment_case(settings: Settings, registry: Registry, claim: Claim,
                    ref: ReferenceExperiment, prefix: str,
                    experiments: Experiments | None) -> GateCase:
    """The gate case of a claim's reference experiment, regenerated and checked."""
    where = Location(file=repo_path(prefix, f"{settings.claims_dir}/{claim.id}.toml"))
    label = (f"{ref.experiment}" + (f" ({ref.variant})" if ref.variant != "reference" else "")
             + f", quick, seed{'s 0–' + str(ref.seeds - 1) if ref.seeds > 1 else ' 0'}")
    started = time.monotonic()

    def case(findings: list[tuple[Severity, str]]) -> GateCase:
        return GateCase(suite=SUITE, name=f"{claim.id}: reference experiment {label}",
                        check="reference_experiment", claim_id=claim.id,
                        findings=tuple(Finding(severity=sev, message=msg, location=where)
                                       for sev, msg in findings),
                        elapsed_s=round(time.monotonic() - started, 3))

    if experiments is None:
        return case([(Severity.warning, (f"claim {claim.id} names the reference experiment "
                                        f"{ref.experiment}, but no experiments were given to "
                                        "the gate: not regenerated"))])
    table = experiments()
    if ref.experiment not in table:
        return case([(Severity.error, (f"claim {claim.id}: unknown reference experiment "
                                      f"{ref.experiment!r}; choose one of "
                                      f"{', '.join(sorted(table))}"))])
    with tempfile.TemporaryDirectory(prefix="sequent-gate-reference-") as tmp:
        try:
            run = regenerate(table, ref, Path(tmp))
        except SequentError as exc:
            return case([(Severity.error, (f"claim {claim.id}: reference experiment {label} "
                                          f"could not be regenerated: {exc}"))])
        except Exception as exc:  # noqa: BLE001 - the experiment's crash is the finding
            return case([(Severity.error, (f"claim {claim.id}: reference experiment {label} "
                                          f"crashed: {type(exc).__name__}: {exc}"))])
        verdicts = evaluate(run, targets_of(registry, claim.id))
    return case(_reference_findings(claim, verdicts, label))


def _application(claim: Claim, verdicts: list[HypothesisVerdict]) -> Application:
    """Whether the claim applies to a reference run, from its verdicts there."""
    required = [h.binder for h in claim.hypotheses if h.check and not h.assumed]
    return application(True, verdicts, required,
                       conclusions=[c.name for c in claim.conclusions],
                       vacuous=vacuous_conclusions(claim, verdicts))


_VERDICT_FINDINGS: dict[tuple[str, str], tuple[Severity, str]] = {
    ("hypothesis", "fails"): (Severity.error, ("claim {claim}: its reference experiment "
                                               "{label} violates a hypothesis: {figure}")),
    ("hypothesis", "inconclusive"): (Severity.warning, ("claim {claim} is not shown to apply "
                                                        "to its reference experiment {label}: "
                                                        "{figure}")),
    ("conclusion", "inconclusive"): (Severity.notice, ("claim {claim}: conclusion unverified "
                                                       "on its reference experiment {label}: "
                                                       "{figure}")),
}
"""(role, outcome) of a verdict on a reference experiment -> the finding it makes."""


def _reference_findings(claim: Claim, verdicts: list[HypothesisVerdict], label: str
                        ) -> list[tuple[Severity, str]]:
    """What the verdicts on a claim's regenerated reference experiment say: a vacuous
    bound, a soundness alarm, a crashed check, a violated or unshown hypothesis, an
    unverified conclusion."""
    result = _application(claim, verdicts)
    findings: list[tuple[Severity, str]] = []
    if result.vacuous:
        findings.append((Severity.warning, (
            f"claim {claim.id}: the certified bound of {', '.join(result.vacuous)} says nothing "
            f"with the claim's numbers (reference experiment {label}): the claim certifies "
            "nothing there")))
    if result.alarms:
        failing = "; ".join(_reason(verdicts, c) for c in result.alarms)
        findings.append((Severity.error, (
            f"SOUNDNESS ALARM: claim {claim.id} on its reference experiment {label}: every "
            f"empirical hypothesis holds but the conclusion {', '.join(result.alarms)} fails — "
            f"the checks or the formalization are wrong ({failing})")))
    for v in verdicts:
        if v.outcome == "error":
            findings.append((Severity.error, (f"claim {claim.id}: the check of {v.binder} "
                                             f"crashed on its reference experiment {label}: "
                                             f"{v.reason}")))
        elif (v.role, v.outcome) in _VERDICT_FINDINGS:
            severity, text = _VERDICT_FINDINGS[(v.role, v.outcome)]
            findings.append((severity, text.format(claim=claim.id, label=label,
                                                   figure=_figure(v))))
    return findings


def recorded_alarms_case(settings: Settings, registry: Registry,
                         reference_ids: set[tuple[str, str]]) -> GateCase:
    """Soundness alarms in the stored verdicts of runs not registered as references."""
    from pipeline.evidence.store import recorded_runs, verdicts_for_run
    from pipeline.store.db import Database

    findings: list[Finding] = []
    try:
        db = Database(settings.db_url)
        try:
            for recorded in recorded_runs(db):
                verdicts = verdicts_for_run(db, recorded.id)
                for claim_id, run_id, name in soundness_alarms(verdicts, registry):
                    if (claim_id, run_id) in reference_ids:
                        continue  # re-checked above from the registered run itself
                    findings.append(Finding(
                        severity=Severity.warning,
                        message=(f"soundness alarm: claim {claim_id} on run {run_id} (not a "
                                 f"registered reference run): every hypothesis holds and "
                                 f"{name} fails")))
        finally:
            db.close()
    except SequentError as exc:
        findings.append(Finding(severity=Severity.notice,
                                message=f"the recorded verdicts could not be read: {exc}"))
    return GateCase(suite=SUITE, name="soundness alarms on other runs",
                    check="recorded_alarms", findings=tuple(findings))


def evidence_cases(settings: Settings, prefix: str,
                   experiments: Experiments | None = None) -> list[GateCase]:
    """One case per (claim, registered reference run), one per claim's reference experiment
    (regenerated with ``experiments``), and one for the other runs' alarms.

    The registry is read leniently: a claim file that does not parse is reported by the
    claims suite, and its reference runs are not checked here."""
    if not settings.claims_path.is_dir():
        return []
    try:
        registry, _issues = read_registry(settings)
    except SequentError:
        return []
    cases: list[GateCase] = []
    reference_ids: set[tuple[str, str]] = set()
    for claim in registry.claims:
        for entry in claim.reference_runs:
            case, run_id = reference_case(settings, registry, claim, entry, prefix)
            cases.append(case)
            if run_id is not None:
                reference_ids.add((claim.id, run_id))
        if claim.reference_experiment is not None:
            cases.append(experiment_case(settings, registry, claim, claim.reference_experiment,
                                         prefix, experiments))
    cases.append(recorded_alarms_case(settings, registry, reference_ids))
    return cases


__all__ = ["SUITE", "Experiment", "Experiments", "evidence_cases", "experiment_case",
           "load_reference", "recorded_alarms_case", "reference_case", "regenerate"]
