"""The gate's view of the claims registry (team "claims" owns the registry and its checks).

* :func:`head_claim_pins` / :func:`base_claim_pins`: registry entries as
  :class:`~pipeline.gate.changes.ClaimPin` for the change rules, parsed with
  ``pipeline.claims.registry`` (the base from its git objects). Lenient: an entry that does
  not parse is left out here; the claims checks report it.
* :func:`claim_cases`: ``pipeline.claims.proof_status.evaluate`` turned into gate cases, one per
  claim and check (statement, sorry, trust policy, witness, consistency). The gate does
  not re-check claims itself; it only sorts what ``evaluate`` and the build found.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.claims.approval import certified_content
from pipeline.claims.library import LeanLibrary
from pipeline.claims.models import Claim, Issue
from pipeline.claims.proof_status import ClaimsReport, ClaimStatus, evaluate
from pipeline.claims.registry import parse_claim, read_registry
from pipeline.errors import ClaimError, InputError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.gate.changes import ClaimPin, flatten
from pipeline.gate.findings import result_findings
from pipeline.gate.models import Finding, GateCase, Location, Severity
from pipeline.lean.build import BuildReport, ModuleBuild
from pipeline.lean.checker import Checker
from pipeline.lean.models import CheckResult, Reason
from pipeline.settings import Settings
from pipeline.vcs import GitRepository, repo_path

SUITE = "claims"
_STATEMENT_FIELDS = ("lean.statement", "lean.declaration", "lean.module", "lean.meaning")
_WITNESS_FIELDS = ("lean.witness",)
_SORRY_RULES = frozenset({"sorry"})


# ---- registry entries for the change rules ----------------------------------------------------

def pin_of(claim: Claim, settings: Settings, prefix: str) -> ClaimPin:
    """A registry entry as the change rules see it."""
    path = Path(claim.path)
    try:
        relative = path.resolve().relative_to(settings.project_root.resolve()).as_posix()
    except ValueError:
        relative = f"{settings.claims_dir}/{path.name}"
    lean = claim.lean
    return ClaimPin(
        claim_id=claim.id,
        file=repo_path(prefix, relative),
        module=lean.module,
        declaration=lean.declaration,
        statement=lean.statement,
        witness=lean.witness,
        definitions=dict(lean.definitions),
        meaning=dict(lean.meaning),
        fields=flatten(claim.model_dump(mode="json", by_alias=True, exclude={"path"})),
        certified=certified_content(claim),
        approval=claim.approval.model_dump(mode="json", exclude_none=True) if claim.approval else {},
    )


def head_claim_pins(settings: Settings, prefix: str) -> dict[str, ClaimPin]:
    if not settings.claims_path.is_dir():
        return {}
    registry, _issues = read_registry(settings)
    return {claim.id: pin_of(claim, settings, prefix) for claim in registry.claims}


def base_claim_pins(repo: GitRepository, sha: str, settings: Settings, prefix: str) -> dict[str, ClaimPin]:
    """The registry at commit ``sha``, read from its git objects."""
    return base_registry(repo, sha, settings, prefix)[0]


def base_registry(
    repo: GitRepository, sha: str, settings: Settings, prefix: str
) -> tuple[dict[str, ClaimPin], dict[str, str]]:
    """The registry at commit ``sha``, read from its git objects (through a scratch folder,
    since the registry parser reads files), and its claim files that do not load with this
    version of the pipeline (repository path -> why)."""
    blobs = repo.files(sha, repo_path(prefix, settings.claims_dir), ".toml")
    pins: dict[str, ClaimPin] = {}
    unreadable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sequent-gate-base-") as tmp:
        root = Path(tmp)
        base_settings = settings.model_copy(update={"project_root": root, "state_dir": root / ".sequent"})
        for path, data in blobs.items():
            target = root / (path.removeprefix(prefix + "/") if prefix else path)
            if target.parent != base_settings.claims_path:
                continue  # the registry is claims/*.toml, not nested folders
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            claim, issues = parse_claim(base_settings, target)
            if claim is None:
                unreadable[path] = "; ".join(f"{i.field}: {i.message}" for i in issues)[:300]
            elif claim.id not in pins:
                pins[claim.id] = pin_of(claim, base_settings, prefix)
    return pins, unreadable


# ---- claims checks ----------------------------------------------------------------------------

def _issue_finding(issue: Issue, prefix: str) -> Finding:
    severity = Severity.error if issue.severity == "error" else Severity.warning
    return Finding(
        severity=severity,
        message=f"{issue.field}: {issue.message}",
        location=Location(file=repo_path(prefix, issue.file)),
    )


def _field_in(issue: Issue, fields: Sequence[str]) -> bool:
    return any(issue.field == f or issue.field.startswith(f + ".") for f in fields)


def _policy_findings(
    claim_id: str,
    modules: Iterable[ModuleBuild],
    results: Iterable[CheckResult | None],
    prefix: str,
    *,
    sorry: bool,
) -> list[Finding]:
    """Sorry (``sorry=True``) or other trust-policy problems in the modules a claim rests on
    and in the pipeline's own checks of it."""
    reasons = {Reason.sorry} if sorry else {Reason.axiom, Reason.forbidden}
    findings: list[Finding] = []
    for mb in modules:
        if mb.result is None:
            continue
        file = repo_path(prefix, mb.path)
        for v in mb.result.violations:
            if (v.rule in _SORRY_RULES) == sorry:
                findings.append(
                    Finding(
                        severity=Severity.error,
                        message=f"{v.message} (in {mb.module}, which claim {claim_id} rests on)",
                        location=Location(file=file, line=v.line, column=v.column),
                    )
                )
        if not mb.result.violations and reasons & set(mb.result.reasons):
            for f in result_findings(mb.result, file):
                if f.severity is Severity.error:
                    findings.append(
                        f.model_copy(update={"message": f"{f.message} (in {mb.module}, which "
                                                        f"claim {claim_id} rests on)"})
                    )
    for result in results:
        if result is not None and reasons & set(result.reasons):
            why = ", ".join(r.value for r in result.reasons if r in reasons)
            findings.append(
                Finding(severity=Severity.error,
                        message=f"the pipeline's check of claim {claim_id} was rejected: {why}")
            )
    return findings


