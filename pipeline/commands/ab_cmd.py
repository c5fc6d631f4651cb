"""``sequent ab``: A/B tests of the drafting automation.

``suite`` lists a suite's tasks (never their hidden proofs), ``run`` runs variants over a
suite through the real drafting loop and the audited checker, ``compare`` gives the paired
analysis of a run, ``runs`` lists runs, ``plan`` sizes a run, ``validate`` simulates
providers with known success probabilities and measures the tests' error rates.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from pipeline.commands.context import BuildOption, JsonOption, ProjectOption, app_context
from pipeline.commands.terminal import Terminal
from pipeline.errors import InputError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.ab.compare import Comparison
    from pipeline.ab.models import Suite

ab_app = typer.Typer(help="A/B tests of the drafting automation: suite, run, compare, plan, validate.",
                     no_args_is_help=True)

SuiteOption = typer.Option("--suite", help="'sequent' (built from this project) or a suite JSON file.")
TaskOption = typer.Option("--task", help="Only tasks whose id starts with this (repeatable).")


def _suite(settings: Settings, name: str, prefixes: list[str] | None) -> Suite:
    from pipeline.ab.models import Suite
    from pipeline.ab.suite import shipped_suite

    if name == "sequent":
        suite = shipped_suite(settings)
    else:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"--suite must be 'sequent' or a suite JSON file; {name} is neither")
        try:
            suite = Suite.model_validate_json(path.read_text(encoding="utf-8"))
        except (ValidationError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a suite: {str(exc).splitlines()[0]}") from exc
    selected = suite.select(tuple(prefixes or ()))
    if not selected.tasks:
        raise InputError("no task of the suite matches --task " + " ".join(prefixes or ()))
    return selected


@ab_app.command("suite")
def suite_command(
    suite: Annotated[str, SuiteOption] = "sequent",
    task: Annotated[list[str] | None, TaskOption] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON (without the hidden proofs).")] = False,
    project: Path | None = ProjectOption,
) -> None:
    """List a suite's tasks and its digest (the reference proofs stay hidden)."""
    ctx = app_context(project)
    chosen = _suite(ctx.settings, suite, task)
    tasks = [t.model_dump(mode="json", exclude={"reference_proof"}) for t in chosen.tasks]
    if json_out:
        ctx.term.json({"name": chosen.name, "version": chosen.version, "digest": chosen.digest,
                       "tasks": tasks})
        return
    ctx.term.table(f"suite {chosen.name} v{chosen.version} ({len(tasks)} tasks, digest {chosen.digest[:12]})",
                   ["task", "kind", "difficulty"],
                   [[t.id, t.kind, str(t.difficulty or "")] for t in chosen.tasks])


@ab_app.command("run")
def run_command(
    variant: Annotated[list[str], typer.Option("--variant", help="A variant file (.toml/.json); two or more.")],
    suite: Annotated[str, SuiteOption] = "sequent",
    task: Annotated[list[str] | None, TaskOption] = None,
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per (task, variant).")] = 1,
    budget: Annotated[float | None, typer.Option("--budget", help="Stop once this many USD are spent.")] = None,
    max_trials: Annotated[int | None, typer.Option("--max-trials", help="Stop after this many trials.")] = None,
    stop_early: Annotated[bool, typer.Option("--stop-early", help="Stop when the always-valid sequential test decides.")] = False,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue this run.")] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", help="Save each live trial as a replay recording in this folder, with a replay "
                         "variant file per live variant (<dir>/<name>.json).")] = None,
    build: bool = BuildOption,
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Run every (task, variant, seed) through the drafting loop and the audited checker."""
    from pipeline.ab import store
    from pipeline.ab.compare import compare
    from pipeline.ab.run import RunOptions, resolve_variant, run_ab
    from pipeline.ab.variant_file import load_variant
    from pipeline.agents.config import AgentConfig
    from pipeline.lean.build import build_project
    from pipeline.lean.checker import Checker

    ctx = app_context(project)
    chosen = _suite(ctx.settings, suite, task)
    loaded = [load_variant(Path(v)) for v in variant]
    # prompt sets read (and refused) before any Lean time is spent
    variants = [resolve_variant(ctx.settings, v) for v in loaded]
    options = RunOptions(seeds=seeds, budget_usd=budget, max_trials=max_trials, stop_early=stop_early,
                         record_dir=record.resolve() if record is not None else None)
    with ctx.database() as db:
        with Checker(ctx.settings) as checker:
            if build and ctx.settings.formal_path.is_dir() and any(t.kind != "core" for t in chosen.tasks):
                report = build_project(ctx.settings, checker)
                for m in report.failures():
                    ctx.term.warn(f"{m.path} does not build")
            run_id = run_ab(ctx.settings, checker, AgentConfig.from_env(), db, chosen,
                            variants, options, run_id=resume, progress=ctx.term.info)
        result = compare(store.get_run(db, run_id), store.trials(db, run_id))
    if json_out:
        ctx.term.json(result)
    else:
        _show(ctx.term, result)
        ctx.term.info(f"run {run_id}: `sequent ab compare {run_id}`")
    if record is not None:
        ctx.term.info(f"recordings in {record}: replay with `sequent ab run` and the variant files "
                      f"{record}/<variant>.json")


@ab_app.command("compare")
def compare_command(
    run: Annotated[str, typer.Argument(help="The run's id (see `sequent ab runs`).")],
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Paired analysis of a run: exact McNemar test, e-value, Holm, bootstrap intervals."""
    from pipeline.ab import store
    from pipeline.ab.compare import compare

    ctx = app_context(project)
    with ctx.database() as db:
        result = compare(store.get_run(db, run), store.trials(db, run))
    if json_out:
        ctx.term.json(result)
    else:
        _show(ctx.term, result)


