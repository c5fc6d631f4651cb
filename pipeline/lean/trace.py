"""Tracing tactic proofs for prover data, from the embedded engine (``sequent trace``).

For every tactic step of every ``by`` proof in a file: the declaration, its statement, the
tactic's text and position, and the goals before and after it, as Lean's server reports them
(``$/lean/plainGoal`` at the tactic's first character and at its end) from a resident worker.
One JSON object per step, in a layout close to LeanDojo's traced tactics (``tactic``,
``state_before``, ``state_after``); docs/lean-backends.md describes the fields.

A step is a source line of the proof (its first non-blank character to its end): a tactic
written over several lines is traced as its lines, and ``tac1; tac2`` on one line as one step.
Premises are not reported: the file worker's goal requests do not name the constants a tactic
used (LeanDojo gets them from a native toolchain's info trees), so ``premises`` stays empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.lean.checker import Checker
from pipeline.lean.models import Policy
from pipeline.lean.syntax import blank_comments_and_strings, declarations
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
    """Constants the step used; not reported by the embedded worker (always empty here)."""


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


def _render(goals: tuple[str, ...]) -> str:
    return "\n\n".join(goals) if goals else "no goals"


def trace_source(checker: Checker, source: str, file: str) -> Iterator[TacticStep]:
    """The tactic steps of ``source``, with goals from ``checker``'s resident workers."""
    policy = Policy(allow_sorry=True)
    for site in tactic_sites(source):
        before = checker.goals(source, site.line, site.column, policy=policy)
        after = checker.goals(source, site.line, site.end_column, policy=policy)
        yield TacticStep(
            file=file, declaration=site.declaration, kind=site.kind, statement=site.statement,
            tactic=site.tactic, line=site.line, column=site.column,
            state_before=_render(before.goals), state_after=_render(after.goals),
            goals_before=before.goals, goals_after=after.goals,
        )


__all__ = ["StepSite", "TacticStep", "tactic_sites", "trace_source"]
