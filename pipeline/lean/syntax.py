"""A small, dependency-free reader of Lean 4 source text.

It does not parse Lean; it does exactly three things reliably:

* :func:`blank_comments_and_strings` replaces comments (line, nested block, doc) and string,
  raw-string and char literals with spaces, keeping every newline, so positions stay valid;
* :func:`tokens` splits the blanked text into identifiers/keywords/commands with positions;
* :func:`declarations` finds declarations and declaration-like commands (qualified by
  ``namespace``) with their full text, for pinning and diffing;

and reads a file's header (:func:`header`, the one reader of imports). The first two are the
lexical layer, :mod:`pipeline.lean.lexer` (how it follows Lean's own token functions is told
there); they are re-exported here, so every caller imports from this module.
"""

from __future__ import annotations

import bisect
import hashlib
import re

from pipeline.lean.lexer import (
    ATOM,
    COMMAND_KEYWORDS,
    CORE_INTERPOLATION,
    IDENT_RE,
    INTERPOLATION,
    LETTER_LIKE,
    SUBSCRIPT,
    Token,
    blank_comments_and_strings,
    starts_command,
    strip_comments,
    tokens,
)
from pipeline.models import Frozen

_NAMED_KINDS = (
    "theorem", "lemma", "def", "abbrev", "structure", "class inductive", "class abbrev", "class",
    "inductive", "axiom", "opaque", "declare_syntax_cat",
)
"""Declarations whose name follows the keyword."""
_NOTATION_KINDS = (
    "notation", "infixl", "infixr", "infix", "prefix", "postfix", "macro_rules", "macro",
    "syntax", "elab_rules", "elab", "attribute", "deriving instance",
)
"""Commands that change how later text elaborates; named ``(name := x)`` or by a digest."""
_DECL_KINDS = (*_NAMED_KINDS, "instance", "example", *_NOTATION_KINDS)
_MODIFIER_WORDS = r"private|protected|public|noncomputable|partial|unsafe|nonrec|meta|local|scoped(?:\[[^\]\n]*\])?"
_MODIFIERS = rf"(?:(?:{_MODIFIER_WORDS})\s+)*"
_ATTRS = r"(?:@\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*)*"
_IN_PREFIX = r"(?:(?:open|set_option)\b[^\n]*?\bin\b\s*)*"
_KIND_ALTERNATIVES = "|".join(k.replace(" ", r"\s+") for k in sorted(_DECL_KINDS, key=len, reverse=True))
_NOT_IDENT_AFTER = rf"(?![A-Za-z0-9_'!?.{LETTER_LIKE}{SUBSCRIPT}])"
# Commands may follow other text on the same line (`… := trivial theorem b …`): the patterns
# match after any white space, and _command_start rejects keywords inside attribute lists.
_DECL_RE = re.compile(
    rf"(?<!\S)(?P<prefix>{_IN_PREFIX}{_ATTRS}{_MODIFIERS})(?P<kind>{_KIND_ALTERNATIVES}){_NOT_IDENT_AFTER}"
)
_SCOPE_RE = re.compile(
    rf"(?<!\S)(?:@\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*)*"
    rf"(?P<cmd>namespace|(?:(?:noncomputable|public|private)\s+)*section|end|mutual){_NOT_IDENT_AFTER}"
    rf"[ \t]*(?P<name>{ATOM}(?:\.{ATOM})*)?",
)
_BOUNDARY_RE = re.compile(
    r"^(?:open|variable|universe|set_option|export|include|omit|run_cmd|run_elab|run_meta|"
    r"initialize|builtin_initialize|#[A-Za-z_]+)\b",
    re.MULTILINE,
)
"""Other commands at column 0: they end the declaration before them."""
_NAME_OPTION_RE = re.compile(rf"\(\s*name\s*:=\s*(?P<name>{ATOM}(?:\.{ATOM})*)\s*\)")
_ATTR_LIST_RE = re.compile(r"@\[(?:[^\[\]]|\[[^\[\]]*\])*\]")
_MODIFIER_RE = re.compile(rf"^(?:{_MODIFIER_WORDS})$")


