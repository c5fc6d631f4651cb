"""Prompt templates of the drafting loop and the review. Only text lives here: the loop
decides *when* to ask; this module decides *what* is asked.

The drafter's templates form a :class:`PromptSet` (the built-in one, or a researcher's folder
read by :func:`load_prompt_set`), so that an A/B variant can swap them and name them by digest.

Every prompt is stateless (one system text, one user turn) so that it can be hashed,
recorded and replayed. Lean's feedback is given verbatim with positions, next to the
assembled file with line numbers.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from pydantic import ValidationError, model_validator

from pipeline.agents.models import Prompt, ReviewJudgement
from pipeline.agents.parse import numbered
from pipeline.errors import InputError, LeanError
from pipeline.models import Frozen

if TYPE_CHECKING:
    from pipeline.claims.models import Claim
    from pipeline.lean.models import CheckResult

MAX_CONTEXT_CHARS = 24_000
"""The module source shown to a model is cut to this many characters."""

LEAN_ENVIRONMENT = """\
The checker runs Lean 4.28 with the core library only: there is NO Mathlib. Available:
Nat, Int, Rat, List, Array, Option, and the tactics `omega`, `simp`, `decide`, `grind`,
`induction`, `cases`, `rcases`, `constructor`, `exact`, `apply`, `intro`, `rfl`, `calc`,
`have`, `show`, `unfold`. `sorry`, `admit`, new axioms, `native_decide` and
metaprogramming commands are rejected by the trust policy."""


REVIEWER_SYSTEM = """\
You review formal statements for faithfulness. You compare a Lean 4 theorem statement and
its named hypotheses with the informal claim it is meant to express, and report every
concrete discrepancy: a hypothesis that is stronger or weaker than stated, a quantifier in
the wrong place or order, a missing side condition, a conclusion that is weaker than
claimed, a definition that does not mean what its name suggests, or a statement that is
vacuous or trivially true. You do not judge whether the proof is correct: Lean already
checked it. Reply only with the JSON object asked for."""


def _hypotheses(claim: Claim) -> str:
    if not claim.hypotheses:
        return "(none listed)"
    lines = []
    for h in claim.hypotheses:
        how = "assumed" if h.assumed else (f"tested by {h.check}" if h.check else "untested")
        lines.append(f"- `{h.binder}`: {h.meaning} ({how})")
    return "\n".join(lines)


def _claim_block(claim: Claim) -> str:
    return Template("""\
Claim `$id`: $title

Informal statement:
$statement

Hypotheses (Lean binder names and their meaning):
$hypotheses""").substitute(
        id=claim.id, title=claim.title, statement=claim.statement.strip(),
        hypotheses=_hypotheses(claim),
    )


def _context_block(module: str, context: str) -> str:
    if not context.strip():
        return ""
    text = context if len(context) <= MAX_CONTEXT_CHARS else (
        context[:MAX_CONTEXT_CHARS] + "\n-- ... (cut)"
    )
    return f"\nDefinitions available from `import {module}` (its source):\n```lean\n{text}\n```\n"


def _skeleton(module: str, name: str, statement: str | None) -> str:
    body = statement if statement is not None else "<STATEMENT>"
    return f"import {module}\n\ntheorem {name} :\n    {body} :=\n  <PROOF>"


PROOF_FORMAT = """\
You may use every definition and lemma of the imported module, but not the claim's own
declaration: that is the theorem you are proving.
Reply with your reasoning (brief) followed by exactly one ```lean code block containing
ONLY the proof: a tactic block starting with `by`, or a term. Do not restate the theorem,
do not add `import`, `theorem`, `def`, `namespace` or any other command: the pipeline
assembles the file itself and refuses a proof that brings its own declarations."""

STATEMENT_FORMAT = """\
No Lean statement is pinned for this claim yet, so draft the statement as well. Reply with
your reasoning (brief) followed by exactly two ```lean code blocks:
1. a block whose first line is `-- statement`, then the theorem's type only (what goes
   after `theorem name :`), with every hypothesis as a named binder;
2. a block whose first line is `-- proof`, then the proof only (`by ...` or a term).
A human will review and pin the statement; it does not count as pinned until then."""


ARGUMENT_TEMPLATE = """\
$claim

