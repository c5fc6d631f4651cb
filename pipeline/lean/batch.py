"""Batched acceptance: several submissions of one statement compiled as ONE Lean module.

Each queued submission's file (see ``pipeline/claims/assemble.py``) is::

    <header: imports, opens, options>
    theorem <name> :
    <statement>
        :=
    <proof>

When several share the header and the statement, :func:`build_batch` writes one module that
pays the import once::

    <header>
    def sequent_batch_<nonce>_statement : Prop :=      -- the reference: the statement as Lean
    <statement>                                        -- elaborates it before any proof text
    namespace sequent_batch_<nonce>_<i>
    theorem <name> :
    <statement>
        :=
    <proof i>
    end sequent_batch_<nonce>_<i>
    ...

The namespace keeps each member's own name (a recursive proof still refers to itself), the
nonce makes the other members' names unguessable. A member goes into a batch only when its proof
is lexically closed (:func:`batchable`): no comment, string, char or «name» literal left open, so
Lean reads our generated lines as code and each proof's tokens are exactly those it has on its
own. The checker then decides per member on the compiled environment (``EnvironmentAuditor.
audit_members``) and falls back to the one-file path for anything it cannot attribute.
This module is pure: layout, line maps and message attribution, tested without Lean.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.lean.models import Message, Position, Severity
from pipeline.lean.syntax import (
    CORE_INTERPOLATION,
    INTERPOLATION,
    blank_comments_and_strings,
    starts_command,
    tokens,
)

_SENTINEL = "\nend sequent_batch_sentinel\n"
_UNBATCHABLE = ("«", "»", "sequent_", "decl_name%", "_root_")
"""Text that could tell a batch from a single file (its own name, the other members' names) or
open an identifier across members; a proof containing one is checked on its own."""


@dataclass(frozen=True, slots=True)
class Split:
    """One submission file cut into the parts a batch reuses."""

    header: str
    """Everything before the ``theorem`` line (ends with a newline)."""
    statement: str
    """The statement lines (no final newline)."""
    proof: str
    """The proof (no final newline)."""
    proof_line: int
    """The 1-based line of the proof's first line in the submission's own file."""

    @property
    def group(self) -> tuple[str, str]:
        return self.header, self.statement


def split_submission(source: str, name: str) -> Split | None:
    """The parts of ``source`` when it has exactly the assembled layout; ``None`` otherwise."""
    marker = f"\ntheorem {name} :\n"
    at = source.find(marker)
    if at < 0:
        return None
    header = source[: at + 1]
    rest = source[at + len(marker):]
    sep = rest.find("\n    :=\n")
    if sep < 0:
        return None
    statement, proof = rest[:sep], rest[sep + len("\n    :=\n"):]
    if not proof.endswith("\n"):
        return None
    proof = proof[:-1]
    if f"{header}theorem {name} :\n{statement}\n    :=\n{proof}\n" != source or not proof.strip():
        return None
    proof_line = header.count("\n") + 1 + statement.count("\n") + 1 + 1 + 1
    return Split(header=header, statement=statement, proof=proof, proof_line=proof_line)


def batchable(proof: str) -> bool:
    """Whether ``proof`` can share a module: no token that starts a command (the acceptance
    path refuses those anyway; an ``open`` or ``attribute`` would reach the members after it),
    lexically closed in both readings of interpolated strings (a sentinel after it stays code),
    and free of :data:`_UNBATCHABLE` text."""
    if any(t in proof for t in _UNBATCHABLE) or any(starts_command(t.text) for t in tokens(proof)):
        return False
    text = proof + _SENTINEL
    return all(blank_comments_and_strings(text, interpolation=reading).endswith(_SENTINEL)
               for reading in (CORE_INTERPOLATION, INTERPOLATION))


@dataclass(frozen=True, slots=True)
class MemberLines:
    namespace: str
    start: int
    """The ``namespace`` line (1-based); the member's generated lines run to :attr:`proof_start`."""
    proof_start: int
    proof_end: int
    end: int
    """The ``end`` line."""


@dataclass(frozen=True, slots=True)
class BatchFile:
    source: str
    nonce: str
    reference: str
    """The reference definition's name (its value: the statement as elaborated first)."""
    members: tuple[MemberLines, ...]
    generated: tuple[int, ...]
    """Every line the batch itself wrote outside the header (must stay code)."""
    reference_lines: tuple[int, int]
    """First and last line of the reference definition."""


def new_nonce() -> str:
    return secrets.token_hex(6)


def build_batch(header: str, statement: str, name: str, proofs: Sequence[str], nonce: str) -> BatchFile:
    prefix = f"sequent_batch_{nonce}"
    reference = f"{prefix}_statement"
    parts = [header, f"def {reference} : Prop :=\n", statement, "\n\n"]
    line = header.count("\n") + 1
    ref_lines = (line, line + statement.count("\n") + 1)
    generated = [line]
    line = ref_lines[1] + 2
    members = []
    for i, proof in enumerate(proofs):
        ns = f"{prefix}_{i}"
        start = line
        theorem = start + 1
        assign = theorem + statement.count("\n") + 2
        proof_start = assign + 1
        proof_end = proof_start + proof.count("\n")
        end = proof_end + 1
        members.append(MemberLines(namespace=ns, start=start, proof_start=proof_start, proof_end=proof_end, end=end))
        generated += [start, theorem, assign, end]
        parts += [f"namespace {ns}\ntheorem {name} :\n", statement, "\n    :=\n", proof, f"\nend {ns}\n\n"]
        line = end + 2
    return BatchFile(source="".join(parts), nonce=nonce, reference=reference, members=tuple(members),
                     generated=tuple(generated), reference_lines=ref_lines)


def generated_lines_intact(batch: BatchFile) -> bool:
    """Whether Lean's lexer reads every generated line as code (no literal or comment reaches it),
    in both readings of interpolated strings."""
    original = batch.source.split("\n")
    for reading in (CORE_INTERPOLATION, INTERPOLATION):
        blanked = blank_comments_and_strings(batch.source, interpolation=reading).split("\n")
        if any(blanked[n - 1] != original[n - 1] for n in batch.generated):
            return False
    return True


@dataclass(frozen=True, slots=True)
class Attribution:
    own: dict[int, list[Message]]
    """Member index -> the messages positioned in its lines (namespace to ``end``)."""
    unsure: set[int]
    """Members next to an error Lean put on a generated line (not attributable)."""
    whole: bool
    """An error outside every member (header, reference) or without a position: nothing can be
    attributed."""


def attribute(messages: Sequence[Message], batch: BatchFile) -> Attribution:
    """Which member each message belongs to. An error is a member's own only inside its proof
    or on its ``end`` line (where Lean reports a proof that does not end)."""
    own: dict[int, list[Message]] = {i: [] for i in range(len(batch.members))}
    unsure: set[int] = set()
    whole = False
    for m in messages:
        error = m.severity is Severity.error
        line = m.pos.line if m.pos is not None else 0
        k = next((i for i, mem in enumerate(batch.members) if mem.start <= line <= mem.end), None)
        if k is None:
            whole = whole or error
            continue
        own[k].append(m)
        if error and line < batch.members[k].proof_start:
            unsure.update({k, k - 1} if k > 0 else {k})
    return Attribution(own=own, unsure=unsure, whole=whole)


def to_single(message: Message, member: MemberLines, proof_line: int, file_name: str) -> Message:
    """A member's message at the position it has in the submission's own file (a message on
    the ``end`` line is where that file ends, right after the proof)."""
    def shift(pos: Position | None) -> Position | None:
        if pos is None:
            return None
        line = min(pos.line, member.end)
        return Position(line=line - member.proof_start + proof_line, column=pos.column)

    text = message.text.replace(f"{member.namespace}.", "")
    return message.model_copy(update={"pos": shift(message.pos), "end_pos": shift(message.end_pos),
                                      "text": text, "file_name": file_name})


__all__ = ["Attribution", "BatchFile", "MemberLines", "Split", "attribute", "batchable", "build_batch",
           "generated_lines_intact", "new_nonce", "split_submission", "to_single"]
