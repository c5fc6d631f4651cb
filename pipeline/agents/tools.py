"""Tools the drafting model may call: read-only look-ups in the compiled environment.

The loop offers them through the providers' native tool calling (Anthropic ``tools`` and
``tool_use`` blocks, OpenAI ``tools`` and function calls) and answers each call from the
library functions the service's MCP tools use (:class:`pipeline.lean.olean.lookup.Lookup`):

* ``search`` — constants by name (substring) and by the constants their type mentions;
* ``declaration`` — one constant's type (kernel notation), kind, module, docstring and place.

Both read ``.olean`` files only (no Lean process, no network, nothing written). A request gets at
most ``rounds`` tool rounds (:func:`complete_with_tools`); after them the tools stay declared but
the model must answer in text. Every call and its result is kept with the attempt
(:class:`pipeline.agents.models.ToolExchange`). The tools show types, never proofs; a proof
that cites the task's own target is still rejected by the compiled-environment audit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationError

from pipeline.agents.models import (
    Completion,
    Prompt,
    ToolCall,
    ToolExchange,
    ToolResult,
    ToolSpec,
    ToolTurn,
)
from pipeline.errors import InputError
from pipeline.models import Frozen

if TYPE_CHECKING:
    from pipeline.agents.providers.base import Provider
    from pipeline.lean.olean.lookup import Lookup

DEFAULT_TOOL_ROUNDS = 3
"""Most tool rounds of one request (each round: the model's calls, then their results)."""
MAX_RESULT_CHARS = 6000
"""A tool result is cut to this many characters before it goes back to the model."""


class SearchArgs(Frozen):
    query: str = Field(default="", max_length=200)
    mentions: list[str] = Field(default_factory=list, max_length=8)
    limit: int = Field(default=20, ge=1, le=50)


class DeclarationArgs(Frozen):
    name: str = Field(min_length=1, max_length=300)


SPECS: dict[str, ToolSpec] = {
    "search": ToolSpec(
        name="search",
        description=(
            "Find Lean constants (lemmas, definitions) in the core library and the project's "
            "built modules: by name (case-insensitive substring of the full name) and/or by the "
            "constants their type mentions (e.g. mentions ['Nat.succ', 'le']). Best matches first."),
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Substring of the name (may be empty)."},
                "mentions": {"type": "array", "items": {"type": "string"},
                             "description": "Constants the type must mention (full or last component)."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            },
            "required": ["query"],
        },
    ),
    "declaration": ToolSpec(
        name="declaration",
        description=(
            "A constant's type (kernel notation), kind, module, docstring and source position, "
            "from the core library or the project's built modules."),
        input_schema={
            "type": "object",
            "properties": {"name": {"type": "string", "description": "The constant's full name."}},
            "required": ["name"],
        },
    ),
}
KNOWN_TOOLS: tuple[str, ...] = tuple(SPECS)


def check_tool_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` without duplicates, or InputError naming the unknown one and the known ones."""
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        raise InputError(f"unknown tool {', '.join(repr(n) for n in unknown)} "
                         f"(known tools: {', '.join(KNOWN_TOOLS)})")
    return tuple(dict.fromkeys(names))


class Toolbox:
    """The tools one session offers, answering calls from ``lookup`` (made on first call)."""

    def __init__(self, names: Sequence[str], lookup: Callable[[], Lookup],
                 rounds: int = DEFAULT_TOOL_ROUNDS) -> None:
        if rounds < 1:
            raise InputError(f"tool rounds must be at least 1 (got {rounds})")
        self.names = check_tool_names(names)
        self.rounds = rounds
        self._make_lookup = lookup
        self._lookup: Lookup | None = None

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(SPECS[n] for n in self.names)

    def lookup(self) -> Lookup:
        if self._lookup is None:
            self._lookup = self._make_lookup()
        return self._lookup

    def run(self, call: ToolCall) -> ToolResult:
        """Answer one call. A bad call (unknown or not offered tool, malformed arguments, no
        such constant) is an error *result* the model reads, never an exception."""
        def error(message: str) -> ToolResult:
            return ToolResult(call_id=call.id, content=message, is_error=True)

        if call.name not in self.names:
            return error(f"no tool {call.name!r} is offered (offered: {', '.join(self.names)})")
        if call.malformed is not None:
            return error(f"the arguments are not a JSON object: {call.malformed[:200]}")
        try:
            content = self._answer(call.name, call.arguments)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            return error(f"invalid arguments ({where}: {first['msg']})")
        except InputError as exc:
            return error(str(exc))
        if len(content) > MAX_RESULT_CHARS:
            content = content[:MAX_RESULT_CHARS] + "\n... (cut)"
        return ToolResult(call_id=call.id, content=content)

    def _answer(self, name: str, arguments: dict[str, Any]) -> str:
        if name == "search":
            args = SearchArgs.model_validate(arguments)
            if not args.query.strip() and not any(m.strip() for m in args.mentions):
                raise InputError("give a name to search for, or constants the type mentions")
            found = self.lookup().search(args.query, args.mentions, args.limit)
            return found.model_dump_json()
        decl = DeclarationArgs.model_validate(arguments)
        info = self.lookup().declaration(decl.name.strip())
        if info is None:
            raise InputError(f"no constant {decl.name!r} in the core library or the project's "
                             "built modules")
        return info.model_dump_json(exclude_none=True)


def complete_with_tools(provider: Provider, prompt: Prompt, toolbox: Toolbox | None
                        ) -> tuple[Completion, tuple[ToolExchange, ...]]:
    """``provider.complete(prompt)``, offering ``toolbox``'s tools for at most its ``rounds``
    rounds: each round sends back the results of the calls the model asked for; the last
    request keeps the tools declared with ``tool_choice = none`` so that it answers in text.
    Returns the final completion, with the tokens, cost, time and retries of every round
    added up, and the exchanges in order."""
    if toolbox is None or not toolbox.names:
        return provider.complete(prompt), ()
    turns: list[ToolTurn] = []
    exchanges: list[ToolExchange] = []
    spent: list[Completion] = []
    while True:
        last = len(turns) >= toolbox.rounds
        request = prompt.model_copy(update={"tools": toolbox.specs, "turns": tuple(turns),
                                            "tool_choice": "none" if last else "auto"})
        completion = provider.complete(request)
        spent.append(completion)
        if not completion.tool_calls or last:
            break
        results = tuple(toolbox.run(call) for call in completion.tool_calls)
        turns.append(ToolTurn(text=completion.text, calls=completion.tool_calls, results=results))
        exchanges += [ToolExchange(round=len(turns), call=c, result=r)
                      for c, r in zip(completion.tool_calls, results, strict=True)]
    costs = [c.cost_usd for c in spent]
    total = completion.model_copy(update={
        "input_tokens": sum(c.input_tokens for c in spent),
        "output_tokens": sum(c.output_tokens for c in spent),
        "cost_usd": None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        "elapsed_s": sum(c.elapsed_s for c in spent),
        "retries": sum(c.retries for c in spent),
        "tool_calls": (),
    })
    return total, tuple(exchanges)


__all__ = [
    "DEFAULT_TOOL_ROUNDS",
    "KNOWN_TOOLS",
    "SPECS",
    "Toolbox",
    "check_tool_names",
    "complete_with_tools",
]
