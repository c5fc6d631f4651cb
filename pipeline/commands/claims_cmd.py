"""``sequent claims list|show|check|graph|pin|approve``: the claims registry from the command line.

``check`` exits 0 when the registry is consistent with the Lean library, 1 when it is not,
and 2 on usage errors (unknown id, no claims folder, unreadable library).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.claims.approval import approve_claim
from pipeline.claims.graph import to_dot, to_payload
from pipeline.claims.meaning import meaning_pins
from pipeline.claims.models import STATEMENT_KEY, Derived, Estimate, Issue
from pipeline.claims.pin import pin_claim
from pipeline.claims.proof_status import ClaimsReport, evaluate
from pipeline.claims.registry import load_registry, read_registry, relative
from pipeline.commands.context import (
    JsonOption,
    ProjectOption,
    app_context,
    load_settings,
    terminal,
)
from pipeline.commands.terminal import Terminal, escape, styled
from pipeline.errors import ClaimError
from pipeline.evidence.catalog import EVIDENCE_CHECKS
from pipeline.lean.build import build_project
from pipeline.lean.checker import Checker
from pipeline.settings import Settings

claims_app = typer.Typer(help="The claims registry: list, show, check, graph, pin, approve.",
                         no_args_is_help=True)


class GraphFormat(StrEnum):
    dot = "dot"
    json = "json"


def _evaluate(settings: Settings, term: Terminal) -> ClaimsReport:
    term.info("building Formal/ and checking every claim with Lean …")
    with Checker(settings) as checker:
        return evaluate(settings, checker, EVIDENCE_CHECKS)


def _print_issues(term: Terminal, issues: list[Issue]) -> None:
    for issue in issues:
        severity = styled(issue.severity, "bad" if issue.severity == "error" else "warn")
        term.print(f"{severity} {escape(str(issue))}")


@claims_app.command("list")
def list_claims(
    status: Annotated[bool, typer.Option("--status", help="Derive each claim's status (runs Lean).")] = False,
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """List the claims: id, title, Lean declaration, hypotheses."""
    settings, term = app_context(project)
    registry = load_registry(settings)
    labels: dict[str, str] = {}
    if status:
        report = _evaluate(settings, term)
        labels = {s.claim.id: s.label for s in report.claims}
    if json_out:
        term.json([{**c.model_dump(mode="json", by_alias=True, exclude={"path"}),
                    "path": relative(settings, c.path),
                    **({"status": labels.get(c.id)} if status else {})}
                   for c in registry.claims])
        return
    columns = ["id", "title", "hypotheses", "depends on"] + (["status"] if status else [])
    rows = []
    for c in registry.claims:
        checked = sum(1 for h in c.hypotheses if h.check)
        row = [c.id, escape(c.title), f"{checked} checked, {len(c.hypotheses) - checked} assumed",
               ", ".join(c.depends_on) or "-"]
        if status:
            row.append(labels.get(c.id, "-"))
        rows.append(row)
    term.table(f"{len(rows)} claims", columns, rows)


@claims_app.command("show")
def show(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="The claim id.")],
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Show one claim in full: statement, argument, Lean statement, hypotheses."""
    settings, term = app_context(project)
    claim = load_registry(settings).get(claim_id)
    if json_out:
        term.json({**claim.model_dump(mode="json", by_alias=True, exclude={"path"}),
                   "path": relative(settings, claim.path)})
        return
    term.print(f"{styled(claim.id, 'strong')}: {escape(claim.title)}")
    term.print(styled(f"{relative(settings, claim.path)} — source: {claim.source}", "muted"))
    term.rule("statement")
    term.markdown(claim.statement.strip())
    term.rule("argument")
    term.markdown(claim.argument.strip())
    lean = claim.lean
    opens = f"  (open {' '.join(lean.opens)})" if lean.opens else ""
    term.rule("Lean")
    term.print(f"{escape(lean.module)}: {escape(lean.declaration)}{escape(opens)}")
    term.print(escape(lean.statement.strip("\n")))
    term.print(f"witness: {escape(lean.witness)}")
    term.table("pinned definitions", ["definition", "sha256"],
               [[escape(name), digest[:16] + "…"] for name, digest in sorted(lean.definitions.items())])
    if claim.parameters:
        term.rule("parameters")
        for name, value in claim.parameters.items():
            if isinstance(value, Estimate):
                seeds = (f" on calibration seeds {', '.join(map(str, value.calibration_seeds))}"
                         if value.calibration_seeds else "")
                factor = f", times {value.factor:g}" if value.factor != 1 else ""
                shown = f"{value.binding}: estimate {value.estimate}{seeds}{factor}"
            elif isinstance(value, Derived):
                shown = f"derived: {value.derived}"
            else:
                shown = f"claim: {value:g}"
            term.print(f"{escape(name)} = {escape(shown)}")
    term.rule("hypotheses")
    for h in claim.hypotheses:
        term.print(f"{styled(h.binder, 'strong')}: {escape(h.meaning)}")
        if h.check:
            extra = "".join(f", {k} = {v:g}" for k, v in h.settings.items())
            term.print(f"  checked by {escape(h.check)}{escape(extra)}")
        else:
            term.print(f"  assumed: {escape(h.justification or '')}")
    if claim.conclusions:
        term.rule("conclusions")
        for c in claim.conclusions:
            term.print(f"{styled(c.name, 'strong')}: {escape(c.check)}")
            term.print(f"  {escape(c.meaning)}")
    term.print(f"depends on: {', '.join(claim.depends_on) or 'nothing'}")