def status_cases(
    status: ClaimStatus,
    issues: Sequence[Issue],
    scope: Sequence[ModuleBuild],
    prefix: str,
) -> list[GateCase]:
    """The gate cases of one claim."""
    claim = status.claim
    cid = claim.id
    statement = [_issue_finding(i, prefix) for i in issues if _field_in(i, _STATEMENT_FIELDS)]
    witness = [_issue_finding(i, prefix) for i in issues if _field_in(i, _WITNESS_FIELDS)]
    other = [
        _issue_finding(i, prefix)
        for i in issues
        if not _field_in(i, _STATEMENT_FIELDS + _WITNESS_FIELDS)
    ]
    not_checked = None if status.module_built else f"{claim.lean.module} did not build"
    if status.module_built and not status.proved and not statement and status.proof is None:
        statement.append(Finding(severity=Severity.error, message="the statement was not checked"))
    checks = (status.proof, status.witness)

    def case(name: str, check: str, findings: Iterable[Finding]) -> GateCase:
        return GateCase(suite=SUITE, name=f"{cid}: {name}", check=check, claim_id=cid,
                        findings=tuple(findings))

    def result_case(name: str, check: str, findings: Iterable[Finding],
                    result: CheckResult | None) -> GateCase:
        """A case that reports on one check: skipped without its result."""
        if result is None:
            return case(name, check, findings).model_copy(
                update={"skipped": not_checked or "not checked"})
        return case(name, check, findings).model_copy(update={"elapsed_s": result.elapsed_s})

    return [
        result_case("proves the pinned statement", "statement", statement, status.proof),
        case("no sorry", "sorry", _policy_findings(cid, scope, checks, prefix, sorry=True)),
        case("trust policy", "trust", _policy_findings(cid, scope, checks, prefix, sorry=False)),
        result_case("witness accepted", "witness", witness, status.witness),
        case("consistent with Lean", "consistency", other),
    ]


def report_cases(
    report: ClaimsReport,
    build: BuildReport,
    scopes: dict[str, list[str]],
    prefix: str,
) -> list[GateCase]:
    """Gate cases for a claims report: one registry case, then five per claim.

    ``scopes`` maps a claim id to the modules its statement rests on (its module and
    everything that module imports)."""
    known = {s.claim.id for s in report.claims}
    by_module = {mb.module: mb for mb in build.modules}
    registry = [
        _issue_finding(i, prefix)
        for i in report.issues
        if (i.claim_id is None or i.claim_id not in known) and i.field != "build"
    ]
    cases = [GateCase(suite=SUITE, name="registry loads", check="registry", findings=tuple(registry))]
    for status in report.claims:
        cid = status.claim.id
        issues = [i for i in report.issues if i.claim_id == cid]
        scope = [by_module[m] for m in scopes.get(cid, []) if m in by_module]
        cases += status_cases(status, issues, scope, prefix)
    return cases


def claim_cases(
    settings: Settings, checker: Checker, prefix: str, build: BuildReport | None
) -> list[GateCase]:
    """Evaluate every claim (reusing ``build``) and turn the report into gate cases."""
    if build is None:
        return [_unevaluated("the Lean library could not be read, so no claim was checked")]
    if not settings.claims_path.is_dir():
        folder = repo_path(prefix, settings.claims_dir)
        return [_unevaluated(f"{folder}/ does not exist: there is no claims registry",
                             Location(file=folder))]
    try:
        report = evaluate(settings, checker, EVIDENCE_CHECKS, build=build)
        library = LeanLibrary.load(settings)
    except (ClaimError, InputError) as exc:
        return [_unevaluated(f"the claims could not be evaluated: {exc}")]
    scopes = {
        s.claim.id: [m.name for m in library.scope(s.claim.lean.module)] for s in report.claims
    }
    return report_cases(report, build, scopes, prefix)


def _unevaluated(message: str, location: Location | None = None) -> GateCase:
    return GateCase(
        suite=SUITE, name="registry loads", check="registry",
        findings=(Finding(severity=Severity.error, message=message, location=location),),
    )


__all__ = [
    "base_claim_pins",
    "base_registry",
    "claim_cases",
    "head_claim_pins",
    "pin_of",
    "report_cases",
    "status_cases",
]
