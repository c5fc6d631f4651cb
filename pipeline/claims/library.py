"""The Lean library as source text: modules, declarations, hypothesis binders, definitions.

Everything here reads Lean through :mod:`pipeline.lean.syntax` (one notion of token and
declaration for the whole project); nothing runs Lean. The pure functions
(:func:`binders`, :func:`hypothesis_binders`, :func:`referenced_definitions`) are tested
directly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from pipeline.claims.models import Claim
from pipeline.lean.build import discover
from pipeline.lean.checker import read_text_checked
from pipeline.lean.syntax import Declaration, blank_comments_and_strings, declarations, tokens
from pipeline.models import Frozen
from pipeline.settings import Settings

DEFINITION_KINDS = frozenset({"def", "abbrev", "structure", "class", "inductive", "opaque", "instance"})
"""Declarations whose *body* is part of a statement's meaning (theorems' proofs are not)."""

HYPOTHESIS_NAME = re.compile(r"^h_[A-Za-z0-9_']+$")
"""What a hypothesis binder must be called (the registry's ``binder`` pattern)."""
_OPEN, _CLOSE = "([{⦃⟨", ")]}⦄⟩"
_RELATIONS = re.compile(r"<->|[=≠≤<≥>∧∨¬↔∈∉⊆⊂⊇⊃∣≡∃]|\b(?:True|False|Nonempty|Fact)\b")
_ARROWS = re.compile(r"->|<-|=>|:=|→")
_IDENT = re.compile(r"[^\s()\[\]{}⦃⦄⟨⟩,:]+")
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


class Binder(Frozen):
    """One binder of a theorem's statement, in the order Lean abstracts them."""

    name: str
    """As written; ``""`` when anonymous (``[Fact p]``, an arrow premise ``p → q``)."""
    bracket: str
    """``(``, ``{``, ``[``, ``⦃``, ``∀`` (a bare ``∀ x : T,``) or ``→`` (an arrow premise)."""
    type: str
    hypothesis: bool
    """Whether it is (taken for) a hypothesis: a proposition rather than a variable."""
    why: str = ""
    """Why it counts as a hypothesis, for messages."""

    @property
    def shown(self) -> str:
        if self.bracket == "→":
            return f"{self.type} →"
        close = {"(": ")", "{": "}", "[": "]", "⦃": "⦄", "∀": ","}[self.bracket]
        inner = f"{self.name} : {self.type}" if self.name else self.type
        return f"∀ {inner}," if self.bracket == "∀" else f"{self.bracket}{inner}{close}"


def _strip(text: str) -> str:
    return " ".join(text.split())


def _top_level(text: str, needle: str) -> int:
    """Index of the first ``needle`` outside brackets, or -1."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and text.startswith(needle, i):
            if needle == ":" and text.startswith(":=", i):
                continue
            return i
    return -1


def _split_top(text: str, needle: str) -> list[str]:
    parts: list[str] = []
    while (k := _top_level(text, needle)) != -1:
        parts.append(text[:k])
        text = text[k + len(needle):]
    parts.append(text)
    return parts


def _group_end(text: str, i: int) -> int:
    depth = 0
    for k in range(i, len(text)):
        if text[k] in _OPEN:
            depth += 1
        elif text[k] in _CLOSE:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def _unwrap(text: str) -> str:
    """``(p → q)`` -> ``p → q``: parentheses do not change the term."""
    text = text.strip()
    while text.startswith("(") and _group_end(text, 0) == len(text):
        text = text[1:-1].strip()
    return text


def looks_like_proposition(type_text: str, predicates: Collection[str] = ()) -> bool:
    """Whether a binder's type reads as a proposition: a relation, connective or quantifier
    outside a subtype/set-builder ``{…}``, ``True``/``False``/``Fact``, or an application of a
    definition known to be a predicate (``predicates``: names of ``… → Prop`` definitions)."""
    text = type_text
    while (k := text.find("{")) != -1:
        text = text[:k] + " " + text[_group_end(text, k):]
    text = _ARROWS.sub(" ", text)
    if _RELATIONS.search(text):
        return True
    heads = _IDENT.findall(_unwrap(type_text).removeprefix("@"))
    if heads:
        head = heads[0]
        for candidate in (head, head.rsplit(".", 1)[-1]):
            if candidate in predicates:
                return True
    return False


def _group_binders(group: str, bracket: str) -> list[tuple[str, str]]:
    """(name, type) for each name of one bracketed binder group's inside."""
    if bracket == "[":
        k = _top_level(group, ":")
        if k == -1:
            return [("", _strip(group))]
        return [(_strip(group[:k]), _strip(group[k + 1:]))]
    k = _top_level(group, ":")
    names = group[:k].split() if k != -1 else group.split()
    type_text = _strip(group[k + 1:]) if k != -1 else ""
    return [(n, type_text) for n in names] or [("", type_text)]


def _bare_binders(part: str) -> list[tuple[str, str, str]]:
    """``∀`` binders before the comma: bracketed groups, ``x y : T`` or ``x ∈ s`` (a binder
    predicate: the variable and an anonymous hypothesis). (bracket, name, type) each."""
    out: list[tuple[str, str, str]] = []
    part = part.strip()
    while part and part[0] in "({[⦃":
        end = _group_end(part, 0)
        out += [(part[0], n, t) for n, t in _group_binders(part[1:end - 1], part[0])]
        part = part[end:].strip()
    if not part:
        return out
    words = part.split()
    k = _top_level(part, ":")
    if k != -1:
        return out + [("∀", n, _strip(part[k + 1:])) for n in part[:k].split()]
    names = [w for w in words if _IDENT.fullmatch(w) and not _RELATIONS.search(w)]
    if len(names) == len(words):
        return out + [("∀", n, "") for n in names]
    var = words[0]
    return out + [("∀", var, ""), ("→", "", _strip(part))]  # `∀ x ∈ s,` = `∀ x, x ∈ s → …`


def _telescope(text: str) -> list[tuple[str, str, str]]:
    """The leading ``∀``/``→`` binders of a type, as Lean's ``forallTelescope`` sees them."""
    out: list[tuple[str, str, str]] = []
    text = _unwrap(text)
    while text:
        m = re.match(r"(?:∀|Π|forall\b)", text)
        if m:
            rest = text[m.end():]
            k = _top_level(rest, ",")
            if k == -1:
                break
            out += _bare_binders(rest[:k])
            text = _unwrap(rest[k + 1:])
            continue
        parts = _split_top(text, "→")
        if len(parts) == 1:
            parts = _split_top(text, "->")
        if len(parts) == 1:
            break
        out += [("→", "", _strip(p)) for p in parts[:-1]]
        text = _unwrap(parts[-1])
    return out


def _classify(raw: list[tuple[str, str, str]], predicates: Collection[str]) -> list[Binder]:
    result: list[Binder] = []
    first: Binder | None = None
    for bracket, name, type_text in raw:
        why = ""
        if HYPOTHESIS_NAME.match(name):
            why = "named h_…"
        elif bracket == "→":
            why = "a premise `… →` of the statement (Lean reads it as an unnamed binder)"
        elif looks_like_proposition(type_text, predicates):
            why = f"its type `{type_text}` is a proposition"
        elif first is not None:
            why = (f"it comes after the hypothesis {first.name or '`' + first.shown + '`'}; every "
                   "binder after the first hypothesis counts as one (declare variables first)")
        binder = Binder(name=name, bracket=bracket, type=type_text, hypothesis=bool(why), why=why)
        if binder.hypothesis and first is None:
            first = binder
        result.append(binder)
    return result


def binders(text: str, *, statement: bool = False, predicates: Collection[str] = ()) -> list[Binder]:
    """The binders of a theorem, in order, each classified as variable or hypothesis.

    ``text`` is a declaration signature (``theorem t (x : T) (h : P) : Q``) or, with
    ``statement=True``, a pinned statement (``∀ (x : T) (h : P), Q``). Binders are the
    bracketed groups before the type's ``:`` followed by the leading ``∀``/``→`` telescope of
    the type (binder predicates ``∀ x ∈ s,`` and arrow premises add anonymous hypotheses).
    This is source text, not elaboration: a binder counts as a hypothesis when it is named
    ``h_…``, when its type reads as a proposition (:func:`looks_like_proposition`), or when it
    comes after the first hypothesis."""
    blanked = blank_comments_and_strings(text)
    raw: list[tuple[str, str, str]] = []
    if not statement:
        m = re.search(r"\b(?:theorem|lemma|def|abbrev|instance|example)\b", blanked)
        rest = blanked[m.end():] if m else blanked
        name = re.match(r"\s*[^\s(\[{⦃:]+", rest)
        if name and not name.group(0).strip().startswith(("(", "[", "{", "⦃")):
            rest = rest[name.end():]
        rest = rest.strip()
        while rest and rest[0] in "({[⦃":
            end = _group_end(rest, 0)
            raw += [(rest[0], n, t) for n, t in _group_binders(rest[1:end - 1], rest[0])]
            rest = rest[end:].strip()
        blanked = rest[1:] if rest.startswith(":") else ""
    raw += _telescope(blanked)
    return _classify(raw, predicates)


def hypothesis_binders(signature: str) -> list[str]:
    """The ``h_…`` binder names of a declaration signature, in order, without repeats."""
    names: list[str] = []
    for binder in binders(signature):
        if HYPOTHESIS_NAME.match(binder.name) and binder.name not in names:
            names.append(binder.name)
    return names


def unnamed_hypotheses(found: Iterable[Binder]) -> list[Binder]:
    """Hypotheses that the coverage rule cannot see: anonymous, ``_`` or not named ``h_…``."""
    return [b for b in found if b.hypothesis and not HYPOTHESIS_NAME.match(b.name)]


def predicate_names(candidates: Iterable[Declaration]) -> set[str]:
    """Names (full and last component) of definitions and types whose type ends in ``Prop``."""
    out: set[str] = set()
    for decl in candidates:
        if decl.kind not in DEFINITION_KINDS:
            continue
        blanked = blank_comments_and_strings(decl.signature)
        k = blanked.rfind(":")
        if k != -1 and re.fullmatch(r"\s*(?:.*(?:→|->)\s*)?Prop\s*", blanked[k + 1:]):
            out.update({decl.name, decl.name.rsplit(".", 1)[-1], decl.short_name})
    return out
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


def registry_binder_issues(registry: list[str], in_lean: list[str], declaration: str) -> list[tuple[str, str]]:
    """The registry side of the binder rule: each ``[[hypotheses]]`` binder is listed once and
    is one of the theorem's ``h_…`` hypotheses in Lean (``in_lean``). ``(field, message)`` pairs."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, binder in enumerate(registry):
        if binder in seen:
            found.append((f"hypotheses[{i}].binder", f"{binder} is listed twice"))
        seen.add(binder)
        if binder not in in_lean:
            known = ", ".join(in_lean) or "none"
            found.append((f"hypotheses[{i}].binder", (f"{binder} is not a hypothesis of "
                                                     f"{declaration} in Lean (its h_ binders: {known})")))
    return found


__all__ = [
    "DEFINITION_KINDS",
    "HYPOTHESIS_NAME",
    "Binder",
    "LeanLibrary",
    "LeanModule",
    "binders",
    "definition_pins",
    "hypothesis_binders",
    "looks_like_proposition",
    "predicate_names",
    "referenced_definitions",
    "registry_binder_issues",
    "statement_definitions",
    "unnamed_hypotheses",
]
