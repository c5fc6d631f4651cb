"""Runs of an A/B test: every (task, seed, variant) through the real drafting loop.

Each trial runs :func:`pipeline.agents.loop.draft` on the task as a claim
(:func:`pipeline.ab.suite.task_claim`): the pipeline assembles the submission around the
pinned statement and the audited checker decides it, with the task's declaration
``uncitable`` (a proof that reaches its own target is rejected). Trials are written to the
database one by one; a run resumes where it stopped (trials already recorded are skipped).

Order: task by task, and within a task every seed of every variant, so that the pairs are
complete whenever the run stops. ``stop_early`` stops when the sequential test
(:mod:`pipeline.ab.stats`, an always-valid e-value) decides for some pair of variants, at a
level corrected for the number of pairs (Bonferroni on e-values).

A variant's prompt set is read once at the start (:func:`resolve_variant`: its digest joins the
variant's), its tools are offered through a :class:`~pipeline.agents.tools.Toolbox` over one
look-up per run. ``RunOptions.record_dir`` saves every live trial as a replay recording
(``<dir>/<variant>/<task slug>.json``) and writes ``<dir>/<variant>.json``, the replay variant
that plays them back offline.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from pipeline.ab import stats, store
from pipeline.ab.models import Suite, Task, TrialRecord, Variant
from pipeline.ab.suite import task_claim, task_slug
from pipeline.agents.config import AgentConfig
from pipeline.agents.loop import draft
from pipeline.agents.models import Completion, Prompt
from pipeline.agents.prompts import DEFAULT_PROMPTS, PromptSet, load_prompt_set
from pipeline.agents.providers import make_provider, reviewer_for
from pipeline.agents.providers.base import Provider
from pipeline.agents.providers.replay import RecordingLog
from pipeline.agents.tools import Toolbox
from pipeline.errors import InputError, SequentError
from pipeline.lean.checker import Checker
from pipeline.lean.olean.lookup import Lookup
from pipeline.settings import Settings
from pipeline.store.db import Database

Progress = Callable[[str], None]


class InstructedProvider:
    """A drafter whose system prompt gets the variant's extra instructions (after its prompt set's
    system text)."""

    def __init__(self, inner: Provider, instructions: str) -> None:
        self.inner, self.instructions = inner, instructions
        self.name, self.family, self.model = inner.name, inner.family, inner.model

    def complete(self, prompt: Prompt) -> Completion:
        system = f"{prompt.system}\n\n{self.instructions}" if self.instructions else prompt.system
        return self.inner.complete(prompt.model_copy(update={"system": system}))

    def close(self) -> None:
        self.inner.close()


@dataclass
class RunOptions:
    seeds: int = 1
    budget_usd: float | None = None
    max_trials: int | None = None
    stop_early: bool = False
    alpha: float = stats.ALPHA
    record_dir: Path | None = None
    """Save each live trial as a replay recording here (see the module docstring)."""
    http_client: Callable[[], object] | None = field(default=None, repr=False)
    """Tests only: makes the httpx client of each trial's live providers (a mock transport at the
    network edge; a fresh one per trial, since closing a provider closes its client)."""


def _folder(settings: Settings, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else settings.project_root / path


def prompt_set_of(settings: Settings, variant: Variant) -> PromptSet:
    """The variant's prompt set: the built-in one, or its folder (relative: to the project)."""
    if variant.prompt_set == "default":
        return DEFAULT_PROMPTS
    return load_prompt_set(_folder(settings, variant.prompt_set))


def resolve_variant(settings: Settings, variant: Variant) -> Variant:
    """``variant`` with the digest of its prompt set filled in; InputError when the folder is
    unusable or no longer holds the templates a given digest names."""
    try:
        digest = prompt_set_of(settings, variant).digest
    except InputError as exc:
        raise InputError(f"variant {variant.name}: {exc}") from exc
    if variant.prompt_digest is not None and variant.prompt_digest != digest:
        raise InputError(f"variant {variant.name}: the prompt set {variant.prompt_set} changed "
                         f"(digest {digest[:12]}, the variant names {variant.prompt_digest[:12]})")
    return variant.model_copy(update={"prompt_digest": digest})


def _recording(settings: Settings, variant: Variant, task: Task) -> Path:
    if variant.recordings_dir is None:
        raise InputError(f"variant {variant.name}: a replay variant needs recordings_dir")
    return _folder(settings, variant.recordings_dir) / f"{task_slug(task.id)}.json"


