"""The boundary types of A/B tests: tasks, suites, variants, per-attempt records."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.agents.models import Usage
from pipeline.agents.tools import DEFAULT_TOOL_ROUNDS, KNOWN_TOOLS
from pipeline.models import Frozen

TaskKind = Literal["claim", "formal", "core"]
VARIANT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def json_digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class Task(Frozen):
    """One pinned statement to prove. ``reference_proof`` is the hidden answer: it is never
    part of a prompt (the drafter sees the statement and, for a project module, the module
    with this declaration's proof removed)."""

    id: str
    """Stable: ``claim:<claim id>``, ``formal:<declaration>`` or ``core:<theorem>``."""
    kind: TaskKind
    module: str
    """The module the assembled submission imports (``Init`` for core tasks)."""
    declaration: str
    """The target: a submission whose compiled proof reaches it is rejected (self-citation)."""
    statement: str
    opens: tuple[str, ...] = ()
    difficulty: int | None = None
    reference_proof: str = Field(default="", repr=False)

    @property
    def public_digest(self) -> str:
        """What a drafter is asked to prove, hashed (with the reference proof's hash)."""
        return json_digest({"id": self.id, "module": self.module, "declaration": self.declaration,
                        "statement": self.statement, "opens": list(self.opens),
                        "proof": hashlib.sha256(self.reference_proof.encode()).hexdigest()})


class Suite(Frozen):
    name: str
    version: str
    tasks: tuple[Task, ...]

    @property
    def digest(self) -> str:
        return json_digest({"name": self.name, "version": self.version,
                        "tasks": [t.public_digest for t in self.tasks]})

    def get(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def select(self, prefixes: tuple[str, ...]) -> Suite:
        """The tasks whose id starts with one of ``prefixes`` (all when empty)."""
        if not prefixes:
            return self
        kept = tuple(t for t in self.tasks if any(t.id.startswith(p) for p in prefixes))
        return self.model_copy(update={"tasks": kept})


class Variant(Frozen):
    """A named configuration of the drafting pipeline."""

    name: str = Field(pattern=VARIANT_NAME)
    provider: Literal["anthropic", "openai", "replay"] = "replay"
    model: str | None = None
    prompt_set: str = "default"
    """``default`` (the built-in templates) or a folder of prompt templates (``system.md``,
    ``argument.md``, ``proof.md``, ``repair.md``; :func:`pipeline.agents.prompts.load_prompt_set`),
    relative to the variant file. Its content is in the digest through ``prompt_digest``."""
    prompt_digest: str | None = None
    """SHA-256 of the prompt set's templates, filled in when the variant is loaded or run
    (:func:`pipeline.ab.run.resolve_variant`); a given one must match the files."""
    instructions: str = ""
    """Added to every system prompt of the drafter (after the prompt set's system text)."""
    skill_version: str | None = None
    """A label for the version of the skill or guidance the variant stands for (recorded)."""
    rounds: int = Field(default=4, ge=1, le=20)
    """Attempt budget: Lean attempts per session (the first draft counts)."""
    repair: bool = True
    """False: one attempt only (no repair rounds, whatever ``rounds`` says)."""
    reviewer: bool = True
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sent to the drafting model (not the reviewer); ``None``: the provider's default. Only the
    OpenAI provider takes one (Anthropic's Messages API has no temperature, replay samples
    nothing), so elsewhere it is refused rather than recorded as if it made a difference."""
    tools: tuple[str, ...] = ()
    """Read-only tools the drafter may call (:data:`pipeline.agents.tools.KNOWN_TOOLS`:
    ``search``, ``declaration``), through the provider's native tool calling; empty: none."""
    tool_rounds: int = Field(default=DEFAULT_TOOL_ROUNDS, ge=1, le=10)
    """Most tool rounds per request (used only when ``tools`` is not empty)."""
    recordings_dir: str | None = None
    """Replay: the folder of ``<task file name>.json`` recordings of this variant."""

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, tools: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in tools if t not in KNOWN_TOOLS]
        if unknown:
            raise ValueError(f"unknown tool {', '.join(repr(t) for t in unknown)} "
                             f"(known tools: {', '.join(KNOWN_TOOLS)})")
        return tuple(dict.fromkeys(tools))

    @model_validator(mode="after")
    def _temperature_is_used(self) -> Variant:
        if self.temperature is not None and self.provider != "openai":
            raise ValueError(f"variant {self.name}: the {self.provider} provider takes no temperature "
                             f"(only openai does); leave temperature unset")
        return self

    @property
    def attempts(self) -> int:
        return self.rounds if self.repair else 1

    @property
    def digest(self) -> str:
        """SHA-256 of every field, the prompt set's content (``prompt_digest``) and the tools
        included."""
        return json_digest(self.model_dump(mode="json"))


AttemptVerdict = Literal["accepted", "exhausted", "repeated", "error"]


class TrialRecord(Usage):
    """One (task, variant, seed) of a run."""

    run_id: str
    task_id: str
    variant: str
    seed: int
    verdict: AttemptVerdict
    success: bool
    attempts: int
    """Lean attempts made (to acceptance, when accepted)."""
    lean_s: float
    wall_s: float
    reviewer_agrees: bool | None = None
    """The cross-family reviewer judged the statement faithful (None: no review)."""
    session_id: str | None = None
    error: str | None = None


__all__ = ["AttemptVerdict", "Suite", "Task", "TaskKind", "TrialRecord", "Variant", "json_digest"]