Sketch given with the claim:
$sketch
$context
Write the informal proof this claim's Lean proof should follow: a numbered list of steps,
each naming the hypotheses and the definitions it uses, and the Lean lemmas or tactics
that should close it. Be concrete; no Lean code yet. At most 300 words."""

PROOF_TEMPLATE = """\
$claim
$context
Informal argument to follow:
$argument

The pipeline will check this file:
```lean
$skeleton
```

$format"""

REPAIR_TEMPLATE = """\
$claim
$context
Informal argument:
$argument

Attempt $attempt of $rounds was rejected.

$file
$feedback

Fix the proof. Read the unsolved goals and error positions above carefully; change what
they point at rather than starting over, unless the approach cannot work. Do not repeat
a proof that already failed: an identical attempt ends the session.

$format"""

SYSTEM_TEMPLATE = """\
You are a careful Lean 4 proof engineer working on formal guarantees for AI alignment.
You write exactly what is asked, in the format asked, and nothing that is not asked.
$environment"""

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "system": frozenset({"environment"}),
    "argument": frozenset({"claim", "sketch", "context"}),
    "proof": frozenset({"claim", "context", "argument", "skeleton", "format"}),
    "repair": frozenset({"claim", "context", "argument", "attempt", "rounds", "file", "feedback",
                         "format"}),
}
"""What each template of a prompt set may use (``$name``; ``$$`` is a dollar sign)."""
MAX_TEMPLATE_BYTES = 64 * 1024


class PromptSet(Frozen):
    """The drafter's prompt templates: its system text and the argument, proof and repair
    requests (:mod:`string.Template` syntax, placeholders in :data:`PLACEHOLDERS`). The
    built-in set is :data:`DEFAULT_PROMPTS`; :func:`load_prompt_set` reads a researcher's folder
    of ``system.md``, ``argument.md``, ``proof.md``, ``repair.md`` (each optional: a missing one
    is the built-in template). Its :attr:`digest` identifies it in an A/B variant."""

    name: str = "default"
    system: str = SYSTEM_TEMPLATE
    argument: str = ARGUMENT_TEMPLATE
    proof: str = PROOF_TEMPLATE
    repair: str = REPAIR_TEMPLATE

    @model_validator(mode="after")
    def _placeholders_known(self) -> PromptSet:
        for kind, known in PLACEHOLDERS.items():
            template = Template(getattr(self, kind))
            if not template.is_valid():
                raise ValueError(f"prompt set {self.name}: the {kind} template has a '$' that is "
                                 "neither $name nor $$")
            unknown = sorted(set(template.get_identifiers()) - known)
            if unknown:
                raise ValueError(f"prompt set {self.name}: the {kind} template uses "
                                 f"{', '.join('$' + u for u in unknown)}; it may use "
                                 f"{', '.join('$' + k for k in sorted(known))}")
        return self

    @property
    def digest(self) -> str:
        """SHA-256 of the four templates (not of the name)."""
        h = hashlib.sha256()
        for kind in PLACEHOLDERS:
            h.update(kind.encode() + b"\0" + getattr(self, kind).encode() + b"\0")
        return h.hexdigest()

    def drafter_system(self) -> str:
        return Template(self.system).substitute(environment=LEAN_ENVIRONMENT)


DEFAULT_PROMPTS = PromptSet()


def load_prompt_set(folder: Path) -> PromptSet:
    """A prompt set from ``folder`` (``<kind>.md`` for the kinds of :data:`PLACEHOLDERS`);
    InputError for a missing folder, a file of another name, or an unknown placeholder."""
    if not folder.is_dir():
        raise InputError(f"prompt set {folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    allowed = {f"{kind}.md" for kind in PLACEHOLDERS}
    strays = [p.name for p in files if p.name not in allowed]
    if strays:
        raise InputError(f"prompt set {folder}: unexpected {', '.join(strays)} (a prompt set "
                         f"holds {', '.join(sorted(allowed))}, each optional)")
    if not files:
        raise InputError(f"prompt set {folder} is empty (it holds {', '.join(sorted(allowed))})")
    templates: dict[str, str] = {}
    for path in files:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise InputError(f"{path}: a template is at most {MAX_TEMPLATE_BYTES} bytes")
        try:
            templates[path.stem] = path.read_bytes().decode("utf-8").strip("\n")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    try:
        return PromptSet(name=folder.name, **templates)
    except ValidationError as exc:
        raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from exc


def argument_prompt(claim: Claim, context: str = "", prompts: PromptSet = DEFAULT_PROMPTS) -> Prompt:
    """Step 1: the informal argument the Lean proof will follow."""
    user = Template(prompts.argument).substitute(
        claim=_claim_block(claim),
        sketch=(claim.argument or "(none)").strip(),
        context=_context_block(claim.lean.module, context),
    )
    return Prompt(kind="argument", system=prompts.drafter_system(), user=user)


def proof_prompt(
    claim: Claim, argument: str, statement: str | None, name: str, context: str = "",
    prompts: PromptSet = DEFAULT_PROMPTS,
) -> Prompt:
    """Step 2: the first Lean attempt. ``statement`` None: draft the statement too."""
    user = Template(prompts.proof).substitute(
        claim=_claim_block(claim),
        context=_context_block(claim.lean.module, context),
        argument=argument.strip(),
        skeleton=_skeleton(claim.lean.module, name, statement),
        format=PROOF_FORMAT if statement is not None else STATEMENT_FORMAT,
    )
    return Prompt(kind="proof" if statement is not None else "statement",
                  system=prompts.drafter_system(), user=user)


def _feedback(result: CheckResult | None, refusal: str | None) -> str:
    if refusal is not None:
        return f"The pipeline refused to assemble the file:\n{refusal}"
    if result is None:
        raise LeanError("no Lean result and no refusal to report back to the model")
    lines = [f"Lean's verdict: {result.summary()}"]
    diagnostics = result.diagnostics()
    if diagnostics:
        lines += ["", "Lean's messages (file:line:column: severity: text):", diagnostics]
    return "\n".join(lines)


def repair_prompt(
    claim: Claim,
    argument: str,
    previous_proof: str,
    source: str | None,
    result: CheckResult | None,
    refusal: str | None,
    *,
    statement_pinned: bool,
    attempt: int,
    rounds: int,
    context: str = "",
    prompts: PromptSet = DEFAULT_PROMPTS,
) -> Prompt:
    """Step 5: repair after Lean (or the pipeline) rejected attempt ``attempt``."""
    file_block = (
        f"The file that was checked (line numbers added):\n```\n{numbered(source)}\n```\n"
        if source is not None else
        f"Your previous proof:\n```lean\n{previous_proof}\n```\n"
    )
    user = Template(prompts.repair).substitute(
        claim=_claim_block(claim),
        context=_context_block(claim.lean.module, context),
        argument=argument.strip(),
        attempt=attempt,
        rounds=rounds,
        file=file_block,
        feedback=_feedback(result, refusal),
        format=PROOF_FORMAT if statement_pinned else STATEMENT_FORMAT,
    )
    return Prompt(kind="repair", system=prompts.drafter_system(), user=user)


DRAFTER_SYSTEM = DEFAULT_PROMPTS.drafter_system()
REVIEW_SCHEMA = ReviewJudgement.model_json_schema()


def review_prompt(claim: Claim, statement: str, context: str = "") -> Prompt:
    """Cross-family review: does the Lean statement faithfully express the claim?"""
    user = Template("""\