def _providers(settings: Settings, config: AgentConfig, variant: Variant, task: Task,
               http_client: object | None, log: RecordingLog | None
               ) -> tuple[Provider, Provider | None]:
    recording = _recording(settings, variant, task) if variant.provider == "replay" else None
    drafting = config.model_copy(update={"temperature": variant.temperature})
    inner = make_provider(variant.provider, drafting, claim_id=task_slug(task.id),
                          recording=recording, model=variant.model,
                          http_client=http_client)  # type: ignore[arg-type]
    reviewer = reviewer_for(inner, config, http_client=http_client) if variant.reviewer else None  # type: ignore[arg-type]
    if log is not None:  # records what the model is asked (instructions included) and says
        inner = log.wrap(inner, "drafter")
        reviewer = log.wrap(reviewer, "reviewer") if reviewer is not None else None
    drafter: Provider = InstructedProvider(inner, variant.instructions)
    return drafter, reviewer


def recording_folder(record_dir: Path, variant: Variant) -> Path:
    """Where ``--record`` puts a live variant's recordings: ``<dir>/<variant name>``."""
    return record_dir / variant.name


def replay_variant(variant: Variant) -> Variant:
    """The replay variant that plays back what ``--record`` saved of ``variant`` (same prompt
    set, instructions, budget, reviewer and tools; the recorded models)."""
    return variant.model_copy(update={"provider": "replay", "model": None, "temperature": None,
                                      "recordings_dir": variant.name})


