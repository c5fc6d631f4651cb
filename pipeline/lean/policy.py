"""The trust policy, applied to Lean *tokens* (comments and strings removed), before Lean runs.

Lean's own verdict is not a trust policy: Lean accepts files with a custom ``axiom``,
``native_decide``, ``implemented_by``, ``debug.skipKernelTC``, ``#eval`` of arbitrary IO and
instances that change what ``≤`` or ``2`` mean for ``Rat``. This module finds those in the
source and names them; it is the fast first filter with the clearest message. Lean's
``hasSorry`` messages and the audit of the compiled environment are the line behind it
(e.g. for a sorry produced by a macro from another file).

Comments and literals are removed with :func:`pipeline.lean.syntax.blank_comments_and_strings`,
which follows Lean's own lexer (raw strings, nested comments, char literals, interpolated
strings). Whether a string is interpolated depends on the syntax in scope, so the source is
scanned in both readings and a violation either one exposes is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.lean.models import Policy, Violation
from pipeline.lean.syntax import (
    CORE_INTERPOLATION,
    INTERPOLATION,
    Token,
    blank_comments_and_strings,
    declarations,
    header,
    instance_header,
    tokens,
)

SORRY = {"sorry": "sorry", "admit": "admit", "sorryAx": "sorryAx"}

_TRUSTS_COMPILER: dict[str, str] = {
    "ofReduceBool": "`ofReduceBool` trusts compiled code instead of the kernel",
    "reduceBool": "`reduceBool` trusts compiled code instead of the kernel",
    "trustCompiler": "`trustCompiler` is an axiom trusting the compiler",
}
"""Constants of ``Lean`` that trust the compiler: forbidden by their last component too
(``Lean.ofReduceBool``, ``ofReduceBool``, ``X.ofReduceBool``)."""

# token -> (rule, explanation)
FORBIDDEN: dict[str, tuple[str, str]] = {
    "native_decide": ("native_decide", "`native_decide` trusts compiled code instead of the kernel"),
    **{name: ("native_decide", why) for short, why in _TRUSTS_COMPILER.items() for name in (f"Lean.{short}", short)},
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
        "register_option", "register_simp_attr", "#print", "#exit", "unif_hint",
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


CORE_CLASSES: frozenset[str] = frozenset(
    {
        "LE", "LT", "GE", "GT", "Max", "Min", "Ord", "OfNat", "OfScientific", "NatCast", "IntCast",
        "Add", "Sub", "Mul", "Div", "Mod", "Pow", "Neg", "Inv", "Zero", "One", "Dvd", "Abs",
        "HAdd", "HSub", "HMul", "HDiv", "HMod", "HPow", "HAppend", "HAnd", "HOr", "HXor", "Append",
        "SMul", "HSMul", "AndOp", "OrOp", "Xor", "Complement", "ShiftLeft", "ShiftRight",
        "BEq", "DecidableEq", "Decidable", "DecidablePred", "DecidableRel", "Membership",
        "HasSubset", "HasSSubset", "EmptyCollection", "Singleton", "Insert", "Inhabited",
        "Coe", "CoeTail", "CoeHead", "CoeOut", "CoeSort", "CoeFun", "CoeDep", "CoeTC", "CoeHTCT",
        "CoeT", "CoeOTC", "CoeHTC", "NatPow", "HomogeneousPow", "Setoid", "HasEquiv",
    }
)
"""Classes behind core notation, literals, coercions and decidability: an instance of one of
them for an existing type changes what an existing statement means."""

_NEW_TYPE_KINDS = frozenset({"structure", "inductive", "class", "class inductive", "opaque"})
_STRUCTURE_KINDS = frozenset({"structure", "class", "class abbrev"})
_NATIVE_RE = re.compile(r"native\s*:=\s*true\b")
_DERIVING_RE = re.compile(r"\s*(?P<classes>[^\s,]+(?:\s*,\s*[^\s,]+)*)\s+for\s+(?P<types>[^\s,]+(?:\s*,\s*[^\s,]+)*)")


Parent = tuple[str, tuple[str, ...]]
"""A parent class (as written) and the identifiers of its arguments."""


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([{⟨⦃":
            depth += 1
        elif ch in ")]}⟩⦄":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts


def _parent(text: str) -> Parent | None:
    """``LE Rat`` (or ``toLE : LE Rat``, ``[inst : LE Rat]``) -> (``LE``, (``Rat``,))."""
    text = text.strip().strip("[]").strip()
    fields = _split_top(text, ":")
    if len(fields) > 1:
        text = ":".join(fields[1:])
    idents = re.findall(r"[^\s()\[\]{}⟨⟩,:@]+", text)
    return (_plain(idents[0]), tuple(_plain(i) for i in idents[1:])) if idents else None


def class_parents(source: str) -> dict[str, list[Parent]]:
    """Each structure or class the file declares (short name) -> what its instances also are:
    the parents it ``extends``, a ``class abbrev``'s classes, and instance-implicit fields
    (``[inst : LE Rat]`` after ``where``)."""
    out: dict[str, list[Parent]] = {}
    for d in declarations(source):
        if d.kind not in _STRUCTURE_KINDS and not ("class" in d.attributes and d.kind == "structure"):
            continue
        text = blank_comments_and_strings(d.text)
        parents: list[Parent] = []
        body_at = re.search(r"\bwhere\b", text)
        head = text[: body_at.start()] if body_at else text
        ext = re.search(r"\bextends\b", head)
        if ext:
            clause = re.split(r":=|\bderiving\b|\bwith\b", head[ext.end():], maxsplit=1)[0]
            parents += [p for part in _split_top(clause, ",") if (p := _parent(part)) is not None]
        if d.kind == "class abbrev" and ":=" in head:
            parents += [p for part in _split_top(head.split(":=", 1)[1], ",") if (p := _parent(part)) is not None]
        if body_at:
            for field in re.finditer(r"\[([^\[\]]*)\]", text[body_at.end():]):
                if (p := _parent(field.group(1))) is not None:
                    parents.append(p)
        out.setdefault(d.short_name.rsplit(".", 1)[-1], []).extend(parents)
    return out


def is_core_class(name: str) -> bool:
    """Whether ``name`` (as written or fully qualified) is one of :data:`CORE_CLASSES`."""
    short = name.rsplit(".", 1)[-1]
    return short in CORE_CLASSES and name in {short, f"Lean.{short}", f"Std.{short}"}


def core_path(cls: str, parents: dict[str, list[Parent]], new_types: set[str]) -> list[str] | None:
    """``[cls, …, core class]`` when an instance of ``cls`` (a class this file declares) is
    also an instance of a core class, through its parents, for a type the file does not declare."""
    trail: list[str] = []

    def walk(name: str) -> list[str] | None:
        short = name.rsplit(".", 1)[-1]
        if short in trail:
            return None
        trail.append(short)
        for parent, args in parents.get(short, []):
            if any(a.rsplit(".", 1)[-1] in new_types for a in args):
                continue  # about a type this file declares
            if is_core_class(parent):
                return [*trail, parent]
            found = walk(parent)
            if found:
                return found
        trail.pop()
        return None

    return walk(cls)


def scan(source: str, policy: Policy) -> list[Violation]:
    """Every policy violation in ``source``, in order of position.

    The source is read twice, with and without the interpolated-string forms that need
    ``import Lean`` (``m!``, ``throwError``…): what Lean reads as code is code in one of the
    readings, so no text can hide from both."""
    found: dict[tuple[str, int, int, str], Violation] = {}
    for interpolation in (INTERPOLATION, CORE_INTERPOLATION):
        for v in _scan_blanked(source, blank_comments_and_strings(source, interpolation=interpolation), policy):
            found.setdefault((v.rule, v.line, v.column, v.token), v)
    return sorted(found.values(), key=lambda v: (v.line, v.column, v.rule))


def _plain(text: str) -> str:
    """The identifier as Lean resolves it: ``«sorryAx»`` is ``sorryAx``."""
    return text.replace("«", "").replace("»", "").removeprefix("_root_.")


_LAST_COMPONENT_FORBIDDEN = frozenset(_TRUSTS_COMPILER)


@dataclass
class _File:
    """What the per-token rules read of the file being scanned."""

    source: str
    blanked: str
    policy: Policy
    toks: list[Token]
    line_starts: list[int]
    _types: tuple[set[str], dict[str, list[Parent]]] | None = None

    def types(self) -> tuple[set[str], dict[str, list[Parent]]]:
        """The types the file declares (short names) and its classes' parents (read once)."""
        if self._types is None:
            self._types = ({d.name.rsplit(".", 1)[-1] for d in declarations(self.source) if d.kind in _NEW_TYPE_KINDS},
                           class_parents(self.source))
        return self._types

    def offset(self, tok: Token) -> int:
        return self.line_starts[tok.line - 1] + tok.column


