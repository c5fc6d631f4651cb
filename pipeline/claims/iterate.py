"""Files and questions for iterating on a claim's proof (the iteration path's claim side).

* :func:`snippet_request`: an arbitrary snippet under the claim's imports and opens;
* :func:`proof_frame` / :func:`proof_position`: where the text an agent sent sits in the file
  the pipeline assembled around it, so that every position an agent sees is relative to its
  own text (:func:`relocate`: Lean's messages as :class:`TextMessage`);
* :func:`minimal_hypotheses`: which named hypotheses a proof actually needs — each ``h_…``
  binder keeps its name and place but its type is weakened to ``True``, and the same proof is
  re-checked (a proof that opens with ``intro`` still lines up; it fails only if it *uses* the
  hypothesis's content).

Positions, everywhere an agent or a user sees one: **lines count from 1, columns from 0**
(Lean's and the language server's convention).

A hypothesis is reported **unneeded** only when Lean accepted the proof of the statement with
the hypothesis weakened to ``True``: that is a proof of a stronger theorem, so the hypothesis
needs no empirical test. **Needed** means "this proof fails, inside the proof, when the
hypothesis says nothing"; it is not a claim that no other proof could drop it. Anything else (a
timeout, a crash, an error outside the proof) is **unknown** (``needed=None``), never "needed".
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Literal

from pipeline.claims.assemble import assemble_proof, claim_header
from pipeline.claims.models import Claim
from pipeline.errors import InputError
from pipeline.lean.models import (
    UNFINISHED,
    CheckRequest,
    CheckResult,
    Message,
    Policy,
    Reason,
    Severity,
    Span,
)
from pipeline.lean.syntax import blank_comments_and_strings
from pipeline.models import Frozen

SNIPPET_FILE = "Snippet.lean"


def snippet_request(claim: Claim | None, snippet: str, policy: Policy) -> CheckRequest:
    """``snippet`` after the claim's header (imports, opens, options), or alone."""
    if not snippet.strip():
        raise InputError("the snippet is empty")
    lines = [*claim_header(claim), ""] if claim is not None else []
    return CheckRequest(source="\n".join([*lines, snippet.rstrip("\n"), ""]), file_name=SNIPPET_FILE,
                        policy=policy, imports=(claim.lean.module,) if claim is not None else ())


class TextFrame(Frozen):
    """Where a text the caller sent (a proof, a snippet, a pinned statement) sits in a file the
    pipeline assembled: its line 1 is file line ``first_line``; its columns are the file's minus
    ``indent`` (the indentation the assembly added)."""

    first_line: int
    lines: int
    indent: int = 0

    def to_text(self, line: int, column: int) -> tuple[int, int] | None:
        """The (line, column) in the sent text of a file position; None when outside it."""
        local = line - self.first_line + 1
        if not 1 <= local <= self.lines:
            return None
        return local, max(column - self.indent, 0)


def _frame(source: str, text: str, indent: int = 0) -> TextFrame | None:
    body = text.strip("\n")
    placed = textwrap.indent(body, " " * indent) if indent else body
    at = source.rfind(placed)
    if at < 0 or not body.strip():
        return None
    lead = len(text) - len(text.lstrip("\n"))
    return TextFrame(first_line=source.count("\n", 0, at) + 1 - lead,
                     lines=lead + body.count("\n") + 1, indent=indent)


def proof_frame(request: CheckRequest, proof: str) -> TextFrame:
    """Where ``proof`` (or a snippet) sits in the file the pipeline assembled around it."""
    frame = _frame(request.source, proof)
    if frame is None:  # pragma: no cover - assemble_proof always contains the proof
        raise InputError("the proof is not in the assembled file")
    return frame


def statement_frame(request: CheckRequest, statement: str) -> TextFrame | None:
    """Where the pinned statement sits in an assembled proof file (indented by 4)."""
    dedented = textwrap.dedent(statement)
    frame = _frame(request.source, dedented, 4)
    if frame is None:
        return None
    shift = len(statement.strip("\n").split("\n")[0]) - len(dedented.strip("\n").split("\n")[0])
    return frame.model_copy(update={"indent": 4 - shift})


def proof_position(request: CheckRequest, proof: str, line: int) -> int:
    """The file line (1-based) of ``line`` (1-based, counted in the text sent) of ``proof``."""
    frame = proof_frame(request, proof)
    if not 1 <= line <= frame.lines:
        raise InputError(f"line {line} is outside the proof (1 to {frame.lines})")
    if not proof.split("\n")[line - 1].strip():
        raise InputError(f"line {line} of the proof is blank")
    return frame.first_line + line - 1