def _write_replay_variant(record_dir: Path, variant: Variant) -> None:
    path = record_dir / f"{variant.name}.json"
    try:
        record_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(replay_variant(variant).model_dump(mode="json", exclude_none=True),
                                   indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


def trial(settings: Settings, checker: Checker, config: AgentConfig, db: Database, run_id: str,
          task: Task, variant: Variant, seed: int, http_client: Callable[[], object] | None = None, *,
          lookup: Callable[[], Lookup] | None = None, record_dir: Path | None = None) -> TrialRecord:
    """One (task, variant, seed): the drafting loop's outcome as a record. A provider or
    Lean failure is an ``error`` trial (never a failure of the variant). ``lookup`` backs the
    variant's tools; ``record_dir``: save a live trial as a replay recording (not an error
    trial: its replay would not be the same run)."""
    started = time.monotonic()
    base = {"run_id": run_id, "task_id": task.id, "variant": variant.name, "seed": seed}
    drafter: Provider | None = None
    reviewer: Provider | None = None
    log = RecordingLog() if record_dir is not None and variant.provider != "replay" else None
    tools = None
    if variant.tools:
        tools = Toolbox(variant.tools, lookup or checker.lookup,
                        variant.tool_rounds)
    try:
        prompts = prompt_set_of(settings, variant)
        drafter, reviewer = _providers(settings, config, variant, task,
                                       http_client() if http_client is not None else None, log)
        outcome = draft(settings, checker, task_claim(settings, task), drafter,
                        variant.attempts, reviewer=reviewer, config=config, db=db,
                        review=variant.reviewer, tools=tools, prompts=prompts)
    except SequentError as exc:
        return TrialRecord(**base, verdict="error", success=False, attempts=0, lean_s=0.0,
                           wall_s=time.monotonic() - started, error=str(exc)[:2000])
    finally:
        for p in (drafter, reviewer):
            if p is not None:
                p.close()
    if log is not None and record_dir is not None:
        slug = task_slug(task.id)
        log.save(recording_folder(record_dir, variant) / f"{slug}.json", slug,
                 f"sequent ab run: task {task.id}, variant {variant.name} (digest "
                 f"{variant.digest[:12]}), seed {seed}")
    lean = [a for a in outcome.attempts if a.index >= 1]
    review = outcome.review
    return TrialRecord(
        **base, verdict=outcome.status, success=outcome.accepted,
        attempts=len(lean), lean_s=sum(a.check_s for a in lean),
        wall_s=time.monotonic() - started, input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        cost_usd=None if outcome.unpriced_models else outcome.cost_usd,
        reviewer_agrees=None if review is None else review.judgement.verdict == "faithful",
        session_id=outcome.session_id,
    )


def _decided(records: list[TrialRecord], variants: list[Variant], alpha: float) -> bool:
    """The sequential test (e-value) crossed for some pair, Bonferroni over the pairs."""
    pairs = list(combinations([v.name for v in variants], 2))
    by_key = {(r.task_id, r.seed, r.variant): r for r in records if r.verdict != "error"}
    units = sorted({(r.task_id, r.seed) for r in records})
    for a, b in pairs:
        a_only = b_only = 0
        for unit in units:
            ra, rb = by_key.get((*unit, a)), by_key.get((*unit, b))
            if ra is None or rb is None or ra.success == rb.success:
                continue
            a_only, b_only = (a_only + 1, b_only) if ra.success else (a_only, b_only + 1)
        if stats.e_value(b_only, a_only) >= len(pairs) / alpha:
            return True
    return False


def _refuse_bad_plan(variants: list[Variant], options: RunOptions) -> None:
    """:class:`InputError` for a plan that could not give evidence: fewer than two distinct
    variants, no seed, several seeds of a deterministic replay, recording several seeds."""
    names = [v.name for v in variants]
    if len(set(names)) != len(names) or len(variants) < 2:
        raise InputError("an A/B run needs at least two variants with different names")
    if options.seeds < 1:
        raise InputError("--seeds must be at least 1")
    if options.seeds > 1 and any(v.provider == "replay" for v in variants):
        raise InputError("a replay variant is deterministic: more seeds would repeat the same "
                         "outcome and count it as independent evidence; use --seeds 1")
    if options.record_dir is not None and options.seeds > 1:
        raise InputError("--record saves one recording per (task, variant), which replay plays "
                         "with one seed; record with --seeds 1")


def run_ab(settings: Settings, checker: Checker, config: AgentConfig, db: Database, suite: Suite,
           variants: list[Variant], options: RunOptions, *, run_id: str | None = None,
           progress: Progress | None = None) -> str:
    """Run (or resume ``run_id``) and return the run's id."""
    say = progress or (lambda _m: None)
    _refuse_bad_plan(variants, options)
    variants = [resolve_variant(settings, v) for v in variants]
    if run_id is None:
        run_id = uuid.uuid4().hex[:12]
        store.create_run(db, run_id, suite, variants, options.seeds)
    else:
        info = store.get_run(db, run_id)
        if info.suite_digest != suite.digest:
            raise InputError(f"run {run_id} was made on suite digest {info.suite_digest[:12]}, "
                             f"not {suite.digest[:12]}: the tasks changed, start a new run")
        if [v.digest for v in info.variants] != [v.digest for v in variants]:
            raise InputError(f"run {run_id}: its variants differ from those given")
        options.seeds = info.seeds
    if options.record_dir is not None:
        for v in variants:
            if v.provider != "replay":
                _write_replay_variant(options.record_dir, v)
    lookup = checker.lookup  # one per checker
    records = store.trials(db, run_id)
    done = {(r.task_id, r.variant, r.seed) for r in records}
    spent = sum(r.cost_usd or 0.0 for r in records)
    made = 0
    for task in suite.tasks:
        for seed in range(options.seeds):
            for variant in variants:
                if (task.id, variant.name, seed) in done:
                    continue
                if options.budget_usd is not None and spent >= options.budget_usd:
                    say(f"budget of ${options.budget_usd:.2f} spent; run {run_id} can be resumed")
                    return run_id
                if options.max_trials is not None and made >= options.max_trials:
                    say(f"{made} trials made; run {run_id} can be resumed")
                    return run_id
                record = trial(settings, checker, config, db, run_id, task, variant, seed,
                               options.http_client, lookup=lookup, record_dir=options.record_dir)
                store.record_trial(db, record)
                records.append(record)
                made += 1
                spent += record.cost_usd or 0.0
                say(f"{task.id} · {variant.name} · seed {seed}: {record.verdict}"
                    + (f" ({record.error})" if record.error else ""))
        if options.stop_early and _decided(records, variants, options.alpha):
            store.set_status(db, run_id, "stopped")
            say("the sequential test decided; stopping early (always-valid e-value)")
            return run_id
    store.set_status(db, run_id, "complete")
    return run_id


__all__ = ["InstructedProvider", "RunOptions", "prompt_set_of", "recording_folder", "replay_variant",
           "resolve_variant", "run_ab", "trial"]
