"""The trust policy, applied to Lean *tokens* (comments and strings removed), before Lean runs.

Lean's own verdict is not a trust policy: Lean accepts files with a custom ``axiom``,
``native_decide``, ``implemented_by``, ``debug.skipKernelTC`` and ``#eval`` of arbitrary IO.
This module finds those in the source; Lean's ``hasSorry`` messages and (natively) the axiom
audit close the remaining gaps (e.g. a sorry produced by a macro from another file).
"""

from __future__ import annotations

from pipeline.lean.models import Policy, Violation
from pipeline.lean.syntax import Token, blank_comments_and_strings, tokens

SORRY = {"sorry": "sorry", "admit": "admit", "sorryAx": "sorryAx"}

# token -> (rule, explanation)
FORBIDDEN: dict[str, tuple[str, str]] = {
    "native_decide": ("native_decide", "`native_decide` trusts compiled code instead of the kernel"),
    "Lean.ofReduceBool": ("native_decide", "`ofReduceBool` trusts compiled code instead of the kernel"),
    "ofReduceBool": ("native_decide", "`ofReduceBool` trusts compiled code instead of the kernel"),
    "Lean.reduceBool": ("native_decide", "`reduceBool` trusts compiled code instead of the kernel"),
    "reduceBool": ("native_decide", "`reduceBool` trusts compiled code instead of the kernel"),
    "Lean.trustCompiler": ("native_decide", "`trustCompiler` is an axiom trusting the compiler"),
    "trustCompiler": ("native_decide", "`trustCompiler` is an axiom trusting the compiler"),
    "implemented_by": ("implemented_by", "`implemented_by` swaps in unchecked code"),
    "extern": ("extern", "`extern` swaps in unchecked code"),
    "unsafe": ("unsafe", "`unsafe` code is not checked by the kernel"),
    "prelude": ("prelude", "`prelude` replaces the core library"),
    "opaque_repr": ("unsafe", "unsafe representation"),
    "csimp": ("implemented_by", "`@[csimp]` replaces compiled code"),
}

# Commands that run code or change the parser while the file is elaborated.
METAPROGRAMMING: frozenset[str] = frozenset(
    {
        "#eval", "#exec", "run_cmd", "run_elab", "run_meta", "run_tac", "elab", "elab_rules",
        "macro", "macro_rules", "syntax", "declare_syntax_cat", "notation", "infix", "infixl",
        "infixr", "prefix", "postfix", "initialize", "builtin_initialize", "simproc",
        "dsimproc", "builtin_simproc", "builtin_dsimproc", "declare_simp_like_tactic",
        "register_option", "register_simp_attr", "#print", "#exit",
    }
)

AXIOM_COMMANDS = frozenset({"axiom", "constant"})


def _skip_option(name: str) -> str | None:
    """Why a ``set_option`` is forbidden, or None when it is harmless."""
    if name.startswith("debug."):
        return "`debug.*` options can skip the kernel or other checks"
    if name in {"Elab.async", "backward.proofsInPublic"}:
        return None
    if name.startswith(("compiler.", "interpreter.", "trace.compiler")):
        return "compiler and interpreter options are not allowed in checked files"
    if name in {"maxRecDepth", "maxHeartbeats", "synthInstance.maxHeartbeats", "autoImplicit",
                "linter.unusedVariables", "pp.all", "relaxedAutoImplicit", "linter.all"}:
        return None
    if name.startswith(("pp.", "linter.", "trace.", "grind.", "simp", "tactic.")):
        return None
    return f"option `{name}` is not on the allowlist"


def scan(source: str, policy: Policy) -> list[Violation]:
    """Every policy violation in ``source``, in order of position."""
    blanked = blank_comments_and_strings(source)
    toks: list[Token] = list(tokens(blanked, blanked=True))
    found: list[Violation] = []

    def add(tok: Token, rule: str, message: str) -> None:
        found.append(Violation(rule=rule, token=tok.text, line=tok.line, column=tok.column, message=message))

    for i, tok in enumerate(toks):
        text = tok.text
        last = text.rsplit(".", 1)[-1]
        if (text in SORRY or last in SORRY) and not policy.allow_sorry:
            add(tok, "sorry", f"`{text}` leaves the proof unfinished")
        elif text in FORBIDDEN:
            rule, why = FORBIDDEN[text]
            add(tok, rule, why)
        elif text in AXIOM_COMMANDS:
            # Any axiom *command* is new: even one named like an allowed axiom declares a
            # different constant (e.g. `Foo.propext : False`). The allowlist governs the audit.
            name = toks[i + 1].text if i + 1 < len(toks) else "?"
            add(tok, "axiom", f"declares a new axiom `{name}`; proofs may rely only on "
                f"{', '.join(sorted(policy.allowed_axioms))}")
        elif text == "set_option":
            name = toks[i + 1].text if i + 1 < len(toks) else ""
            skipped = _skip_option(name)
            if skipped:
                add(tok, "option", skipped)
        elif text in METAPROGRAMMING and not policy.trusted_tooling:
            add(tok, "metaprogramming", f"`{text}` runs code or extends the parser during checking; only trusted tooling may")
        elif text in {"import"} and i + 1 < len(toks) and toks[i + 1].text.split(".")[0] in {"Lean", "Lake"} \
                and not policy.trusted_tooling:
            add(tok, "metaprogramming", f"importing `{toks[i + 1].text}` gives access to the elaborator; only trusted tooling may")
    return found


__all__ = ["FORBIDDEN", "METAPROGRAMMING", "scan"]
