"""The Lean library as source text: modules, declarations, hypothesis binders, definitions.

Everything here reads Lean through :mod:`pipeline.lean.syntax` (one notion of token and
declaration for the whole project); nothing runs Lean. The pure functions
(:func:`hypothesis_binders`, :func:`referenced_definitions`) are tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.claims.models import Claim
from pipeline.lean.build import discover
from pipeline.lean.checker import read_text_checked
from pipeline.lean.syntax import Declaration, blank_comments_and_strings, declarations, tokens
from pipeline.models import Frozen
from pipeline.settings import Settings

DEFINITION_KINDS = frozenset({"def", "abbrev", "structure", "class", "inductive", "opaque", "instance"})
"""Declarations whose *body* is part of a statement's meaning (theorems' proofs are not)."""

_BINDER_GROUP = re.compile(r"[(\{\[⦃]\s*((?:h_[\w']+\s+)*h_[\w']+)\s*:")
_ANY_GROUP = re.compile(r"[(\{⦃]\s*((?:[^\W\d][\w'₀-₉]*\s+)*[^\W\d][\w'₀-₉]*)\s*:(?!=)")
_QUANTIFIED = re.compile(r"[∀∃]\s*((?:[^\W\d][\w'₀-₉]*\s+)*[^\W\d][\w'₀-₉]*)\s*[:,∈]")


class LeanModule(Frozen):
    name: str
    path: str
    """Relative to the project root."""
    source: str
    imports: tuple[str, ...]
    """Project modules it imports."""
    declarations: tuple[Declaration, ...]

    def find(self, name: str) -> Declaration | None:
        return next((d for d in self.declarations if d.name == name), None)


class LeanLibrary(Frozen):
    """Every module of ``Formal.lean`` and ``Formal/``, read once."""

    modules: dict[str, LeanModule]

    @classmethod
    def load(cls, settings: Settings) -> LeanLibrary:
        modules: dict[str, LeanModule] = {}
        for name, mod in discover(settings).items():
            text = read_text_checked(settings.project_root / mod.path, max_bytes=settings.max_file_bytes)
            modules[name] = LeanModule(name=name, path=mod.path, source=text, imports=mod.imports,
                                       declarations=tuple(declarations(text)))
        return cls(modules=modules)

    def module(self, name: str) -> LeanModule | None:
        return self.modules.get(name)

    def scope(self, name: str) -> list[LeanModule]:
        """The module and everything it imports, transitively (unknown names skipped)."""
        seen: dict[str, LeanModule] = {}
        stack = [name]
        while stack:
            current = stack.pop()
            mod = self.modules.get(current)
            if mod is None or current in seen:
                continue
            seen[current] = mod
            stack.extend(mod.imports)
        return list(seen.values())

    def locate(self, declaration: str) -> LeanModule | None:
        """The module that declares ``declaration``, if any."""
        return next((m for m in self.modules.values() if m.find(declaration)), None)


def hypothesis_binders(signature: str) -> list[str]:
    """The ``h_…`` binder names of a declaration signature, in order, without repeats."""
    text = blank_comments_and_strings(signature)
    names: list[str] = []
    for group in _BINDER_GROUP.finditer(text):
        for name in group.group(1).split():
            if name not in names:
                names.append(name)
    return names


def statement_variables(statement: str) -> list[str]:
    """The variables a statement binds (``∀ (lam G2 : Rat) …``, ``∀ ε : Rat, …``), in order,
    ``h_…`` hypotheses excluded. A textual reading of the pinned statement's binders."""
    text = blank_comments_and_strings(statement)
    names: list[str] = []
    for pattern in (_ANY_GROUP, _QUANTIFIED):
        for group in pattern.finditer(text):
            for name in group.group(1).split():
                if not name.startswith("h_") and name not in names:
                    names.append(name)
    return names


def _suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def referenced_definitions(text: str, candidates: Iterable[Declaration]) -> dict[str, Declaration]:
    """The definitions ``text`` refers to, transitively through their own bodies.

    A token refers to a definition when one of its dotted suffixes is a dotted suffix of the
    definition's name: ``t.leaves`` and ``ArgTree.leaves`` both refer to
    ``Formal.Debate.ArgTree.leaves``. Dot notation on variables cannot be resolved without
    types, so this errs on the side of including too much (only ``candidates`` count).
    """
    by_suffix: dict[str, list[Declaration]] = {}
    for decl in candidates:
        if decl.kind not in DEFINITION_KINDS:
            continue
        for suffix in _suffixes(decl.name):
            by_suffix.setdefault(suffix, []).append(decl)
    found: dict[str, Declaration] = {}
    pending = [text]
    while pending:
        for tok in tokens(pending.pop()):
            for suffix in _suffixes(tok.text.removeprefix("@")):
                for decl in by_suffix.get(suffix, ()):
                    if decl.name not in found:
                        found[decl.name] = decl
                        pending.append(decl.text)
    return dict(sorted(found.items()))


def statement_definitions(claim: Claim, library: LeanLibrary) -> dict[str, Declaration]:
    """The definitions of the claim's module scope that its pinned statement depends on."""
    candidates = [d for m in library.scope(claim.lean.module) for d in m.declarations]
    return referenced_definitions(claim.lean.statement, candidates)


def definition_pins(claim: Claim, library: LeanLibrary) -> dict[str, str]:
    """What ``lean.definitions`` should hold: name -> normalized SHA-256 of the source."""
    return {name: decl.digest for name, decl in statement_definitions(claim, library).items()}


__all__ = [
    "DEFINITION_KINDS",
    "LeanLibrary",
    "LeanModule",
    "definition_pins",
    "hypothesis_binders",
    "referenced_definitions",
    "statement_definitions",
]
