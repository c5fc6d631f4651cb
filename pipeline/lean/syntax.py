"""A small, dependency-free reader of Lean 4 source text.

It does not parse Lean; it does exactly three things reliably:

* :func:`blank_comments_and_strings` replaces comments (line, nested block, doc) and string,
  raw-string and char literals with spaces, keeping every newline, so positions stay valid;
* :func:`tokens` splits the blanked text into identifiers/keywords/commands with positions;
* :func:`declarations` finds declarations and declaration-like commands (qualified by
  ``namespace``) with their full text, for pinning and diffing.

The trust policy, the claims registry and the gate all use it, so there is one
definition of "what counts as a token".

The lexer follows Lean 4's own (``src/Lean/Parser/Basic.lean`` and
``src/Lean/Parser/StrInterpolation.lean`` in leanprover/lean4; Lean has no separate lexer,
these are the token functions the parser calls):

* ``whitespace`` / ``finishCommentBlock``: ``--`` runs to the end of the line; ``/-`` opens a
  block comment that *nests* (each ``/-`` inside adds a level, each ``-/`` closes one); ``/--``
  (doc comment) and ``/-!`` (module doc) are tokens whose body is read by the same nesting
  ``finishCommentBlock`` starting *after* the three characters (so ``/--/`` does not close);
* ``tokenFnAux`` decides what a token is from its first character, in this order: ``"``
  string, ``'`` char literal unless the next character is also ``'``, digit number,
  backquote name literal, ``r`` followed by ``#*"`` raw string, else identifier or symbol.
  A token starts only where the previous one ended: the ``r`` or ``'`` inside an identifier
  (``for"``, ``x'``, ``x.r"``) is part of that identifier (``identFnAux``, ``isIdRest``);
* ``strLitFnAux`` / ``quotedStringFn``: in a string, ``\\`` escapes the next character
  (``\\x`` and ``\\u`` take hex digits, a line break after ``\\`` is a gap);
* ``rawStrLitFnAux``: ``r"..."``, ``r#"..."#``, ``r##"..."##``: *no* escapes, the literal
  ends at the first ``"`` followed by as many ``#`` as opened it, so ``r"\\"`` is complete;
* ``charLitFnAux``: ``'`` then one character or one ``\\`` escape, then ``'`` (``'"'`` and
  ``'\\''`` are char literals; a ``"`` in them opens no string);
* ``interpolatedStrFn``: after ``s!``, ``f!``, ``m!``, ``throwError``… the string's ``{…}``
  parts are *code*: they are kept (so a ``sorry`` there is seen) and may hold strings and
  braces of their own; ``\\{`` is an escaped brace.

Which strings are interpolated depends on the syntax in scope (``m!`` is a token only
when ``Lean`` is imported; elsewhere ``m!`` is an identifier). The policy therefore scans
both readings (:data:`CORE_INTERPOLATION` and :data:`INTERPOLATION`) and reports what either
exposes, so text Lean reads as code cannot hide from both. ``tests/lean/test_lexer_lean.py``
checks the reader against the real Lean on these forms.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator

from pipeline.models import Frozen

# Lean's isIdFirst / isIdRest (Init/Meta/Defs.lean: isLetterLike, isSubScriptAlnum); ASCII
# letters and digits only, plus these ranges.
_LETTER_LIKE = (
    "\u03b1-\u03ba\u03bc-\u03c9"  # lower Greek except lambda
    "\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9"  # upper Greek except Pi, Sigma
    "\u03ca-\u03fb\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f"
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u017f"
)
_SUBSCRIPT = "\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
_IDENT_START = rf"[A-Za-z_{_LETTER_LIKE}]"
_IDENT_REST = rf"[A-Za-z0-9_'!?{_LETTER_LIKE}{_SUBSCRIPT}]"
_ATOM = rf"(?:«[^»]*»|{_IDENT_START}{_IDENT_REST}*)"
_TOKEN_RE = re.compile(rf"#?{_ATOM}(?:\.{_ATOM})*|@\[|\[|\]|:=|\(|\)|:|,")
_ID_FIRST_RE = re.compile(_IDENT_START)
_IDENT_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
# numberFnAux: 0b/0o/0x with digits and '_', decimals with an optional '.digits' and exponent.
_NUMBER_RE = re.compile(
    r"0[bB][01_]*|0[oO][0-7_]*|0[xX][0-9a-fA-F_]*|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]*)?"
)
_QUOTABLE = frozenset("\\\"'rnt")

CORE_INTERPOLATION: frozenset[str] = frozenset({"s!", "f!"})
"""Tokens before an interpolated string in every Lean file (``Init`` declares them)."""
INTERPOLATION: frozenset[str] = CORE_INTERPOLATION | frozenset(
    {"m!", "throwError", "logInfo", "logWarning", "logError", "println!", "dbg_trace"}
)
"""Also those that are interpolated once ``Lean`` (or a module declaring them) is imported.
(Forms whose string is not right after the keyword, such as ``throwErrorAt ref "…"``, read as
plain strings; they need ``import Lean``, which the policy allows only to trusted tooling.)"""


COMMAND_KEYWORDS: frozenset[str] = frozenset({
    "theorem", "lemma", "def", "abbrev", "instance", "structure", "class", "inductive",
    "coinductive", "axiom", "example", "opaque", "constant", "namespace", "section",
    "end", "import", "module", "prelude", "set_option", "open", "export", "universe",
    "variable", "omit", "include", "attribute", "mutual", "deriving", "private", "protected",
    "public", "noncomputable", "partial", "unsafe", "meta", "macro", "macro_rules", "syntax",
    "elab", "elab_rules", "notation", "infix", "infixl", "infixr", "prefix", "postfix",
    "initialize", "builtin_initialize", "declare_syntax_cat", "simproc", "dsimproc",
    "register_simp_attr", "add_decl_doc", "local", "scoped",
})
"""Tokens that start (or modify) a top-level command. None may appear in a proof."""


def starts_command(token: str) -> bool:
    """Whether a token starts (or modifies) a top-level command: a submission's proof may hold
    none (``claims.assemble``), and a batch member with one is never batched."""
    return token in COMMAND_KEYWORDS or token.startswith("#") or token == "@["


class Token(Frozen):
    text: str
    line: int
    """1-based."""
    column: int
    """0-based."""


class _Lexer:
    """One pass over the source in Lean's token order, recording comment and literal spans."""

    def __init__(self, source: str, interpolation: frozenset[str]) -> None:
        self.s = source
        self.n = len(source)
        self.interpolation = interpolation
        self.spans: list[tuple[str, int, int]] = []

    def run(self) -> list[tuple[str, int, int]]:
        self.code(0, in_braces=False)
        return self.spans

    def code(self, i: int, *, in_braces: bool) -> int:
        """Read code from ``i``; inside ``{…}`` of an interpolated string, stop after the
        closing brace and return the position after it."""
        s, n = self.s, self.n
        depth = 0
        last = ""  # the previous token, to know whether a string is interpolated
        while i < n:
            c = s[i]
            if c.isspace():
                i += 1
            elif s.startswith("--", i):
                j = s.find("\n", i)
                j = n if j == -1 else j
                self.spans.append(("comment", i, j))
                i = j
            elif s.startswith("/-", i):
                body = i + 3 if s.startswith(("/--", "/-!"), i) else i + 2
                j = self._block_comment_end(body)
                self.spans.append(("comment", i, j))
                i = j
            elif c == '"':
                i = self._interpolated(i) if last in self.interpolation else self._string(i)
                last = '"'
            elif c == "'" and i + 1 < n and s[i + 1] != "'":
                char_end = self._char_end(i)
                if char_end is not None:
                    self.spans.append(("char", i, char_end))
                    i, last = char_end, "'"
                else:  # Lean rejects the file ("missing end of character literal")
                    i, last = i + 1, "'"
            elif c.isdigit():
                m = _NUMBER_RE.match(s, i)
                i = m.end() if m and m.end() > i else i + 1
                last = "0"
            elif c == "`" and i + 1 < n and (s[i + 1] == "«" or _ID_FIRST_RE.match(s[i + 1])):
                i, last = self._ident_end(i + 1), "`name"
            elif c == "r" and self._raw_start(i + 1):
                i, last = self._raw_string(i), '"'
            elif c == "«" or _ID_FIRST_RE.match(c):
                j = self._ident_end(i)
                last = s[i:j]
                i = j
            else:
                if in_braces and c == "{":
                    depth += 1
                elif in_braces and c == "}":
                    if depth == 0:
                        return i + 1
                    depth -= 1
                last = c
                i += 1
        return n

    def _block_comment_end(self, j: int) -> int:
        s, n, nesting = self.s, self.n, 1
        while j < n:
            if s.startswith("-/", j):
                nesting -= 1
                j += 2
                if nesting == 0:
                    return j
            elif s.startswith("/-", j):
                nesting += 1
                j += 2
            else:
                j += 1
        return n  # unterminated: Lean rejects the file; everything after it is comment

    def _string(self, i: int) -> int:
        s, n, j = self.s, self.n, i + 1
        while j < n and s[j] != '"':
            j += 2 if s[j] == "\\" else 1
        end = min(j + 1, n)
        self.spans.append(("string", i, end))
        return end

    def _interpolated(self, i: int) -> int:
        s, n = self.s, self.n
        piece, j = i, i + 1
        while j < n:
            c = s[j]
            if c == '"':
                self.spans.append(("string", piece, j + 1))
                return j + 1
            if c == "\\":
                j += 2
            elif c == "{":
                self.spans.append(("string", piece, j + 1))
                j = self.code(j + 1, in_braces=True)
                piece = j - 1  # the closing brace is blanked with the next piece
            else:
                j += 1
        self.spans.append(("string", piece, n))
        return n

    def _raw_start(self, j: int) -> bool:
        while j < self.n and self.s[j] == "#":
            j += 1
        return j < self.n and self.s[j] == '"'

    def _raw_string(self, i: int) -> int:
        s = self.s
        j = i + 1
        hashes = 0
        while s[j] == "#":
            hashes, j = hashes + 1, j + 1
        close = s.find('"' + "#" * hashes, j + 1)
        end = self.n if close == -1 else close + 1 + hashes
        self.spans.append(("string", i, end))
        return end

    def _char_end(self, i: int) -> int | None:
        s, n = self.s, self.n
        j = i + 1
        if s[j] == "\\":
            j += 1
            if j >= n:
                return None
            if s[j] in _QUOTABLE:
                j += 1
            elif s[j] == "x":
                j += 3
            elif s[j] == "u":
                j += 5
            else:
                return None
        else:
            j += 1
        return j + 1 if j < n and s[j] == "'" else None

    def _ident_end(self, i: int) -> int:
        m = _IDENT_RE.match(self.s, i)
        if m is None:  # an unterminated «: Lean rejects the file
            return i + 1
        return m.end()