def _scan_blanked(source: str, blanked: str, policy: Policy) -> list[Violation]:
    file = _File(source, blanked, policy, list(tokens(blanked, blanked=True)),
                 [0] + [m.end() for m in re.finditer("\n", blanked)])
    found = [] if policy.trusted_tooling else _import_violations(source)
    attribute_depth = 0  # inside `@[...]` or `attribute [...]`
    for i, tok in enumerate(file.toks):
        prev = _plain(file.toks[i - 1].text) if i else ""
        if tok.text == "@[" or (tok.text == "[" and (attribute_depth or prev == "attribute")):
            attribute_depth += 1
        elif tok.text == "]" and attribute_depth:
            attribute_depth -= 1
        hit = _token_violation(file, i, prev, attribute_depth)
        if hit is not None:
            found.append(Violation(rule=hit[0], token=tok.text, line=tok.line, column=tok.column, message=hit[1]))
    return found


def _import_violations(source: str) -> list[Violation]:
    """Imports of the elaborator (``Lean``, ``Lake``): for trusted tooling only."""
    return [Violation(rule="metaprogramming", token=imp.module, line=imp.line, column=imp.column,
                      message=f"importing `{imp.module}` gives access to the elaborator; only trusted tooling may")
            for imp in header(source).imports if imp.module.split(".")[0] in {"Lean", "Lake"}]