class InstanceHeader(Frozen):
    """What an ``instance`` command says before its body (read from blanked text)."""

    name: str | None
    """The instance's own name, when it has one."""
    priority: str | None
    """The text of ``(priority := …)``, when given."""
    binders: tuple[str, ...]
    """Names bound by the instance's binders (``[inst : C α]`` -> ``inst``, ``{α}`` -> ``α``)."""
    class_name: str | None
    """The class (first identifier of the type), ``None`` when the header is unreadable."""
    arguments: tuple[str, ...]
    """Identifiers in the type after the class, in order (bound names included)."""
    type_text: str


def instance_header(blanked: str, after_keyword: int) -> InstanceHeader:
    """Read an ``instance`` header in blanked text, from just after the keyword."""
    i, n = after_keyword, len(blanked)

    def skip_ws(k: int) -> int:
        while k < n and blanked[k].isspace():
            k += 1
        return k

    def group_end(k: int) -> int:
        depth = 0
        while k < n:
            if blanked[k] in "([{⦃⟨":
                depth += 1
            elif blanked[k] in ")]}⦄⟩":
                depth -= 1
                if depth == 0:
                    return k + 1
            k += 1
        return n

    priority = name = None
    i = skip_ws(i)
    m = re.match(r"\(\s*priority\s*:=", blanked[i:])
    if m:
        end = group_end(i)
        priority = " ".join(blanked[i + m.end() : end - 1].split())
        i = skip_ws(end)
    m = IDENT_RE.match(blanked, i)
    if m:
        name = m.group(0)
        i = skip_ws(m.end())
    binders: list[str] = []
    while i < n and blanked[i] in "([{⦃":
        end = group_end(i)
        inner = blanked[i + 1 : end - 1]
        if ":" in inner and not inner.lstrip().startswith(":"):
            head = inner.split(":", 1)[0]
            binders.extend(t for t in head.split() if IDENT_RE.fullmatch(t))
        elif blanked[i] == "{":
            binders.extend(t for t in inner.split() if IDENT_RE.fullmatch(t))
        i = skip_ws(end)
    if not blanked.startswith(":", i) or blanked.startswith(":=", i):
        return InstanceHeader(name=name, priority=priority, binders=tuple(binders), class_name=None,
                              arguments=(), type_text="")
    body = _signature(blanked[i + 1 :])
    m = re.search(r"\swhere\b", body)
    type_text = " ".join((body[: m.start()] if m else body).split())
    idents = [t for t in IDENT_RE.findall(type_text.removeprefix("@"))]
    return InstanceHeader(name=name, priority=priority, binders=tuple(binders),
                          class_name=idents[0] if idents else None, arguments=tuple(idents[1:]),
                          type_text=type_text)


THEOREM_KINDS = frozenset({"theorem", "lemma"})
"""The declaration kinds that state a proposition with a proof."""


class Declaration(Frozen):
    name: str
    """Fully qualified (``namespace`` prefixes applied); ``example`` gets ``_example_<line>``."""
    short_name: str
    kind: str
    line: int
    end_line: int
    text: str
    """Exact source text of the declaration (comments included, trailing blank lines dropped)."""
    signature: str
    """Text up to the top-level ``:=`` (or the whole text if none), comments removed."""
    modifiers: tuple[str, ...] = ()
    """``private``, ``scoped``, ``local``, ``noncomputable``… as written (attributes aside)."""
    attributes: str = ""
    """The ``@[…]`` attribute lists before it, white space folded."""

    @property
    def digest(self) -> str:
        """Hash of the declaration with comments removed and white space folded."""
        return normalized_digest(self.text)

    @property
    def signature_digest(self) -> str:
        return normalized_digest(self.signature)