def _literal_spans(source: str, interpolation: frozenset[str] = INTERPOLATION) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every comment, string literal and char literal, in order.

    Pieces of an interpolated string are separate ``string`` spans around its code."""
    return sorted(_Lexer(source, interpolation).run(), key=lambda span: span[1])


def blank_comments_and_strings(source: str, *, interpolation: frozenset[str] = INTERPOLATION) -> str:
    """Return ``source`` with comments and string/char literals replaced by spaces.

    The code inside an interpolated string's braces stays; ``interpolation`` says which
    tokens make the following string interpolated (see the module docstring)."""
    out = list(source)
    for _kind, start, end in _literal_spans(source, interpolation):
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


def tokens(source: str, *, blanked: bool = False) -> Iterator[Token]:
    """Identifier-like tokens (and a few brackets) of the source, outside comments/strings."""
    text = source if blanked else blank_comments_and_strings(source)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line = 0
    for m in _TOKEN_RE.finditer(text):
        while line + 1 < len(line_starts) and line_starts[line + 1] <= m.start():
            line += 1
        # built without re-validation: the three values are a str and two ints by construction
        yield Token.model_construct(text=m.group(0), line=line + 1, column=m.start() - line_starts[line])


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
_NOT_IDENT_AFTER = rf"(?![A-Za-z0-9_'!?.{_LETTER_LIKE}{_SUBSCRIPT}])"
# Commands may follow other text on the same line (`… := trivial theorem b …`): the patterns
# match after any white space, and _command_start rejects keywords inside attribute lists.
_DECL_RE = re.compile(
    rf"(?<!\S)(?P<prefix>{_IN_PREFIX}{_ATTRS}{_MODIFIERS})(?P<kind>{_KIND_ALTERNATIVES}){_NOT_IDENT_AFTER}"
)
_SCOPE_RE = re.compile(
    rf"(?<!\S)(?:@\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*)*"
    rf"(?P<cmd>namespace|(?:(?:noncomputable|public|private)\s+)*section|end|mutual){_NOT_IDENT_AFTER}"
    rf"[ \t]*(?P<name>{_ATOM}(?:\.{_ATOM})*)?",
)
_BOUNDARY_RE = re.compile(
    r"^(?:open|variable|universe|set_option|export|include|omit|run_cmd|run_elab|run_meta|"
    r"initialize|builtin_initialize|#[A-Za-z_]+)\b",
    re.MULTILINE,
)
"""Other commands at column 0: they end the declaration before them."""
_NAME_OPTION_RE = re.compile(rf"\(\s*name\s*:=\s*(?P<name>{_ATOM}(?:\.{_ATOM})*)\s*\)")
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
    m = _IDENT_RE.match(blanked, i)
    if m:
        name = m.group(0)
        i = skip_ws(m.end())
    binders: list[str] = []
    while i < n and blanked[i] in "([{⦃":
        end = group_end(i)
        inner = blanked[i + 1 : end - 1]
        if ":" in inner and not inner.lstrip().startswith(":"):
            head = inner.split(":", 1)[0]
            binders.extend(t for t in head.split() if _IDENT_RE.fullmatch(t))
        elif blanked[i] == "{":
            binders.extend(t for t in inner.split() if _IDENT_RE.fullmatch(t))
        i = skip_ws(end)
    if not blanked.startswith(":", i) or blanked.startswith(":=", i):
        return InstanceHeader(name=name, priority=priority, binders=tuple(binders), class_name=None,
                              arguments=(), type_text="")
    body = _signature(blanked[i + 1 :])
    m = re.search(r"\swhere\b", body)
    type_text = " ".join((body[: m.start()] if m else body).split())
    idents = [t for t in _IDENT_RE.findall(type_text.removeprefix("@"))]
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


def strip_comments(text: str) -> str:
    """Remove comments only (each becomes one space), keeping string literals intact."""
    out, last = [], 0
    for kind, start, end in _literal_spans(text):
        if kind == "comment":
            out.append(text[last:start])
            out.append(" ")
            last = end
    out.append(text[last:])
    return "".join(out)


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
    brackets = [(m.start(), m.group(0)) for m in re.finditer(r"[\[\]]", blanked)]
    events: list[tuple[int, str, re.Match[str]]] = []
    for m in _DECL_RE.finditer(blanked):
        if _command_start(blanked, m.start(), brackets):
            events.append((m.start(), "decl", m))
    for m in _SCOPE_RE.finditer(blanked):
        if _command_start(blanked, m.start(), brackets):
            events.append((m.start(), "scope", m))
    boundaries: set[int] = {e[0] for e in events}
    boundaries.update(m.start() for m in _BOUNDARY_RE.finditer(blanked))
    events.sort(key=lambda e: (e[0], e[1] != "scope"))
    ordered = sorted(boundaries)

    newlines = [m.start() for m in re.finditer("\n", blanked)]

    def line_of(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

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

    def line_start(offset: int) -> int:
        """Where the text of a command at ``offset`` begins: its line, when only white space
        and comments precede it there; otherwise the command itself."""
        begin = blanked.rfind("\n", 0, offset) + 1
        return begin if not blanked[begin:offset].strip() else offset

    result: list[Declaration] = []
    for offset, m, prefix in starts:
        k = bisect.bisect_right(ordered, offset)
        nxt = ordered[k] if k < len(ordered) else len(source)
        first = line_start(offset)
        end = line_start(nxt) if nxt < len(source) else nxt
        kept = source[first:end].split("\n")
        while len(kept) > 1 and not kept[-1].strip():
            kept.pop()
        text = "\n".join(kept)
        start_line = line_of(first)
        end_line = start_line + len(kept) - 1
        kind = " ".join(m.group("kind").split())
        body = blanked[m.end() : nxt]
        short = _declaration_name(kind, body, text, start_line)
        if short.startswith("_root_."):
            full = short.removeprefix("_root_.")
        else:
            full = f"{prefix}.{short}" if prefix else short
        sig = _signature(blank_comments_and_strings(text))
        words = m.group("prefix")
        attrs = " ".join(" ".join(_ATTR_LIST_RE.findall(words)).split())
        rest = _ATTR_LIST_RE.sub(" ", re.sub(rf"^{_IN_PREFIX}", " ", words))
        modifiers = tuple(w for w in rest.split() if _MODIFIER_RE.match(w))
        result.append(
            Declaration(
                name=full, short_name=short, kind=kind, line=start_line, end_line=end_line,
                text=text, signature=" ".join(sig.split()), modifiers=modifiers, attributes=attrs,
            )
        )
    return result


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
        m = _IDENT_RE.match(body.lstrip())
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


_HEADER_WORD_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
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