def _token_violation(file: _File, i: int, prev: str, attribute_depth: int) -> tuple[str, str] | None:
    """(rule, message) of the violation the ``i``-th token is, or None."""
    toks, policy = file.toks, file.policy
    tok = toks[i]
    text = _plain(tok.text)
    last = text.rsplit(".", 1)[-1]
    if (text in SORRY or last in SORRY) and not policy.allow_sorry:
        return "sorry", f"`{tok.text}` leaves the proof unfinished"
    if text in FORBIDDEN or last in _LAST_COMPONENT_FORBIDDEN:
        return FORBIDDEN[text if text in FORBIDDEN else last]
    if text in AXIOM_COMMANDS and tok.text == text:
        # Any axiom *command* is new: even one named like an allowed axiom declares a
        # different constant (e.g. `Foo.propext : False`). The allowlist governs the audit.
        name = toks[i + 1].text if i + 1 < len(toks) else "?"
        return "axiom", (f"declares a new axiom `{name}`; proofs may rely only on "
                         f"{', '.join(sorted(policy.allowed_axioms))}")
    if text == "set_option":
        skipped = _skip_option(_plain(toks[i + 1].text) if i + 1 < len(toks) else "")
        return ("option", skipped) if skipped else None
    if text in METAPROGRAMMING and not policy.trusted_tooling:
        return "metaprogramming", f"`{text}` runs code or extends the parser during checking; only trusted tooling may"
    if text == "native" and _native_option(file.blanked, file.offset(tok)):
        return "native_decide", ("`decide +native` (the `native` option) evaluates the proposition with "
                                 "compiled native code, not in the kernel: the proof then rests on the axiom "
                                 "`Lean.ofReduceBool`, which trusts the compiler; use `decide`")
    if text in {"instance", "default_instance"} and tok.text == text and not policy.trusted_tooling:
        problem = _instance_token_problem(file, i, prev, text, attribute_depth)
        return ("instance_override", problem) if problem else None
    return None