def normalized_digest(text: str) -> str:
    """SHA-256 of the text with comments removed and white space folded."""
    folded = " ".join(strip_comments(text).split())
    return hashlib.sha256(folded.encode()).hexdigest()


def declarations(source: str) -> list[Declaration]:
    """Declarations of a Lean file, in order, at any indentation.

    Besides ``theorem``/``def``/… this lists ``instance`` (anonymous ones named like Lean
    does, ``inst`` + the identifiers of the type, e.g. ``instLERat``), ``axiom``, ``opaque``,
    ``structure``/``class``/``inductive``, and the commands that change how later text
    elaborates: ``notation``/``infix…``/``macro``/``syntax``/``elab`` (named by
    ``(name := …)`` or ``_<kind>.<digest>``), ``attribute […]`` and ``deriving instance``.
    Modifiers (``private``, ``scoped``, ``local``…), ``@[…]`` attributes, ``open … in`` and a
    doc comment on the same line may precede the keyword, and a command may follow other text
    on its line (Lean needs no line break between commands); keywords inside attribute lists
    and after ``deriving`` are not commands. Names are qualified by the enclosing
    ``namespace`` blocks (``mutual``/``section`` blocks add nothing). A declaration's text runs
    from its line (or from the command, when code precedes it there) to the next command.
    """
    blanked = blank_comments_and_strings(source)
    events, ordered = _command_events(blanked)
    newlines = [m.start() for m in re.finditer("\n", blanked)]
    return [_declaration(source, blanked, newlines, ordered, offset, m, prefix)
            for offset, m, prefix in _qualified(events)]


Event = tuple[int, str, re.Match[str]]
"""(offset, ``"decl"`` or ``"scope"``, the match) of a command."""


def _command_events(blanked: str) -> tuple[list[Event], list[int]]:
    """The declaration and scope commands in order (a scope first at the same offset), and
    every offset where a command starts (those and the other commands at column 0)."""
    brackets = [(m.start(), m.group(0)) for m in re.finditer(r"[\[\]]", blanked)]
    events: list[Event] = []
    for m in _DECL_RE.finditer(blanked):
        if _command_start(blanked, m.start(), brackets):
            events.append((m.start(), "decl", m))
    for m in _SCOPE_RE.finditer(blanked):
        if _command_start(blanked, m.start(), brackets):
            events.append((m.start(), "scope", m))
    boundaries: set[int] = {e[0] for e in events}
    boundaries.update(m.start() for m in _BOUNDARY_RE.finditer(blanked))
    events.sort(key=lambda e: (e[0], e[1] != "scope"))
    return events, sorted(boundaries)


def _qualified(events: list[Event]) -> list[tuple[int, re.Match[str], str]]:
    """(offset, match, namespace prefix) of each declaration, the scopes applied."""
    namespaces: list[tuple[str, str]] = []  # (kind, name)
    starts: list[tuple[int, re.Match[str], str]] = []
    for offset, kind, m in events:
        if kind == "scope":
            cmd, name = " ".join(m.group("cmd").split()), m.group("name") or ""
            if cmd == "namespace":
                namespaces.append(("namespace", name))
            elif cmd.endswith("section"):
                namespaces.append(("section", name))
            elif cmd == "mutual":
                namespaces.append(("mutual", ""))
            elif cmd == "end" and namespaces:
                namespaces.pop()
            continue
        prefix = ".".join(n for k, n in namespaces if k == "namespace" and n)
        starts.append((offset, m, prefix))
    return starts


def _line_start(blanked: str, offset: int) -> int:
    """Where the text of a command at ``offset`` begins: its line, when only white space and
    comments precede it there; otherwise the command itself."""
    begin = blanked.rfind("\n", 0, offset) + 1
    return begin if not blanked[begin:offset].strip() else offset


