"""Tracing tactic proofs for prover data, from the embedded engine (``sequent trace``).

One record per tactic as written, in the layout of LeanDojo's traced tactics (``tactic``,
``state_before``, ``state_after``, premises with where they are defined); docs/lean-backends.md
describes the fields.

Which tactics: LeanDojo keeps every tactic whose parent is a tactic sequence (the tactics of a
``by`` block, of a ``·`` focus, of an ``induction``/``cases``/``match`` alternative or a
``case``/``next`` block), nested blocks included, and drops a tactic whose goals before are
``no goals`` or equal its goals after. This module finds the same tactics from the source text
(the embedded worker gives no info trees): every ``by`` of a declaration, in tactic or term
position, opens a block; a tactic of a block starts at the block's column (or after a ``;``)
and runs over the lines indented further, so a multi-line tactic is one record; ``|``
alternatives, ``else`` and ``<;>`` lines at the block's column continue the tactic above.
A ``·`` focus, the ``=>`` of an alternative and the ``then``/``else`` of a tactic ``if`` open
nested blocks. Rewrite rules of ``rw [a, b]``
are not split (LeanDojo lists each rule as well).

Goals come from a resident worker (``$/lean/plainGoal`` at the tactic's first character and at
its end). ``premises``: the identifiers of the tactic's text that Lean resolved to a *global
constant* (``textDocument/hover`` gives the name; the compiled environment, read from the
``.olean`` files by :class:`pipeline.lean.olean.lookup.Lookup`, must hold it — local hypotheses
and bound variables never do), with the module that defines it and, for the project's own
constants, the file and position. Constants a tactic finds by itself (``simp``'s lemma set,
``grind``, ``omega``) are not named: neither the worker nor LeanDojo's premises report them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from pipeline.lean.checker import Checker
from pipeline.lean.models import Location, Policy
from pipeline.lean.olean.lookup import Lookup
from pipeline.lean.syntax import blank_comments_and_strings, declarations
from pipeline.models import Frozen

PROOF_KINDS = frozenset({"theorem", "lemma", "example", "instance", "def", "abbrev"})
_OPEN = "([{⟨⦃⟦"
_CLOSE = ")]}⟩⦄⟧"
_WORD = re.compile(r"[A-Za-z_\u00c0-\u024f\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f][\w'!?.\u2080-\u209c]*|=>|\|")
_IDENT = re.compile(r"[A-Za-z_\u00c0-\u024f\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f][\w'!?.\u2080-\u209c]*")
_CONTINUE = ("|", "else", "<;>", "then")
_BINDERS = "∀∃Σ∑∏Π"  # binders whose body follows a comma (``fun`` uses ``=>``)
_ALTERNATIVES = frozenset({"induction", "cases", "match", "case", "case'", "next", "fun_induction", "fun_cases"})


class ConstantRef(Frozen):
    """A global constant a tactic names, and where it is defined: a tactic step's premise in
    LeanDojo's sense (its ``provenances``); not a hypothesis of a theorem's type, which is
    :class:`pipeline.lean.olean.premises.Premise`."""

    full_name: str
    module: str
    """The module that defines it (``Init.Data.Rat.Lemmas``, ``Formal.Basic``)."""
    origin: str
    """``project`` or ``core``."""
    location: Location | None = None
    """Where it is declared (project constants; the shipped core has no positions)."""


class InDeclaration(Frozen):
    """The declaration a tactic is written in."""

    declaration: str
    """Its name, namespaces applied."""
    kind: str
    statement: str
    """Its signature (up to its ``:=``)."""


class TacticStep(InDeclaration, Location):
    """One traced tactic, as written: ``file`` is the project-relative path (or
    ``submission:<id>``), the span runs from the tactic's first character to just past its
    last."""

    tactic: str
    state_before: str
    """Goals before the tactic, rendered and separated by blank lines."""
    state_after: str
    """Goals after it (``no goals``: it closed them)."""
    goals_before: tuple[str, ...]
    goals_after: tuple[str, ...]
    premises: tuple[ConstantRef, ...] = ()


class StepSite(InDeclaration):
    """Where a tactic is, before it is traced."""

    start: int
    """Offsets into the source."""
    end: int


class _Text:
    def __init__(self, source: str) -> None:
        self.source = source
        self.blank = blank_comments_and_strings(source)
        self.starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def pos(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of ``offset``."""
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.starts[lo]

    def skip_space(self, offset: int, stop: int) -> int:
        while offset < stop and self.blank[offset].isspace():
            offset += 1
        return offset

    def word_at(self, offset: int) -> str:
        m = _WORD.match(self.blank, offset)
        return m.group(0) if m else ""

    def is_by(self, offset: int) -> bool:
        b = self.blank
        if not b.startswith("by", offset):
            return False
        before = b[offset - 1] if offset else " "
        after = b[offset + 2] if offset + 2 < len(b) else " "
        return not (before.isalnum() or before in "_.'!?") and not (after.isalnum() or after in "_'!?")


