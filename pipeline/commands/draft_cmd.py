"""``sequent draft CLAIM_ID [--provider anthropic|openai|replay] [--rounds K] [--tool T]
[--prompt-set DIR] [--json]``.

Exit 0 when Lean accepted a proof, 1 when the loop ended without one, 2 for usage,
environment and provider problems (a missing API key, a provider that kept failing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.agents.config import DEFAULT_ROUNDS, AgentConfig
from pipeline.agents.models import DraftOutcome
from pipeline.agents.prompts import DEFAULT_PROMPTS, PromptSet, load_prompt_set
from pipeline.agents.providers import PROVIDER_NAMES, Provider, make_provider, reviewer_for
from pipeline.agents.providers.replay import RecordingLog
from pipeline.agents.tools import Toolbox, check_tool_names
from pipeline.commands.context import (
    AppContext,
    BuildOption,
    JsonOption,
    ProjectOption,
    app_context,
)
from pipeline.commands.terminal import Terminal, escape, styled
from pipeline.errors import InputError, ProviderError


def draft_command(
    claim_id: Annotated[str, typer.Argument(help="The claim to prove (its id in claims/).")],
    provider_name: Annotated[str, typer.Option(
        "--provider", "-p", help="anthropic, openai or replay (recorded, offline).")] = "anthropic",
    rounds: Annotated[int, typer.Option(
        "--rounds", "-k", help="Most Lean attempts (the first draft counts).")] = DEFAULT_ROUNDS,
    model: Annotated[str | None, typer.Option(
        "--model", help="Model name (default: configured).")] = None,
    recording: Annotated[Path | None, typer.Option(
        "--recording", help="Replay this recording file instead of the packaged one.")] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", help="Save the exchanges of this session as a replay recording.")] = None,
    tool: Annotated[list[str] | None, typer.Option(
        "--tool", help="A read-only tool the model may call: search, declaration (repeatable).")] = None,
    prompt_set: Annotated[Path | None, typer.Option(
        "--prompt-set", help="A folder of prompt templates (system.md, argument.md, proof.md, "
                             "repair.md; default: the built-in prompts).")] = None,
    build: bool = BuildOption,
    json_out: JsonOption = False,
    project: Path | None = ProjectOption,
) -> None:
    """Draft a Lean proof of a claim with a model; Lean checks it; the model repairs it."""
    if provider_name not in PROVIDER_NAMES:
        raise InputError(f"--provider must be one of {', '.join(PROVIDER_NAMES)}, "
                         f"not '{provider_name}'")
    if rounds < 1:
        raise InputError(f"--rounds must be at least 1 (got {rounds})")
    if recording is not None and provider_name != "replay":
        raise InputError("--recording needs --provider replay")
    tools = check_tool_names(tool or ())
    prompts = load_prompt_set(prompt_set) if prompt_set is not None else DEFAULT_PROMPTS
    ctx = app_context(project)
    term = ctx.term
    config = AgentConfig.from_env()
    try:
        outcome = _run(ctx, config, claim_id, provider_name, rounds, model,
                       recording, record, build, tools, prompts)
    except ProviderError as err:
        term.error(str(err))
        raise typer.Exit(2) from err
    if json_out:
        term.json(outcome)
    else:
        _show(term, outcome)
    raise typer.Exit(0 if outcome.accepted else 1)


def _providers(config: AgentConfig, claim_id: str, provider_name: str, model: str | None,
               recording: Path | None, record: Path | None,
               term: Terminal) -> tuple[Provider, Provider | None, RecordingLog | None]:
    """The drafter and the cross-family reviewer. Without ``--record`` the review's key is
    checked here, before any model or Lean time is spent; with it, both are wrapped in a
    recording log (a session without a reviewer's key is recorded without a review)."""
    drafter: Provider = make_provider(provider_name, config, claim_id=claim_id,
                                      recording=recording, model=model)
    if record is None:
        try:
            return drafter, reviewer_for(drafter, config), None
        except ProviderError as err:
            drafter.close()
            raise ProviderError(f"the cross-family review of the statement needs its provider: {err} "
                                "(nothing was drafted)") from err
    log = RecordingLog()
    reviewer: Provider | None = None
    try:
        reviewer = log.wrap(reviewer_for(drafter, config), "reviewer")
    except ProviderError as err:
        term.warn(f"the session will be recorded without a review: {err}")
    return log.wrap(drafter, "drafter"), reviewer, log


def _run(
    ctx: AppContext,
    config: AgentConfig,
    claim_id: str,
    provider_name: str,
    rounds: int,
    model: str | None,
    recording: Path | None,
    record: Path | None,
    build: bool,
    tools: tuple[str, ...] = (),
    prompts: PromptSet = DEFAULT_PROMPTS,
) -> DraftOutcome:
    # Imported here: the loop pulls in the claims registry and the Lean engine.
    from pipeline.agents.loop import draft
    from pipeline.claims.registry import load_registry
    from pipeline.lean.build import build_project
    from pipeline.lean.checker import Checker

    settings, term = ctx
    claim = load_registry(settings).get(claim_id)  # before any Lean process starts
    drafter, reviewer, log = _providers(config, claim_id, provider_name, model, recording, record, term)
    try:
        with ctx.database() as db, Checker(settings) as checker:
            if build and settings.formal_path.is_dir():
                report = build_project(settings, checker)
                for m in report.failures():
                    term.warn(f"{m.path} does not build: "
                              f"{m.result.summary() if m.result else m.skipped_reason}")
            toolbox = (Toolbox(tools, checker.lookup)
                       if tools else None)
            return draft(settings, checker, claim, drafter, rounds, reviewer=reviewer,
                         config=config, db=db, progress=term.info, tools=toolbox, prompts=prompts)
    finally:
        if log is not None and record is not None and log.exchanges:
            path = log.save(record, claim_id,
                            f"sequent draft {claim_id} --provider {provider_name}")
            term.info(f"recording saved to {path}")
        drafter.close()
        if reviewer is not None:
            reviewer.close()


def _show(term: Terminal, outcome: DraftOutcome) -> None:
    rows = []
    for a in outcome.attempts:
        result = a.check.summary() if a.check else (a.error or "")
        cost = f"${a.cost_usd:.4f}" if a.cost_usd is not None else "unpriced"
        rows.append([str(a.index), a.kind, a.outcome, escape(result[:60]),
                     f"{a.input_tokens}/{a.output_tokens}", cost,
                     f"{a.model_s + a.check_s:.1f}s"])
    term.table(f"draft {outcome.claim_id} ({outcome.provider} {escape(outcome.model)})",
               ["#", "step", "outcome", "detail", "tokens in/out", "cost", "time"], rows)
    term.print(f"{styled(outcome.status, 'good' if outcome.accepted else 'bad')} after {len(outcome.lean_attempts)} of "
               f"{outcome.rounds} Lean attempts")
    if outcome.proof is not None:
        pinned = "" if outcome.proof.statement_pinned else " (statement drafted: pin it first)"
        term.print(f"proof saved to {escape(str(outcome.proof.path))}{pinned}")
    if outcome.review is not None:
        j = outcome.review.judgement
        term.print(f"review by {outcome.review.reviewer_family} "
                   f"{escape(outcome.review.reviewer_model)}: {styled(j.verdict, 'strong')} — "
                   f"{escape(j.summary)}")
        for d in j.discrepancies:
            term.print(f"  • {escape(d.element)}: {escape(d.problem)}")
        if outcome.review.flagged:
            term.print(styled("flagged for a human: the statement may not say what the claim says",
                              "warn"))
    elif outcome.review_error:
        term.warn(f"not reviewed: {outcome.review_error}")
    unpriced = f" (unpriced: {', '.join(outcome.unpriced_models)})" if outcome.unpriced_models else ""
    term.print(f"tokens {outcome.input_tokens} in / {outcome.output_tokens} out, "
               f"cost ${outcome.cost_usd:.4f}{unpriced}, {outcome.elapsed_s:.1f}s")


COMMAND = draft_command
"""What ``sequent draft`` runs (:mod:`pipeline.commands.app` names it after this module)."""