def _instance_token_problem(file: _File, i: int, prev: str, text: str, attribute_depth: int) -> str | None:
    """Why an ``instance`` (command, attribute, ``deriving instance``) or ``default_instance``
    token may change what existing statements mean, or None."""
    if attribute_depth or text == "default_instance":
        return (f"`{text}` used as an attribute registers or removes an "
                "instance behind the declaration's back; declare instances with the `instance` "
                "command (only trusted tooling may use the attribute)")
    types, tree = file.types()
    offset = file.offset(file.toks[i]) + len(file.toks[i].text)
    if prev == "deriving":
        return _deriving_problem(file.blanked, offset, types, tree)
    return _instance_problem(file.blanked, offset, [_plain(t.text) for t in file.toks[max(0, i - 4):i]], types, tree)


def _native_option(blanked: str, at: int) -> bool:
    """Whether the ``native`` token at ``at`` turns on native evaluation: ``+native`` or
    ``native := true`` (a tactic's configuration)."""
    before = blanked[:at].rstrip()
    return before.endswith("+") or _NATIVE_RE.match(blanked, at) is not None


def _deriving_problem(blanked: str, after_keyword: int, new_types: set[str],
                      parents: dict[str, list[Parent]]) -> str | None:
    """Why a ``deriving instance C, … for T, …`` command may change what existing statements
    mean (a core class, or a class reaching one, derived for a type the file does not declare)."""
    m = _DERIVING_RE.match(blanked, after_keyword)
    if m is None:
        return "a `deriving instance` command whose classes and types could not be read"
    classes = [_plain(c.strip()) for c in m.group("classes").split(",")]
    types = [_plain(t.strip()) for t in m.group("types").split(",")]
    foreign = [t for t in types if t.rsplit(".", 1)[-1] not in new_types]
    if not foreign:
        return None
    for cls in classes:
        via = [cls] if is_core_class(cls) else core_path(cls, parents, new_types)
        if via:
            how = f"the core class {via[-1]}" + (f" (through {' → '.join(via)})" if len(via) > 1 else "")
            return (f"`deriving instance {cls} for {', '.join(types)}` declares an instance of {how} for "
                    f"{', '.join(foreign)}, a type this file does not declare: it can change what existing "
                    f"statements mean; core-class instances are allowed only on types the file itself "
                    f"declares, or in trusted tooling")
    return None


def _instance_problem(blanked: str, after_keyword: int, before: list[str], new_types: set[str],
                      parents: dict[str, list[Parent]]) -> str | None:
    """Why an ``instance`` command may change what existing statements mean, or None."""
    header = instance_header(blanked, after_keyword)
    cls = _plain(header.class_name or "")
    short_cls = cls.rsplit(".", 1)[-1]
    args = [_plain(a) for a in header.arguments if a not in header.binders]
    shown = f"instance : {header.type_text}" if header.type_text else "instance"
    if any(a.rsplit(".", 1)[-1] in new_types for a in args):
        return None  # about a type this file declares: it cannot change statements about others
    scope = [w for w in before if w in {"scoped", "local"}]
    if short_cls in CORE_CLASSES and cls in {short_cls, f"Lean.{short_cls}", f"Std.{short_cls}"}:
        on = ", ".join(a for a in args if a[:1].isupper()) or "every type"
        return (f"`{shown}` declares an instance of the core class {short_cls} (for {on}) in a "
                f"checked file: it can change what existing statements mean (what `≤`, `+` or a "
                f"numeral denote); core-class instances are allowed only on types the file itself "
                f"declares, or in trusted tooling")
    via = core_path(cls, parents, new_types)
    if via:
        return (f"`{shown}` declares an instance of {cls}, which extends the core class {via[-1]} "
                f"({' → '.join(via)}): through its parent it is an instance of {via[-1]} for a type this "
                f"file does not declare, and can change what existing statements mean (what `≤`, `+` or a "
                f"numeral denote); core-class instances are allowed only on types the file itself "
                f"declares, or in trusted tooling")
    if header.priority or scope:
        how = " and ".join(filter(None, [f"priority {header.priority}" if header.priority else "",
                                         " ".join(scope)]))
        return (f"`{shown}` is declared with {how}: it can take precedence over the instances "
                f"existing statements were reviewed with; only trusted tooling may")
    if cls == "":
        return ("an `instance` whose type could not be read; write `instance [name] [binders] : "
                "Class args` on its own")
    return None


__all__ = ["CORE_CLASSES", "FORBIDDEN", "METAPROGRAMMING", "class_parents", "core_path", "is_core_class", "scan"]
