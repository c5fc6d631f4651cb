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

from pathlib import Path

from pipeline.claims.models import Claim
from pipeline.claims.registry import Registry, read_registry
from pipeline.errors import SequentError
from pipeline.evidence.evaluate import application, evaluate, soundness_alarms, targets_of
from pipeline.evidence.models import HypothesisVerdict, Run
from pipeline.gate.models import Finding, GateCase, Location, Severity
from pipeline.gate.repo import repo_path
from pipeline.settings import Settings

SUITE = "evidence"


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
    required = [h.binder for h in claim.hypotheses if h.check and not h.assumed]
    result = application(True, verdicts, required)
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
        return case(Severity.notice, f"claim {claim.id} does not apply to reference run "
                                     f"{entry}: {', '.join(open_) or 'a conclusion'} does "
                                     "not hold"), run.id
    return case(None), run.id


def _reason(verdicts: list[HypothesisVerdict], conclusion: str) -> str:
    found = next((v for v in verdicts if v.role == "conclusion" and v.binder == conclusion), None)
    return f"{conclusion}: {found.reason}" if found is not None else conclusion


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


def evidence_cases(settings: Settings, prefix: str) -> list[GateCase]:
    """One case per (claim, registered reference run), and one for the other runs' alarms.

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
    cases.append(recorded_alarms_case(settings, registry, reference_ids))
    return cases


__all__ = ["SUITE", "evidence_cases", "load_reference", "recorded_alarms_case",
           "reference_case"]