def _nesting(ch: str) -> int:
    """How ``ch`` changes the bracket depth: 1 opens, -1 closes, 0 neither."""
    return (ch in _OPEN) - (ch in _CLOSE)


def _block(text: _Text, start: int, stop: int, bracketed: bool) -> tuple[int, list[tuple[int, int]]]:
    """The tactics of the block whose first tactic starts at ``start``: (block end, [(start,
    end)] of its own tactics, nested ones not included). ``bracketed``: the block's ``by`` is
    inside brackets, so a ``,`` of theirs ends it (``⟨by simp, h⟩``) unless a binder of the
    tactic owns it (``have : ∀ x, p x``)."""
    column = text.pos(start)[1]
    b = text.blank
    tactics: list[tuple[int, int]] = []
    depth, i, cur = 0, start, start
    opened = False  # a nested block opened at depth 0 in the current tactic: no ``;`` split
    binder = False  # a binder at depth 0 in the current tactic: a ``,`` is its
    end = stop
    while i < stop:
        ch = b[i]
        depth += _nesting(ch)
        if depth < 0:
            end = i
            break
        if ch == "," and depth == 0 and bracketed and not binder:
            end = i
            break
        elif depth == 0 and (ch in _BINDERS or (b.startswith("exists", i) and text.word_at(i) == "exists"
                                                 and (i == 0 or not (b[i - 1].isalnum() or b[i - 1] in "_.'")))):
            binder = True
        elif ch == ";" and depth == 0 and not opened and not b.startswith("<;>", i - 1):
            tactics.append((cur, i))
            cur = text.skip_space(i + 1, stop)
            i, binder = cur, False
            continue
        elif depth == 0 and (text.is_by(i) or b.startswith("=>", i) or (i == cur and ch in "·.")):
            opened = True
        elif ch == "\n":
            nxt = text.skip_space(i, stop)
            if nxt >= stop:
                break
            ncol = text.pos(nxt)[1]
            if ncol < column:
                end = i
                break
            if ncol == column and not any(b.startswith(k, nxt) for k in _CONTINUE):
                tactics.append((cur, i))
                cur, i, opened, binder = nxt, nxt, False, False
                continue
        i += 1
    else:
        end = stop
    tactics.append((cur, min(i, end)))
    return end, [(s, _rstrip(text, s, e)) for s, e in tactics if _rstrip(text, s, e) > s]


def _rstrip(text: _Text, start: int, end: int) -> int:
    while end > start and text.blank[end - 1].isspace():
        end -= 1
    return end


def _inner_blocks(text: _Text, start: int, end: int) -> list[tuple[int, bool]]:
    """Where the blocks nested in the tactic ``[start, end)`` start (their first tactic), and
    whether each is inside brackets."""
    b = text.blank
    found: list[tuple[int, bool]] = []
    if b[start] in "·." and start + 1 < end and b[start + 1].isspace():
        found.append((text.skip_space(start + 1, end), False))
    head = text.word_at(start)
    last_word = ""
    depth, i = 0, start
    while i < end:
        ch = b[i]
        depth += _nesting(ch)
        if text.is_by(i):
            found.append((text.skip_space(i + 2, end), depth > 0))
            i += 2
            continue
        if b.startswith("=>", i):
            if depth == 0 and head in _ALTERNATIVES and last_word in {"|", "case", "next", "case'", head}:
                found.append((text.skip_space(i + 2, end), False))
            last_word = "=>"
            i += 2
            continue
        m = _WORD.match(b, i) if (i == 0 or not (b[i - 1].isalnum() or b[i - 1] in "_.'")) else None
        if m and depth == 0 and head == "if" and m.group(0) in ("then", "else"):
            found.append((text.skip_space(m.end(), end), False))
        if m:
            if m.group(0) in ("|", "fun", "λ", "case", "next", "case'"):
                last_word = m.group(0)
            i = m.end()
            continue
        i += 1
    return [f for f in found if f[0] < end]


def _trace_block(text: _Text, start: int, stop: int, bracketed: bool, out: list[tuple[int, int]]) -> int:
    end, tactics = _block(text, start, stop, bracketed)
    for s, e in tactics:
        out.append((s, e))
        covered = s
        for inner, inside in _inner_blocks(text, s, e):
            if inner < covered:  # inside a block already traced
                continue
            covered = _trace_block(text, inner, e, inside, out)
    return end


