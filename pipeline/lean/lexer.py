"""The lexical layer of :mod:`pipeline.lean.syntax` (which re-exports it: callers import from
there): comments, string and char literals, identifiers and tokens, read as Lean reads them.

* :func:`blank_comments_and_strings` replaces comments (line, nested block, doc) and string,
  raw-string and char literals with spaces, keeping every newline, so positions stay valid;
* :func:`tokens` splits the blanked text into identifiers/keywords/commands with positions.

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

import re
from collections.abc import Iterator

from pipeline.models import Frozen

# Lean's isIdFirst / isIdRest (Init/Meta/Defs.lean: isLetterLike, isSubScriptAlnum); ASCII
# letters and digits only, plus these ranges.
LETTER_LIKE = (
    "\u03b1-\u03ba\u03bc-\u03c9"  # lower Greek except lambda
    "\u0391-\u039f\u03a1\u03a2\u03a4-\u03a9"  # upper Greek except Pi, Sigma
    "\u03ca-\u03fb\u1f00-\u1ffe\u2100-\u214f\U0001d49c-\U0001d59f"
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u017f"
)
SUBSCRIPT = "\u2080-\u2089\u2090-\u209c\u1d62-\u1d6a\u2c7c"
_IDENT_START = rf"[A-Za-z_{LETTER_LIKE}]"
_IDENT_REST = rf"[A-Za-z0-9_'!?{LETTER_LIKE}{SUBSCRIPT}]"
ATOM = rf"(?:«[^»]*»|{_IDENT_START}{_IDENT_REST}*)"
_TOKEN_RE = re.compile(rf"#?{ATOM}(?:\.{ATOM})*|@\[|\[|\]|:=|\(|\)|:|,")
_ID_FIRST_RE = re.compile(_IDENT_START)
IDENT_RE = re.compile(rf"{ATOM}(?:\.{ATOM})*")
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
        m = IDENT_RE.match(self.s, i)
        if m is None:  # an unterminated «: Lean rejects the file
            return i + 1
        return m.end()


def literal_spans(source: str, interpolation: frozenset[str] = INTERPOLATION) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every comment, string literal and char literal, in order.

    Pieces of an interpolated string are separate ``string`` spans around its code."""
    return sorted(_Lexer(source, interpolation).run(), key=lambda span: span[1])


def blank_comments_and_strings(source: str, *, interpolation: frozenset[str] = INTERPOLATION) -> str:
    """Return ``source`` with comments and string/char literals replaced by spaces.

    The code inside an interpolated string's braces stays; ``interpolation`` says which
    tokens make the following string interpolated (see the module docstring)."""
    out = list(source)
    for _kind, start, end in literal_spans(source, interpolation):
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


def strip_comments(text: str) -> str:
    """Remove comments only (each becomes one space), keeping string literals intact."""
    out, last = [], 0
    for kind, start, end in literal_spans(text):
        if kind == "comment":
            out.append(text[last:start])
            out.append(" ")
            last = end
    out.append(text[last:])
    return "".join(out)


__all__ = ["ATOM", "COMMAND_KEYWORDS", "CORE_INTERPOLATION", "IDENT_RE", "INTERPOLATION", "LETTER_LIKE", "SUBSCRIPT",
           "Token", "blank_comments_and_strings", "literal_spans", "starts_command", "strip_comments", "tokens"]