def _declaration(source: str, blanked: str, newlines: list[int], ordered: list[int], offset: int,
                 m: re.Match[str], prefix: str) -> Declaration:
    """The declaration whose command the match ``m`` found at ``offset``: its text runs to the
    next command (``ordered``: where every command starts)."""
    k = bisect.bisect_right(ordered, offset)
    nxt = ordered[k] if k < len(ordered) else len(source)
    first = _line_start(blanked, offset)
    end = _line_start(blanked, nxt) if nxt < len(source) else nxt
    kept = source[first:end].split("\n")
    while len(kept) > 1 and not kept[-1].strip():
        kept.pop()
    text = "\n".join(kept)
    start_line = bisect.bisect_left(newlines, first) + 1
    kind = " ".join(m.group("kind").split())
    short = _declaration_name(kind, blanked[m.end() : nxt], text, start_line)
    if short.startswith("_root_."):
        full = short.removeprefix("_root_.")
    else:
        full = f"{prefix}.{short}" if prefix else short
    sig = _signature(blank_comments_and_strings(text))
    words = m.group("prefix")
    attrs = " ".join(" ".join(_ATTR_LIST_RE.findall(words)).split())
    rest = _ATTR_LIST_RE.sub(" ", re.sub(rf"^{_IN_PREFIX}", " ", words))
    modifiers = tuple(w for w in rest.split() if _MODIFIER_RE.match(w))
    return Declaration(
        name=full, short_name=short, kind=kind, line=start_line, end_line=start_line + len(kept) - 1,
        text=text, signature=" ".join(sig.split()), modifiers=modifiers, attributes=attrs,
    )


def _command_start(blanked: str, offset: int, brackets: list[tuple[int, str]]) -> bool:
    """A keyword starts a command unless it sits in an attribute list (``@[simp, instance]``,
    ``attribute [instance] f``) or follows ``deriving``. ``brackets``: every ``[``/``]`` of
    ``blanked`` with its offset, in order."""
    if blanked[max(0, offset - 40) : offset].rstrip().endswith("deriving"):
        return False
    depth = 0
    k = bisect.bisect_left(brackets, (offset, ""))
    while k > 0 and brackets[k - 1][0] >= offset - 4000:
        k -= 1
        if brackets[k][1] == "]":
            depth += 1
        elif depth == 0:
            return False  # inside an unclosed `[`: an attribute list
        else:
            depth -= 1
    return True


def _declaration_name(kind: str, body: str, text: str, line: int) -> str:
    """The declared name, or a stable stand-in for commands that have none."""
    if kind == "example":
        return f"_example_{line}"
    if kind == "instance":
        header = instance_header(body, 0)
        if header.name:
            return header.name
        parts = [header.class_name or "", *header.arguments]
        words = [p.rsplit(".", 1)[-1].replace("«", "").replace("»", "") for p in parts if p]
        return "inst" + "".join(w[:1].upper() + w[1:] for w in words if w not in header.binders) \
            if header.class_name else f"_instance.{normalized_digest(text)[:12]}"
    if kind in _NAMED_KINDS:
        m = IDENT_RE.match(body.lstrip())
        if m:
            return m.group(0)
        return f"_{kind.replace(' ', '_')}.{normalized_digest(text)[:12]}"
    named = _NAME_OPTION_RE.search(body.split("=>", 1)[0])
    if named:
        return named.group("name")
    return f"_{kind.replace(' ', '_')}.{normalized_digest(text)[:12]}"