def tactic_sites(source: str) -> list[StepSite]:
    """Every tactic of ``source``'s declarations, nested blocks included, in source order."""
    text = _Text(source)
    sites: list[StepSite] = []
    for decl in declarations(source):
        if decl.kind not in PROOF_KINDS:
            continue
        lo = text.starts[decl.line - 1]
        hi = text.starts[decl.end_line] - 1 if decl.end_line < len(text.starts) else len(source)
        spans: list[tuple[int, int]] = []
        i, depth = lo, 0
        while i < hi:
            if text.is_by(i):
                first = text.skip_space(i + 2, hi)
                i = max(i + 2, _trace_block(text, first, hi, depth > 0, spans)) if first < hi else hi
                continue
            depth += _nesting(text.blank[i])
            i += 1
        for s, e in sorted(spans):
            sites.append(StepSite(declaration=decl.name, kind=decl.kind, statement=decl.signature, start=s, end=e))
    return sites


def _hypotheses(goals: tuple[str, ...]) -> set[str]:
    """The names bound in the goals' contexts (``a b : Nat`` -> a, b)."""
    names: set[str] = set()
    for goal in goals:
        for row in goal.split("\n"):
            if row.startswith("⊢"):
                break
            head, sep, _ = row.partition(" : ")
            if sep:
                names.update(head.split())
    return names


def hover_constant(hover: str | None, written: str) -> str | None:
    """The name a hover shows for the identifier ``written``, or ``None`` (a keyword, a
    tactic's documentation). A local's hover shows its name too: the caller checks the
    environment."""
    if not hover or not hover.startswith("```lean\n"):
        return None
    name = hover[len("```lean\n"):].split("\n", 1)[0].split(" ", 1)[0]
    last = written.split(".")[-1]
    if name.startswith(("Lean.Parser.", "Lean.Elab.")):  # a tactic or term keyword's syntax
        return None
    return name if name == written or name.endswith("." + last) else None


def _render(goals: tuple[str, ...]) -> str:
    return "\n\n".join(goals) if goals else "no goals"


def premises_from(lookup: Lookup) -> Callable[[str], ConstantRef | None]:
    """The premise a constant's name stands for, from the compiled environment (the project's
    built modules first, then core's catalog), or ``None`` when neither holds it (a local, a
    bound variable). Answers are kept: a trace asks about the same names many times."""
    project = lookup.project()
    core = lookup.catalog().entries
    known: dict[str, ConstantRef | None] = {}

    def premise(name: str) -> ConstantRef | None:
        if name not in known:
            if name in project:
                own = project[name]
                known[name] = ConstantRef(full_name=name, module=own.module, origin="project", location=own.location)
            elif name in core:
                known[name] = ConstantRef(full_name=name, module=core[name][0], origin="core")
            else:
                known[name] = None
        return known[name]

    return premise


def trace_source(checker: Checker, source: str, file: str,
                 premise: Callable[[str], ConstantRef | None]) -> Iterator[TacticStep]:
    """The tactics of ``source`` with goals from ``checker``'s resident workers; ``premise``
    looks a name up in the compiled environment (:func:`premises_from`)."""
    policy = Policy(allow_sorry=True)
    text = _Text(source)
    sites = tactic_sites(source)
    idents = [[(m.group(0), m.start()) for m in _IDENT.finditer(text.blank, site.start, site.end)
               if m.start() == 0 or not (text.blank[m.start() - 1].isalnum() or text.blank[m.start() - 1] in "_.'")]
              for site in sites]
    offsets = sorted({offset for found in idents for _t, offset in found})  # nested tactics share
    shown = dict(zip(offsets, checker.iteration.hovers(source, [text.pos(o) for o in offsets], policy=policy)
                     if offsets else [], strict=True))
    for site, found in zip(sites, idents, strict=True):
        names = [hover_constant(shown[offset], written) for written, offset in found]
        line, column = text.pos(site.start)
        end_line, end_column = text.pos(site.end)
        before = checker.goals(source, line, column, policy=policy)
        if not before.goals:
            continue
        after = checker.goals(source, end_line, end_column, policy=policy)
        state_before, state_after = _render(before.goals), _render(after.goals)
        if state_before == state_after:
            continue
        local = _hypotheses(before.goals)
        premises: dict[str, ConstantRef] = {}
        for name in names:
            if name is None or name in local or name in premises:
                continue
            found_premise = premise(name)
            if found_premise is not None:
                premises[name] = found_premise
        yield TacticStep(
            file=file, declaration=site.declaration, kind=site.kind, statement=site.statement,
            tactic=source[site.start:site.end], line=line, column=column, end_line=end_line,
            end_column=end_column, state_before=state_before, state_after=state_after,
            goals_before=before.goals, goals_after=after.goals, premises=tuple(premises.values()),
        )


__all__ = ["ConstantRef", "InDeclaration", "StepSite", "TacticStep", "hover_constant", "premises_from", "tactic_sites",
           "trace_source"]