@claims_app.command("check")
def check_claims(
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Check the registry against Lean: statements, definitions, hypotheses, witnesses, graph."""
    settings, term = app_context(project)
    read_registry(settings)  # a missing claims folder is a usage error, before Lean starts
    report = _evaluate(settings, term)
    if json_out:
        term.json({
            "ok": report.ok,
            "claims": [{"id": s.claim.id, "stated": s.stated, "proved": s.proved,
                        "fully_proved": s.fully_proved,
                        "issues": [i.model_dump(mode="json") for i in s.issues]}
                       for s in report.claims],
            "issues": [i.model_dump(mode="json") for i in report.issues],
        })
    else:
        rows = []
        for s in report.claims:
            rows.append([s.claim.id, styled(s.label, "good" if s.proved else "bad"), s.claim.lean.declaration,
                         str(sum(1 for i in s.issues if i.severity == "error"))])
        term.table("claims", ["id", "status", "declaration", "errors"], rows)
        _print_issues(term, list(report.issues))
        errors = len(report.errors())
        if errors:
            term.print(f"{styled(f'{errors} error(s)', 'bad')} in the claims registry")
        else:
            term.print(f"{styled('consistent', 'good')}: {len(report.claims)} claims, "
                       f"{sum(1 for s in report.claims if s.proved)} proved")
    raise typer.Exit(0 if report.ok else 1)


@claims_app.command("graph")
def graph(
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="Output format.")] = GraphFormat.dot,
    project: Path | None = ProjectOption,
) -> None:
    """Print the dependency graph of the claims (DOT for Graphviz, or JSON)."""
    settings = load_settings(project)
    registry = load_registry(settings)
    nodes = [(c.id, c.title) for c in registry.claims]
    term = terminal()
    if fmt is GraphFormat.json:
        term.json(to_payload(nodes, registry.edges()))
    else:
        term.raw(to_dot(nodes, registry.edges()))


@claims_app.command("pin")
def pin(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="The claim id.")],
    project: Path | None = ProjectOption,
) -> None:
    """Recompute the pins of a claim after an intended, reviewed change, and write them: the
    definitions' source digests and the statement's meaning read from the compiled environment."""
    settings, term = app_context(project)
    claim = load_registry(settings).get(claim_id)
    term.info("building Formal/ to read the statement's meaning from the compiled environment …")
    with Checker(settings, expected_leases=0) as checker:  # one-shot: a build, often up to date
        build = build_project(settings, checker)
        if not build.ok:
            failed = ", ".join(m.module for m in build.failures())
            raise ClaimError(f"Formal/ does not build ({failed}); fix it before pinning")
        env = checker.environment([claim.lean.module])
        if env.get(claim.lean.declaration) is None:
            raise ClaimError(f"{claim.lean.module} has no compiled constant {claim.lean.declaration}")
        meaning = meaning_pins(env, claim.lean.declaration)
    change = pin_claim(settings, claim_id, meaning)
    if change.unchanged:
        term.print(f"{change.file}: pins are up to date")
        return
    for key in change.meaning_changed:
        term.print(f"{styled('~', 'warn')} meaning: {escape(key)}")
    for name in sorted(change.added):
        term.print(f"{styled('+', 'good')} {escape(name)} {change.added[name][:16]}…")
    for name, (old, new) in sorted(change.changed.items()):
        term.print(f"{styled('~', 'warn')} {escape(name)} {old[:16]}… -> {new[:16]}…")
    for name in sorted(change.removed):
        term.print(f"{styled('-', 'bad')} {escape(name)}")
    term.print(f"wrote {change.file}")


@claims_app.command("approve")
def approve(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="The claim id.")],
    by: Annotated[str | None, typer.Option("--by", help="Who approves (recorded).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded).")] = None,
    project: Path | None = ProjectOption,
) -> None:
    """Approve what a claim certifies now, after a reviewed change that weakens or changes it:
    records the digest of its certified content (statement meaning, hypotheses and their
    checks, conclusions, parameters, reference runs, dependencies) as the `\\[approval]` table in its TOML.
    The gate accepts the change only with this approval committed."""
    settings, term = app_context(project)
    result = approve_claim(settings, claim_id, by=by, reason=reason)
    content = result.content
    hypotheses = content.get("hypotheses", {})
    checked = sum(1 for h in hypotheses.values() if h.get("check"))
    term.print(f"{escape(result.file)}: approved {result.claim_id} at {result.approval.digest[:16]}…")
    term.print(f"  statement: {escape(str(content['lean'].get('declaration')))}, meaning "
               f"{str(content['lean'].get('meaning', {}).get(STATEMENT_KEY, 'unpinned'))[:12]}…")
    term.print(f"  hypotheses: {checked} checked, {len(hypotheses) - checked} assumed; conclusions: "
               f"{len(content.get('conclusions', {}))}; parameters: {len(content.get('parameters', {}))}; "
               f"reference runs: {len(content.get('reference_runs', []))}; depends on: "
               f"{', '.join(content.get('depends_on', [])) or 'nothing'}")
    if result.previous == result.approval.digest:
        term.print("  (the same content as the approval it replaces)")
    term.print(f"commit {escape(result.file)} with the change it approves")


COMMAND = claims_app
"""What ``sequent claims`` runs (:mod:`pipeline.commands.app` names it after this module)."""