$claim

Informal argument given with the claim:
$argument
$context
The Lean statement (the type of theorem `$declaration`, proved and checked by Lean):
```lean
$statement
```

Judge whether this Lean statement, with its hypotheses, faithfully expresses the informal
statement. Reply with a JSON object of this schema:
$schema
`verdict` is `faithful` only if you found no discrepancy; `unfaithful` if at least one
discrepancy changes what is claimed; `uncertain` if you cannot tell (say why in `summary`).
Each discrepancy names the element (binder, definition or part of the conclusion) and
the problem, concretely.""").substitute(
        claim=_claim_block(claim),
        argument=(claim.argument or "(none)").strip(),
        context=_context_block(claim.lean.module, context),
        declaration=claim.lean.declaration,
        statement=statement.strip(),
        schema=json.dumps(REVIEW_SCHEMA, indent=1),
    )
    return Prompt(kind="review", system=REVIEWER_SYSTEM, user=user,
                  response_schema=REVIEW_SCHEMA, schema_name="review_judgement")


__all__ = [
    "DEFAULT_PROMPTS",
    "DRAFTER_SYSTEM",
    "LEAN_ENVIRONMENT",
    "PLACEHOLDERS",
    "REVIEWER_SYSTEM",
    "REVIEW_SCHEMA",
    "PromptSet",
    "argument_prompt",
    "load_prompt_set",
    "proof_prompt",
    "repair_prompt",
    "review_prompt",
]