@ab_app.command("runs")
def runs_command(
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """The A/B runs of this project."""
    from pipeline.ab import store

    ctx = app_context(project)
    with ctx.database() as db:
        runs = store.list_runs(db)
    if json_out:
        ctx.term.json([r.model_dump(mode="json") for r in runs])
        return
    ctx.term.table("A/B runs", ["run", "suite", "variants", "seeds", "status", "created"],
                   [[r.id, f"{r.suite_name} {r.suite_digest[:12]}", ", ".join(v.name for v in r.variants),
                     str(r.seeds), r.status, r.created_at.isoformat(timespec="seconds")] for r in runs])


@ab_app.command("plan")
def plan_command(
    p_a: Annotated[float, typer.Option("--p-a", help="Success rate of A.")],
    p_b: Annotated[float, typer.Option("--p-b", help="Success rate of B.")],
    power: Annotated[float, typer.Option("--power")] = 0.8,
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    json_out: JsonOption = False,
) -> None:
    """How many (task, seed) pairs detect p_b vs p_a (exact test, and sequential)."""
    from pipeline.ab.stats import plan

    if not (0 < alpha < 1 and 0 < power < 1):
        raise InputError("--alpha and --power must lie strictly between 0 and 1")
    try:
        found = plan(p_a, p_b, alpha=alpha, target_power=power, limit=5000)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    term = Terminal()
    if json_out:
        term.json(found)
        return
    if not (found.reached and found.reached_sequential):
        term.warn(f"the target power is not reached within {found.pairs} pairs")
    term.text(f"exact paired test: {found.pairs} pairs (power {found.power:.3f}); "
              f"sequential (peek after every pair): {found.pairs_sequential} pairs at most "
              f"(power {found.power_sequential:.3f}); {found.assumption}")


@ab_app.command("validate")
def validate_command(
    seed: Annotated[int, typer.Option("--seed")] = 20261207,
    simulations: Annotated[int, typer.Option("--simulations", help="Per figure (≥ 200).")] = 400,
    json_out: JsonOption = False,
) -> None:
    """Simulate providers with known per-task success probabilities; measure the tests."""
    from pipeline.ab.stats import validate

    if simulations < 200:
        raise InputError("--simulations must be at least 200")
    found = validate(seed=seed, simulations=simulations)
    term = Terminal()
    if json_out:
        term.json(found)
        return
    term.text(f"false significant rate {found.false_significant_rate:.3f} (≤ 0.05), power "
              f"{found.power:.3f} (≥ 0.80) at {found.pairs} pairs; sequential: "
              f"{found.false_significant_rate_sequential:.3f}, {found.power_sequential:.3f} "
              f"at ≤ {found.pairs_sequential} pairs; {found.simulations} simulations each")


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _show(term: Terminal, result: Comparison) -> None:
    term.table(f"A/B run {result.run_id} on {result.suite} ({result.status})",
               ["variant", "trials", "errors", "success", "attempts", "wall s", "Lean s", "cost $", "reviewer agrees"],
               [[v.name, str(v.trials), str(v.errors), _fmt(v.success_rate), _fmt(v.mean_attempts_to_accept),
                 _fmt(v.mean_wall_s, 1), _fmt(v.mean_lean_s, 1), _fmt(v.total_cost_usd, 4),
                 _fmt(v.reviewer_agreement)] for v in result.variants])
    term.table("paired comparisons (B − A)",
               ["A", "B", "pairs", "A only", "B only", "difference [95 %]", "exact p", "Holm p", "e-value", "verdict"],
               [[p.a, p.b, str(p.test.n_pairs), str(p.test.a_only), str(p.test.b_only),
                 f"{p.test.difference:+.3f} [{p.test.difference_ci[0]:+.3f}, {p.test.difference_ci[1]:+.3f}]",
                 f"{p.test.p_value:.4f}", f"{p.p_holm:.4f}", f"{p.test.e_value:.2f}",
                 "significant" if p.significant else "inconclusive"] for p in result.pairs])


COMMAND = ab_app
"""What ``sequent ab`` runs (:mod:`pipeline.commands.app` names it after this module)."""