def top_level_index(text: str, token: str) -> int:
    """Offset of the first ``token`` (``:=``, ``:``) outside brackets — parentheses, square,
    curly, strict-implicit and anonymous-constructor brackets — or -1. ``text`` should have its
    comments (and, where they may hold the token, string literals) blanked."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{⦃⟨":
            depth += 1
        elif ch in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and text.startswith(token, i):
            return i
    return -1


def _signature(blanked_decl: str) -> str:
    """Text before the first top-level ``:=`` (or ``where``/``|`` for pattern definitions)."""
    at = top_level_index(blanked_decl, ":=")
    if at >= 0:
        return blanked_decl[:at]
    m = re.search(r"\swhere\b|\n\s*\|", blanked_decl)
    return blanked_decl[: m.start()] if m else blanked_decl


def module_name(relative_path: str) -> str:
    """``Formal/Debate/Tree.lean`` -> ``Formal.Debate.Tree``."""
    return relative_path.removesuffix(".lean").replace("/", ".")


class Import(Frozen):
    module: str
    """Dotted name as Lean resolves it (``«Formal».Basic`` is ``Formal.Basic``)."""
    line: int
    """1-based line of the module's name."""
    column: int
    """0-based column of the module's name."""


class Header(Frozen):
    """A file's header as Lean's grammar reads it (``Lean.Parser.Module.header``)."""

    module: bool = False
    prelude: bool = False
    imports: tuple[Import, ...] = ()
    end: int = 0
    """Offset just after the header's last token (0: the file has no header)."""


_HEADER_WORD_RE = re.compile(rf"{ATOM}(?:\.{ATOM})*")
_IMPORT_MODIFIERS = frozenset({"public", "meta", "private"})


def header(source: str) -> Header:
    """The header of a Lean file, read as Lean's grammar defines it::

        header := ["module"] ["prelude"] import*
        import := ["public"] ["meta"] "import" ["all"] ident

    with whitespace, newlines and comments anywhere between the words (so several imports
    may share a line). The header ends at the first word that does not continue it, as in
    Lean. This is the ONE reader of imports: the build's module graph and fingerprints, the
    audit's environment, the cache keys, the resident workers' header and the policy use it.
    Modifiers are accepted in any order (``private`` too): reading an import Lean would
    refuse is harmless (Lean then fails the file), missing one Lean loads is not."""
    blanked = blank_comments_and_strings(source)
    line_starts = [0] + [m.end() for m in re.finditer("\n", blanked)]

    def word(at: int) -> tuple[str, int, int]:
        """(word, start, end) of the next identifier-like word after whitespace."""
        start = at
        while start < len(blanked) and blanked[start].isspace():
            start += 1
        m = _HEADER_WORD_RE.match(blanked, start)
        if m is None:
            return "", start, start
        return m.group(0), start, m.end()

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1]

    module = prelude = False
    end = 0
    text, _start, stop = word(0)
    if text == "module":
        module, end = True, stop
        text, _start, stop = word(stop)
    if text == "prelude":
        prelude, end = True, stop
    found: list[Import] = []
    while True:
        text, _start, stop = word(end)
        while text in _IMPORT_MODIFIERS:
            text, _start, stop = word(stop)
        if text != "import":
            break
        name, start, stop = word(stop)
        if name == "all":
            after, after_start, after_stop = word(stop)
            if after and after not in COMMAND_KEYWORDS and after not in _IMPORT_MODIFIERS:
                name, start, stop = after, after_start, after_stop
        if not name:
            break
        line, column = position(start)
        found.append(Import(module=name.replace("«", "").replace("»", ""), line=line, column=column))
        end = stop
    return Header(module=module, prelude=prelude, imports=tuple(found), end=end)


def imports(source: str) -> list[str]:
    """Modules imported in the file header (see :func:`header`)."""
    return [i.module for i in header(source).imports]


__all__ = [
    "COMMAND_KEYWORDS",
    "CORE_INTERPOLATION",
    "INTERPOLATION",
    "THEOREM_KINDS",
    "Declaration",
    "Header",
    "Import",
    "InstanceHeader",
    "Token",
    "blank_comments_and_strings",
    "declarations",
    "header",
    "imports",
    "instance_header",
    "module_name",
    "normalized_digest",
    "starts_command",
    "strip_comments",
    "tokens",
    "top_level_index",
]
