"""Tracing tactic proofs for prover data, from the embedded engine (``sequent trace``).

For every tactic step of every ``by`` proof in a file: the declaration, its statement, the
tactic's text and position, and the goals before and after it, as Lean's server reports them
(``$/lean/plainGoal`` at the tactic's first character and at its end) from a resident worker.
One JSON object per step, in a layout close to LeanDojo's traced tactics (``tactic``,
``state_before``, ``state_after``); docs/lean-backends.md describes the fields.

A step is a source line of the proof (its first non-blank character to its end): a tactic
written over several lines is traced as its lines, and ``tac1; tac2`` on one line as one step.
``premises``: the constants the step's text names, as Lean resolved them (LeanDojo's premises
are the same: the identifiers of a tactic, with their full names, from the info trees). Each
identifier of the step is hovered (``textDocument/hover``); a hover that shows a constant whose
name ends with what was written (``add_comm`` -> ``Nat.add_comm``) and is not a hypothesis of the
goals before is a premise. Constants a tactic finds by itself (``simp``'s lemma set, ``omega``)
are not named: the file worker does not report them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.lean.checker import Checker
from pipeline.lean.models import Policy
from pipeline.lean.syntax import Token, blank_comments_and_strings, declarations, tokens
from pipeline.models import Frozen

PROOF_KINDS = frozenset({"theorem", "lemma", "example", "instance", "def", "abbrev"})
_BY = re.compile(r":=\s*by\b")


class TacticStep(Frozen):
    """One traced tactic step."""

    file: str
    declaration: str
    kind: str
    statement: str
    """The declaration's signature (up to its ``:=``)."""
    tactic: str
    line: int
    """1-based."""
    column: int
    """0-based, code points."""
    state_before: str
    """Goals before the step, rendered and separated by blank lines (``no goals``: closed)."""
    state_after: str
    goals_before: tuple[str, ...]
    goals_after: tuple[str, ...]
    premises: tuple[str, ...] = ()
    """Constants the step's text names, with their full names (see the module docstring)."""


class StepSite(Frozen):
    declaration: str
    kind: str
    statement: str
    line: int
    column: int
    end_column: int
    tactic: str


def tactic_sites(source: str) -> list[StepSite]:
    """Where the tactic steps of ``source``'s ``by`` proofs are (one per non-blank proof line)."""
    blanked = blank_comments_and_strings(source)
    blanked_lines = blanked.split("\n")
    source_lines = source.split("\n")
    sites: list[StepSite] = []
    for decl in declarations(source):
        if decl.kind not in PROOF_KINDS:
            continue
        text = "\n".join(blanked_lines[decl.line - 1:decl.end_line])
        match = _BY.search(text)
        if match is None:
            continue
        by_line = decl.line + text.count("\n", 0, match.end())
        by_col = match.end() - (text.rfind("\n", 0, match.end()) + 1)
        for line in range(by_line, decl.end_line + 1):
            row = blanked_lines[line - 1]
            start = by_col if line == by_line else 0
            body = row[start:]
            if not body.strip():
                continue
            column = start + len(body) - len(body.lstrip())
            end = len(row.rstrip())
            sites.append(StepSite(declaration=decl.name, kind=decl.kind, statement=decl.signature, line=line,
                                  column=column, end_column=end, tactic=source_lines[line - 1][column:end].strip()))
    return sites


_IDENT = re.compile(r"^[A-Za-z_\u00c0-\u024f\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f][\w'!?.\u2080-\u209c]*$")


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
    """The constant a hover shows for the identifier ``written``, or ``None`` (a local, a
    keyword, a tactic's documentation)."""
    if not hover or not hover.startswith("```lean\n"):
        return None
    name = hover[len("```lean\n"):].split("\n", 1)[0].split(" ", 1)[0]
    last = written.split(".")[-1]
    if name.startswith(("Lean.Parser.", "Lean.Elab.")):  # a tactic or term keyword's syntax
        return None
    return name if name == written or name.endswith("." + last) else None


def _identifiers(toks: list[Token], site: StepSite) -> list[tuple[str, int]]:
    """(identifier, column) of the step's text (comments and strings excluded)."""
    return [(t.text, t.column) for t in toks if t.line == site.line
            and site.column <= t.column < site.end_column and _IDENT.match(t.text)]


def _render(goals: tuple[str, ...]) -> str:
    return "\n\n".join(goals) if goals else "no goals"


def trace_source(checker: Checker, source: str, file: str) -> Iterator[TacticStep]:
    """The tactic steps of ``source``, with goals from ``checker``'s resident workers."""
    policy = Policy(allow_sorry=True)
    sites = tactic_sites(source)
    toks = list(tokens(source))
    idents = [_identifiers(toks, site) for site in sites]
    points = [(site.line, column) for site, found in zip(sites, idents, strict=True) for _t, column in found]
    hovers = iter(checker.hovers(source, points, policy=policy) if points else [])
    for site, found in zip(sites, idents, strict=True):
        before = checker.goals(source, site.line, site.column, policy=policy)
        after = checker.goals(source, site.line, site.end_column, policy=policy)
        local = _hypotheses(before.goals)
        premises = [hover_constant(next(hovers), text) for text, _column in found]
        yield TacticStep(
            file=file, declaration=site.declaration, kind=site.kind, statement=site.statement,
            tactic=site.tactic, line=site.line, column=site.column,
            state_before=_render(before.goals), state_after=_render(after.goals),
            goals_before=before.goals, goals_after=after.goals,
            premises=tuple(dict.fromkeys(p for p in premises if p is not None and p not in local)),
        )


__all__ = ["StepSite", "TacticStep", "hover_constant", "tactic_sites", "trace_source"]