Where = Literal["proof", "statement", "file"]


class TextMessage(Span):
    """One of Lean's messages (or a policy violation) placed in the text the caller sent.

    ``where`` says which text the span counts in: ``proof`` (the proof or snippet sent),
    ``statement`` (the claim's pinned statement) or ``file`` (a line the pipeline added: the
    header, the theorem line)."""

    severity: str
    """``error``, ``warning``, ``information`` or ``policy``."""
    text: str
    where: Where
    kind: str | None = None

    def render(self) -> str:
        place = f"{self.where}:{self.line}:{self.column}" if self.line is not None else self.where
        return f"{place}: {self.severity}: {self.text}"


def _place(frames: list[tuple[Where, TextFrame]], line: int, column: int) -> tuple[Where, int, int]:
    for where, frame in frames:
        at = frame.to_text(line, column)
        if at is not None:
            return where, at[0], at[1]
    return "file", line, column


def _frames(request: CheckRequest, text: str, statement: str | None) -> list[tuple[Where, TextFrame]]:
    frames: list[tuple[Where, TextFrame]] = [("proof", proof_frame(request, text))]
    stated = statement_frame(request, statement) if statement else None
    if stated is not None:
        frames.append(("statement", stated))
    return frames


def place_messages(messages: Sequence[Message], request: CheckRequest, text: str,
                   statement: str | None = None) -> tuple[TextMessage, ...]:
    """Lean's ``messages`` on ``request``'s file, placed in ``text`` (the proof or snippet the
    caller sent) or in ``statement`` (the pinned statement). The linter's ``unused variable``
    warnings on the pinned statement's own binders are dropped: the assembly, not the caller,
    wrote them."""
    frames = _frames(request, text, statement)
    out: list[TextMessage] = []
    for m in messages:
        if m.pos is None:
            out.append(TextMessage(severity=m.severity.value, text=m.text, where="file", kind=m.kind))
            continue
        where, line, column = _place(frames, m.pos.line, m.pos.column)
        if (where == "statement" and m.severity is Severity.warning
                and m.text.startswith("unused variable")):
            continue
        end = _place(frames, m.end_pos.line, m.end_pos.column) if m.end_pos else None
        out.append(TextMessage(severity=m.severity.value, text=m.text, where=where, line=line, column=column,
                               end_line=end[1] if end and end[0] == where else None,
                               end_column=end[2] if end and end[0] == where else None, kind=m.kind))
    return tuple(out)


def relocate(result: CheckResult, request: CheckRequest, text: str,
             statement: str | None = None) -> tuple[TextMessage, ...]:
    """Every violation and message of ``result`` placed as :func:`place_messages` does. A run
    that did not finish says so (the checker's message names the limit)."""
    frames = _frames(request, text, statement)
    out: list[TextMessage] = []
    for v in result.violations:
        where, line, column = _place(frames, v.line, v.column)
        out.append(TextMessage(severity="policy", text=f"({v.rule}) {v.message}", where=where, line=line,
                               column=column, kind=v.rule))
    out += place_messages(result.messages, request, text, statement)
    if Reason.timeout in result.reasons and not any(m.kind == "timeout" for m in out):
        out.append(TextMessage(severity="error", where="file", kind="timeout",
                               text="Lean did not finish within the time limit"))
    return tuple(out)


def render(messages: tuple[TextMessage, ...]) -> str:
    """``where:line:column: severity: text`` lines (lines from 1, columns from 0)."""
    return "\n".join(m.render() for m in messages)


def _binder_group(statement: str, binder: str) -> tuple[int, int, int] | None:
    """(start of ``(``, end of the type, index of ``)``) of the group ``(binder : type)``
    binding exactly that one name; None when there is none."""
    blanked = blank_comments_and_strings(statement)
    i = 0
    while True:
        i = blanked.find("(", i)
        if i < 0:
            return None
        head = blanked[i + 1:]
        names, colon, _ = head.partition(":")
        if colon and names.split() == [binder]:
            depth = 0
            for j in range(i, len(blanked)):
                depth += {"(": 1, ")": -1}.get(blanked[j], 0)
                if depth == 0:
                    return i, i + 1 + len(names) + 1, j
            return None
        i += 1


