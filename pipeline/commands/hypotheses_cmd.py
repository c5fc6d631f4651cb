"""``sequent hypotheses``: evaluate claims' empirical hypotheses on runs, import runs, run the
reference experiments and their controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.commands.context import JsonOption, ProjectOption, app_context, terminal
from pipeline.commands.terminal import Tone, styled
from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.claims.registry import Registry
    from pipeline.commands.terminal import Terminal
    from pipeline.evidence.models import HypothesisVerdict

hypotheses_app = typer.Typer(help="Empirical hypotheses: check runs, import runs, experiments.",
                             no_args_is_help=True)

_TONE: dict[str, Tone] = {"holds": "good", "fails": "bad", "inconclusive": "warn", "error": "alarm"}


def _config(config_json: str | None) -> dict[str, Any] | None:
    if config_json is None:
        return None
    source = config_json
    if not config_json.lstrip().startswith("{"):
        path = Path(config_json)
        if not path.is_file():
            raise InputError(f"--config: {path} is not a file (or give a JSON object inline)")
        try:
            source = path.read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"--config: {path} is not UTF-8") from exc
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise InputError(f"--config: malformed JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InputError("--config must be a JSON object")
    return value


@hypotheses_app.command("check")
def check_hypotheses(
    run: Annotated[Path | None, typer.Option("--run", help="Run directory.")] = None,
    group: Annotated[Path | None, typer.Option(
        "--group", help="Run-group directory: one run directory per seed, pooled.")] = None,
    claim: Annotated[str | None, typer.Option("--claim", help="Only this claim.")] = None,
    check_name: Annotated[list[str] | None, typer.Option(
        "--check", help="Evaluate this check (module:function) directly, without the "
                        "claims registry. Repeatable.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write verdicts here.")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Do not draw PNGs.")] = False,
    project: Path | None = ProjectOption,
) -> None:
    """Evaluate every empirical hypothesis and conclusion of every claim (or of one) on a run
    or a run group; store verdicts. Exits 1 on a soundness alarm (every hypothesis of a claim
    holds and one of its conclusions fails)."""
    from pipeline.evidence.evaluate import check_run, soundness_alarms

    if (run is None) == (group is None):
        raise InputError("give exactly one of --run RUN_DIR or --group DIR")
    target: Path = run if run is not None else group  # type: ignore[assignment]
    settings, term = app_context(project)
    registry = None
    if not check_name:
        from pipeline.claims.registry import load_registry

        registry = load_registry(settings)
    verdicts = check_run(settings, registry, target, claim, plots=not no_plots,
                         checks=tuple(check_name or ()), group=group is not None)
    if not verdicts:
        term.warn("no empirical hypotheses to check" + (f" for claim {claim}" if claim else ""))
    alarms = soundness_alarms(verdicts, registry)
    for claim_id, run_id, conclusion in alarms:
        term.error(f"SOUNDNESS ALARM: every hypothesis of {claim_id} holds on run {run_id} but "
                   f"its conclusion {conclusion} fails: the checks or the formalization are "
                   "wrong")
    rows = [[v.claim_id, v.binder + (" (conclusion)" if v.role == "conclusion" else ""),
             styled(v.outcome, _TONE[v.outcome])
             + (" " + styled("(proxy)", "muted") if v.kind == "proxy" else ""),
             "" if v.value is None else f"{v.value:.4g}",
             "" if v.ci is None else f"[{v.ci.low:.4g}, {v.ci.high:.4g}] {v.ci.method}",
             str(v.n), v.reason, _bound(v)] for v in verdicts]
    term.table(f"Hypotheses on run {verdicts[0].run_id if verdicts else target}",
               ["claim", "hypothesis", "outcome", "statistic", "95% CI", "n", "reason",
                "parameters (binding)"], rows)
    for v in verdicts:
        if v.details.get("warnings"):
            term.warn(f"{v.claim_id} {v.binder}: {v.details['warnings']}")
    if registry is not None:
        _labels(term, verdicts, registry)
    if json_out is not None:
        payload = [v.model_dump(mode="json") for v in verdicts]
        try:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {json_out}: {exc.strerror or exc}") from exc
        term.info(f"wrote {json_out}")
    if alarms:
        raise typer.Exit(1)


def _labels(term: Terminal, verdicts: list[HypothesisVerdict], registry: Registry) -> None:
    """What each claim's verdicts on the run mean, on the evidence alone (the proof is
    ``sequent claims``' part): applies, or why not — a conclusion unverified, a certified
    bound vacuous, a hypothesis that does not hold."""
    from pipeline.evidence.evaluate import application, vacuous_conclusions

    by_claim: dict[str, list[HypothesisVerdict]] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim_id, []).append(v)
    for claim_id, group in by_claim.items():
        claim = registry.get(claim_id)
        result = application(True, group,
                             [h.binder for h in claim.hypotheses if h.check and not h.assumed],
                             conclusions=[c.name for c in claim.conclusions],
                             vacuous=vacuous_conclusions(claim, group))
        which = (*result.vacuous, *result.unverified) if result.hypotheses_hold else ()
        term.info(f"{claim_id} on the evidence: {result.label}"
                  + (f" ({', '.join(which)})" if which else ""))


def _bound(verdict: HypothesisVerdict) -> str:
    """The theorem variables a verdict used and where each came from (its provenance)."""
    return "; ".join(f"{name} = {value:.4g} ({verdict.provenance.get(name, 'claim')})"
                     for name, value in sorted(verdict.parameters.items())
                     if name in verdict.provenance)


@hypotheses_app.command("list")
def list_checks(
    json_out: JsonOption = False,
) -> None:
    """List the built-in hypothesis checks and what each needs from a run."""
    from pipeline.evidence.checks import all_checks
    from pipeline.evidence.estimators import ESTIMATORS

    term = terminal()
    if json_out:
        term.json({
            "checks": [{"name": s.name, "kind": s.kind, "statistic": s.statistic, "needs": s.needs,
                        "variables": list(s.parameters),
                        "settings": {k: v.default for k, v in s.settings.items()}}
                       for s in all_checks().values()],
            "estimators": [{"name": e.name, "description": e.description} for e in ESTIMATORS.values()],
        })
        return
    term.table("Hypothesis checks", ["check", "kind", "statistic", "needs", "variables",
                                     "settings (default)"],
               [[s.name, s.kind, s.statistic, s.needs, ", ".join(s.parameters),
                 ", ".join(f"{k} ({v.default:g})" for k, v in s.settings.items())]
                for s in all_checks().values()])
    term.table("Estimators (claim [parameters] { estimate = ..., binding = ... })",
               ["name", "what", "bindings"],
               [[e.name, e.description, ", ".join(sorted(e.bindings))]
                for e in ESTIMATORS.values()])


@hypotheses_app.command("import")
def import_cmd(
    fmt: Annotated[str, typer.Argument(help="csv | jsonl | tensorboard | mlflow | wandb")],
    source: Annotated[Path, typer.Argument(help="File, TensorBoard log folder, MLflow store.")],
    out: Annotated[Path, typer.Option("--out", help="New run directory.")],
    mlflow_run: Annotated[str | None, typer.Option("--mlflow-run")] = None,
    config_json: Annotated[str | None, typer.Option(
        "--config", help="Run config: a JSON object or a JSON file.")] = None,
    kind: Annotated[str, typer.Option("--kind")] = "training",
) -> None:
    """Import metrics logged elsewhere into a run directory."""
    from pipeline.evidence.importers import import_run

    result = import_run(fmt, source, out, config=_config(config_json), kind=kind,
                        mlflow_run=mlflow_run)
    term = terminal()
    term.print(f"imported {result.n_steps} steps, columns {', '.join(result.metrics)} → {out}")
    for note in result.provenance.notes:
        term.warn(note)


@hypotheses_app.command("experiment")
def experiment(
    name: Annotated[str, typer.Argument(help="Reference experiment, or 'list'.")],
    out: Annotated[Path | None, typer.Option("--out", help="New run directory.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="A few seconds instead of minutes.")
                     ] = False,
    variant: Annotated[str, typer.Option("--variant", help="reference or a control variant")
                       ] = "reference",
) -> None:
    """Run a reference experiment (or one of its control variants) into a run directory."""
    from experiments import REFERENCE  # PyTorch: imported only when an experiment runs
    from experiments.controls import CONTROLS

    term = terminal()
    if name == "list":
        rows = [[pos.check, f"{pos.experiment} --variant {pos.variant}",
                 f"{neg.experiment} --variant {neg.variant}"] for pos, neg in CONTROLS.values()]
        term.table("Controls", ["check", "positive", "negative"], rows)
        term.print("experiments: " + ", ".join(REFERENCE))
        return
    if name not in REFERENCE:
        raise InputError(f"unknown experiment {name!r}; choose one of {', '.join(REFERENCE)}")
    if out is None:
        raise InputError("--out RUN_DIR is required")
    path = REFERENCE[name](out, seed, quick, variant=variant)
    term.print(f"run written to {path}")


COMMAND = hypotheses_app
"""What ``sequent hypotheses`` runs (:mod:`pipeline.commands.app` names it after this module)."""


__all__ = ["COMMAND", "hypotheses_app"]
