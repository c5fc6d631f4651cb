"""Files and questions for iterating on a claim's proof (the iteration path's claim side).

* :func:`snippet_request`: an arbitrary snippet under the claim's imports and opens;
* :func:`proof_position`: where a line of a proof attempt lands in the assembled file;
* :func:`minimal_hypotheses`: which named hypotheses a proof actually needs — each ``h_…``
  binder is dropped from the pinned statement in turn and the same proof re-checked.

A hypothesis is reported **unneeded** only when Lean accepted the proof of the statement
without it: that is a proof of a stronger theorem, so the hypothesis needs no empirical test.
**Needed** means "this proof does not go through without it" (a proof that names binders with
``intro`` may fail for that reason alone); it is not a claim that no other proof could drop it.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.claims.assemble import assemble_proof, claim_header
from pipeline.claims.models import Claim
from pipeline.errors import InputError
from pipeline.lean.models import CheckRequest, CheckResult, Policy
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


def proof_position(request: CheckRequest, proof: str, line: int) -> int:
    """The file line (1-based) of ``line`` (1-based) of ``proof`` in an assembled file."""
    body = proof.strip("\n")
    at = request.source.rfind(body)
    if at < 0:  # pragma: no cover - assemble_proof always contains the proof
        raise InputError("the proof is not in the assembled file")
    count = body.count("\n") + 1
    if not 1 <= line <= count:
        raise InputError(f"line {line} is outside the proof (1 to {count})")
    return request.source.count("\n", 0, at) + line


def drop_binder(statement: str, binder: str) -> str | None:
    """The statement without the binder group ``(binder : …)``; None when there is no group
    binding exactly that one name."""
    blanked = blank_comments_and_strings(statement)
    i = 0
    while True:
        i = blanked.find("(", i)
        if i < 0:
            return None
        head = blanked[i + 1:].lstrip()
        names, colon, _ = head.partition(":")
        if colon and names.split() == [binder]:
            depth = 0
            for j in range(i, len(blanked)):
                depth += {"(": 1, ")": -1}.get(blanked[j], 0)
                if depth == 0:
                    before, after = statement[:i], statement[j + 1:]
                    line_start = before.rsplit("\n", 1)[-1]
                    if not line_start.strip():  # the group began its line
                        rest = after.lstrip(" \t")
                        if rest.startswith("\n") or not rest:  # ... and ended it: drop the line
                            return before[: len(before) - len(line_start)] + rest[1:]
                        return before + rest
                    return before.rstrip(" \t") + " " + after.lstrip(" \t")
            return None
        i += 1


class HypothesisNeed(Frozen):
    binder: str
    needed: bool | None
    """``False``: the proof also proves the statement without it (no empirical test needed);
    ``True``: this proof fails without it; ``None``: not decided (see ``note``)."""
    verdict: str | None = None
    """The verdict of the proof of the statement without the hypothesis."""
    diagnostics: str = ""
    note: str = ""


class MinimalHypotheses(Frozen):
    claim_id: str
    proof_verdict: str
    """The verdict of the proof of the full statement (the others mean nothing without it)."""
    proof_diagnostics: str = ""
    hypotheses: tuple[HypothesisNeed, ...] = ()

    @property
    def unneeded(self) -> tuple[str, ...]:
        return tuple(h.binder for h in self.hypotheses if h.needed is False)


def minimal_hypotheses(claim: Claim, proof: str, check: Callable[[CheckRequest], CheckResult],
                       policy: Policy) -> MinimalHypotheses:
    """Check ``proof`` against the pinned statement, then against it without each of the
    claim's hypotheses in turn."""
    full = check(assemble_proof(claim, proof).model_copy(update={"policy": policy}))
    needs: list[HypothesisNeed] = []
    for hyp in claim.hypotheses:
        if not full.accepted:
            needs.append(HypothesisNeed(binder=hyp.binder, needed=None,
                                        note="the proof of the full statement is not accepted"))
            continue
        weaker = drop_binder(claim.lean.statement, hyp.binder)
        if weaker is None:
            needs.append(HypothesisNeed(binder=hyp.binder, needed=None,
                                        note=f"no binder group `({hyp.binder} : …)` in the statement"))
            continue
        lean = claim.lean.model_copy(update={"statement": weaker})
        result = check(assemble_proof(claim.model_copy(update={"lean": lean}), proof)
                       .model_copy(update={"policy": policy}))
        needs.append(HypothesisNeed(binder=hyp.binder, needed=not result.accepted,
                                    verdict=result.verdict.value, diagnostics=result.diagnostics()))
    return MinimalHypotheses(claim_id=claim.id, proof_verdict=full.verdict.value,
                             proof_diagnostics=full.diagnostics(), hypotheses=tuple(needs))


__all__ = ["HypothesisNeed", "MinimalHypotheses", "drop_binder", "minimal_hypotheses", "proof_position",
           "snippet_request"]