def weaken_binder(statement: str, binder: str) -> str | None:
    """The statement with the binder group ``(binder : T)`` turned into ``(binder : True)``:
    same binders, same order, same names, so a proof's ``intro``s still line up; None when
    there is no group binding exactly that one name. Lines are kept (a multi-line type is
    replaced by ``True`` and blank lines), so positions after it do not move."""
    group = _binder_group(statement, binder)
    if group is None:
        return None
    _, type_start, j = group
    newlines = statement.count("\n", type_start, j)
    return statement[:type_start] + " True" + "\n" * newlines + statement[j:]


Decision = Literal["weakened_accepted", "weakened_rejected_in_proof", "undecided"]


class HypothesisNeed(Frozen):
    binder: str
    needed: bool | None
    """``False``: the proof also proves the statement with this hypothesis weakened to ``True``
    (no empirical test needed); ``True``: this proof fails, inside the proof, without the
    hypothesis's content; ``None``: unknown (see ``note``)."""
    decided_by: Decision = "undecided"
    """How the answer was decided: the same proof re-checked against the pinned statement with
    ``(binder : True)`` (accepted, or rejected by an error inside the proof), or not decided."""
    verdict: str | None = None
    """The verdict of the proof of the weakened statement."""
    diagnostics: str = ""
    """Lean's messages on the weakened statement, placed in the proof (``proof:line:col``)."""
    note: str = ""


class MinimalHypotheses(Frozen):
    claim_id: str
    method: str = ("each hypothesis's type weakened to True in turn (binder, name and order kept), "
                   "the same proof re-checked")
    proof_verdict: str
    """The verdict of the proof of the full statement (the others mean nothing without it)."""
    proof_diagnostics: str = ""
    hypotheses: tuple[HypothesisNeed, ...] = ()


def _need(binder: str, request: CheckRequest, proof: str, statement: str, result: CheckResult
          ) -> HypothesisNeed:
    placed = relocate(result, request, proof, statement)
    shown = render(placed)
    if result.accepted:
        return HypothesisNeed(binder=binder, needed=False, decided_by="weakened_accepted",
                              verdict=result.verdict.value, diagnostics=shown,
                              note=f"the proof is accepted with ({binder} : True): it does not use it")
    unfinished = set(result.reasons) & UNFINISHED
    errors = [m for m in placed if m.severity in ("error", "policy")]
    if unfinished:
        note = "the check did not finish (" + ", ".join(sorted(r.value for r in unfinished)) + ")"
    elif not errors or any(m.where != "proof" for m in errors):
        note = ("an error outside the proof (the weakened statement itself, or the file): "
                "not decided")
    else:
        return HypothesisNeed(binder=binder, needed=True, decided_by="weakened_rejected_in_proof",
                              verdict=result.verdict.value, diagnostics=shown,
                              note=f"this proof fails inside the proof with ({binder} : True)")
    return HypothesisNeed(binder=binder, needed=None, verdict=result.verdict.value, diagnostics=shown,
                          note=note)


def minimal_hypotheses(claim: Claim, proof: str, check: Callable[[CheckRequest], CheckResult],
                       policy: Policy) -> MinimalHypotheses:
    """Check ``proof`` against the pinned statement, then against it with each of the claim's
    hypotheses weakened to ``True`` in turn."""
    full_request = assemble_proof(claim, proof).model_copy(update={"policy": policy})
    full = check(full_request)
    needs: list[HypothesisNeed] = []
    for hyp in claim.hypotheses:
        if not full.accepted:
            needs.append(HypothesisNeed(binder=hyp.binder, needed=None,
                                        note="the proof of the full statement is not accepted"))
            continue
        weaker = weaken_binder(claim.lean.statement, hyp.binder)
        if weaker is None:
            needs.append(HypothesisNeed(binder=hyp.binder, needed=None,
                                        note=f"no binder group `({hyp.binder} : …)` in the statement"))
            continue
        lean = claim.lean.model_copy(update={"statement": weaker})
        request = assemble_proof(claim.model_copy(update={"lean": lean}), proof).model_copy(
            update={"policy": policy})
        needs.append(_need(hyp.binder, request, proof, weaker, check(request)))
    return MinimalHypotheses(
        claim_id=claim.id, proof_verdict=full.verdict.value,
        proof_diagnostics=render(relocate(full, full_request, proof, claim.lean.statement)),
        hypotheses=tuple(needs))


__all__ = ["HypothesisNeed", "MinimalHypotheses", "TextFrame", "TextMessage",
           "minimal_hypotheses", "place_messages", "proof_frame", "proof_position", "relocate", "render", "snippet_request",
           "statement_frame", "weaken_binder"]
