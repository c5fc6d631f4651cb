"""The Lean files the pipeline builds around a claim's pinned statement.

* :func:`assemble_proof`: a submission (agent or API) sends only a proof; the file
  ``import <module>`` + ``theorem <name> : <pinned statement> := <proof>`` is built here, and a
  proof that brings its own commands is refused, so a submission can never choose its own
  statement.
* :func:`statement_check`: ``theorem sequent_pinned_statement : <pinned statement> :=
  @<declaration>`` — Lean accepts it when the declaration proves the pinned statement, and its
  compiled type is the pinned statement as Lean elaborates it, which
  :mod:`pipeline.claims.meaning` compares with the declaration's own type as an ``Expr`` — and
  ``example := @<witness>`` — the non-vacuity witness exists; one Lean run per claim.
"""

from __future__ import annotations

import re
import textwrap

from pipeline.claims.models import Claim
from pipeline.errors import InputError
from pipeline.lean.models import CheckRequest, Policy
from pipeline.lean.syntax import (
    COMMAND_KEYWORDS,
    blank_comments_and_strings,
    starts_command,
    tokens,
)
from pipeline.models import Frozen

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_']*$")
PINNED_STATEMENT = "sequent_pinned_statement"
"""The theorem of a claim's check file whose type is the pinned statement, elaborated."""
SUBMISSION_FILE = "Submission.lean"
SUBMISSION_THEOREM = "sequent_submission"
"""The one declaration a submission's compiled file may add (with Lean's auxiliaries)."""


class StatementLines(Frozen):
    """Where the parts of a :func:`statement_check` file are, to attribute Lean's errors."""

    header_end: int
    """Last line of the imports and ``open`` lines."""
    statement_start: int
    statement_end: int
    declaration_line: int
    witness_line: int


def proof_violations(proof: str) -> list[str]:
    """Why ``proof`` could bring its own commands (empty when it is a plain term or tactic block)."""
    found: list[str] = []
    for tok in tokens(proof):
        text = tok.text
        if starts_command(text):
            found.append(f"line {tok.line}: `{text}` starts a command; send only the proof "
                         "(a `by` block or a term)")
    return found


def _indented(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), prefix)


_LEVEL_NAME = re.compile(r"[^\W\d][\w']*")
_LEVEL_WORDS = frozenset({"max", "imax"})
_LEVEL_AT = re.compile(r"(?<![\w.'])(?:Sort|Type)(?:\s*(\()|\s+([^\W\d][\w']*))|\.\{")


def _level_group_end(text: str, start: int, close: str) -> int:
    depth, k = 0, start
    while k < len(text):
        if text[k] in "({":
            depth += 1
        elif text[k] in ")}":
            depth -= 1
            if depth == 0 and text[k] == close:
                return k
        k += 1
    return len(text)


def statement_universes(statement: str) -> list[str]:
    """The universe variables a pinned statement names, in order of first use: the level of
    ``Sort u``/``Type u``/``Sort (max u v)`` and the explicit levels of ``c.{u, v}``. The
    claim's Lean files declare them (``universe u v``), so a statement may use universe
    variables while ``autoImplicit`` stays off for everything else; ``Sort _``/``Type _``
    need no name."""
    text = blank_comments_and_strings(statement)
    found: list[str] = []
    for m in _LEVEL_AT.finditer(text):
        if m.group(0) == ".{":
            inner = text[m.end():_level_group_end(text, m.end() - 1, "}")]
        elif m.group(1):
            inner = text[m.start(1):_level_group_end(text, m.start(1), ")")]
        else:
            inner = m.group(2)
        for name in _LEVEL_NAME.findall(inner):
            if name not in _LEVEL_WORDS and name != "_" and name not in found:
                found.append(name)
    return found


def _header(claim: Claim) -> list[str]:
    """Imports, opens and the statement's universe variables; ``autoImplicit`` off so that a
    misspelt name in a statement is an error instead of a silently universally quantified
    variable."""
    lines = [f"import {claim.lean.module}"]
    if claim.lean.opens:
        lines.append("open " + " ".join(claim.lean.opens))
    universes = statement_universes(claim.lean.statement)
    if universes:
        lines.append("universe " + " ".join(universes))
    lines.append("set_option autoImplicit false")
    return lines


def claim_header(claim: Claim) -> list[str]:
    """The lines every file about ``claim`` starts with: its import, opens and options."""
    return _header(claim)


def assemble_proof(claim: Claim, proof: str, *, name: str = SUBMISSION_THEOREM) -> CheckRequest:
    """The Lean file that checks ``proof`` against the claim's pinned statement.

    ``proof`` is a tactic block starting with ``by`` or a term. It is refused
    (:class:`InputError`) when it is empty or contains a top-level command
    (``theorem``, ``def``, ``axiom``, ``namespace``, ``end``, ``import``, ``set_option``,
    ``#…`` and the like), so that the statement checked is always the pinned one. The
    request names the claim's declaration as ``uncitable``: the compiled proof may not reach
    it (a proof that cites its own target proves nothing).
    """
    if not _NAME.match(name):
        raise InputError(f"theorem name {name!r} is not a plain Lean identifier")
    if not proof.strip():
        raise InputError("the proof is empty")
    problems = proof_violations(proof)
    if problems:
        raise InputError("the proof must not contain commands:\n" + "\n".join(problems))
    source = "\n".join([
        *_header(claim),
        "",
        f"theorem {name} :",
        _indented(claim.lean.statement),
        "    :=",
        proof.strip("\n"),
        "",
    ])
    return CheckRequest(source=source, imports=(claim.lean.module,), file_name=SUBMISSION_FILE,
                        policy=Policy(), expected_declarations=(name,), uncitable=(claim.lean.declaration,))


def statement_check(claim: Claim) -> tuple[CheckRequest, StatementLines]:
    """One Lean file for the claim, and where its parts are::

        import <module>
        open <namespaces>
        theorem sequent_pinned_statement : <pinned statement> := @<declaration>
        example := @<witness>                            -- the witness exists
    """
    header = _header(claim)
    statement = _indented(claim.lean.statement).split("\n")
    lines = [*header, "", "set_option linter.unusedVariables false in",
             f"theorem {PINNED_STATEMENT} :"]
    start = len(lines) + 1
    lines += statement
    end = len(lines)
    lines += [f"    := @{claim.lean.declaration}", "", f"example := @{claim.lean.witness}"]
    where = StatementLines(header_end=len(header), statement_start=start, statement_end=end,
                           declaration_line=end + 1, witness_line=end + 3)
    request = CheckRequest(source="\n".join(lines) + "\n", imports=(claim.lean.module,),
                           file_name=f"Claim_{claim.id}.lean", policy=Policy())
    return request, where


__all__ = ["COMMAND_KEYWORDS", "PINNED_STATEMENT", "SUBMISSION_THEOREM", "StatementLines", "assemble_proof",
           "claim_header", "proof_violations",
           "statement_check", "statement_universes"]
