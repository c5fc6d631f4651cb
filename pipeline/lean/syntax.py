"""A small, dependency-free reader of Lean 4 source text.

It does not parse Lean; it does exactly three things reliably:

* :func:`blank_comments_and_strings` replaces comments (line, nested block, doc) and string
  literals with spaces, keeping every newline, so positions stay valid;
* :func:`tokens` splits the blanked text into identifiers/keywords/commands with positions;
* :func:`declarations` finds top-level declarations (qualified by ``namespace``) with
  their full text, for pinning and diffing.

The trust policy, the claims registry and the gate all use it, so there is one
definition of "what counts as a token".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from pipeline.models import Frozen

_IDENT_START = r"[A-Za-z_\u00C0-\u024F\u0370-\u03FF\u1F00-\u1FFF\u2100-\u214F\U0001D400-\U0001D7FF]"
_IDENT_REST = r"[A-Za-z0-9_'!?\u00C0-\u024F\u0370-\u03FF\u1F00-\u1FFF\u2070-\u209F\u2100-\u214F\U0001D400-\U0001D7FF]"
_ATOM = rf"(?:«[^»\n]*»|{_IDENT_START}{_IDENT_REST}*)"
_TOKEN_RE = re.compile(rf"#?{_ATOM}(?:\.{_ATOM})*|@\[|\[|\]|:=|\(|\)|:|,")


class Token(Frozen):
    text: str
    line: int
    """1-based."""
    column: int
    """0-based."""


def _literal_spans(source: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of every comment, string literal and char literal, in order."""
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "-" and source.startswith("--", i):
            j = source.find("\n", i)
            j = n if j == -1 else j
            yield "comment", i, j
            i = j
        elif c == "/" and source.startswith("/-", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/-", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("-/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            yield "comment", i, j
            i = j
        elif c == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            yield "string", i, min(j + 1, n)
            i = j + 1
        elif c == "'" and (i == 0 or not re.match(_IDENT_REST, source[i - 1])):
            m = _CHAR_RE.match(source, i)
            if m:
                yield "char", i, m.end()
                i = m.end()
            else:
                i += 1
        else:
            i += 1


_CHAR_RE = re.compile(r"'(?:\\.|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|[^'\\\n])'")


def blank_comments_and_strings(source: str) -> str:
    """Return ``source`` with comments and string/char literals replaced by spaces."""
    out = list(source)
    for _kind, start, end in _literal_spans(source):
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
        yield Token(text=m.group(0), line=line + 1, column=m.start() - line_starts[line])


_DECL_KINDS = (
    "theorem", "lemma", "def", "abbrev", "instance", "structure", "class", "inductive",
    "axiom", "example", "opaque",
)
_MODIFIERS = r"(?:(?:private|protected|public|noncomputable|partial|unsafe|nonrec|meta)\s+)*"
_ATTRS = r"(?:@\[[^\]]*\]\s*)*"
_DECL_RE = re.compile(
    rf"^(?P<prefix>{_ATTRS}{_MODIFIERS})(?P<kind>{'|'.join(_DECL_KINDS)})\b\s*(?P<name>{_ATOM}(?:\.{_ATOM})*)?",
    re.MULTILINE,
)
_SCOPE_RE = re.compile(rf"^(?P<cmd>namespace|section|end|noncomputable section|public section)\b[ \t]*(?P<name>{_ATOM}(?:\.{_ATOM})*)?", re.MULTILINE)


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
    """Top-level declarations of a Lean file, in order."""
    blanked = blank_comments_and_strings(source)
    lines = source.split("\n")
    events: list[tuple[int, str, re.Match[str]]] = []
    for m in _DECL_RE.finditer(blanked):
        events.append((m.start(), "decl", m))
    for m in _SCOPE_RE.finditer(blanked):
        events.append((m.start(), "scope", m))
    events.sort(key=lambda e: e[0])

    def line_of(offset: int) -> int:
        return blanked.count("\n", 0, offset) + 1

    namespaces: list[tuple[str, str]] = []  # (kind, name)
    starts: list[tuple[int, re.Match[str], str]] = []
    boundaries: list[int] = [e[0] for e in events]
    for offset, kind, m in events:
        if kind == "scope":
            cmd, name = m.group("cmd"), m.group("name") or ""
            if cmd == "namespace":
                namespaces.append(("namespace", name))
            elif cmd.endswith("section") or cmd == "section":
                namespaces.append(("section", name))
            elif cmd == "end" and namespaces:
                namespaces.pop()
            continue
        prefix = ".".join(n for k, n in namespaces if k == "namespace" and n)
        starts.append((offset, m, prefix))

    result: list[Declaration] = []
    for offset, m, prefix in starts:
        nxt = min((b for b in boundaries if b > offset), default=len(source))
        start_line, end_line = line_of(offset), line_of(nxt) - (0 if nxt == len(source) else 1)
        while end_line > start_line and not lines[end_line - 1].strip():
            end_line -= 1
        text = "\n".join(lines[start_line - 1 : end_line])
        kind = m.group("kind")
        short = m.group("name") or ""
        if kind == "example" or not short:
            short = f"_example_{start_line}"
        if short.startswith("_root_."):
            full = short.removeprefix("_root_.")
        else:
            full = f"{prefix}.{short}" if prefix else short
        sig = _signature(blank_comments_and_strings(text))
        result.append(
            Declaration(
                name=full, short_name=short, kind=kind, line=start_line, end_line=end_line,
                text=text, signature=" ".join(sig.split()),
            )
        )
    return result


def _signature(blanked_decl: str) -> str:
    """Text before the first top-level ``:=`` (or ``where``/``|`` for pattern definitions)."""
    depth = 0
    for i, ch in enumerate(blanked_decl):
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and blanked_decl.startswith(":=", i):
            return blanked_decl[:i]
    m = re.search(r"\swhere\b|\n\s*\|", blanked_decl)
    return blanked_decl[: m.start()] if m else blanked_decl


def module_name(relative_path: str) -> str:
    """``Formal/Debate/Tree.lean`` -> ``Formal.Debate.Tree``."""
    return relative_path.removesuffix(".lean").replace("/", ".")


_IMPORT_RE = re.compile(r"^\s*(?:public\s+|private\s+|meta\s+)*import\s+(?:all\s+)?(\S+)", re.MULTILINE)


def imports(source: str) -> list[str]:
    """Modules imported in the file header."""
    return _IMPORT_RE.findall(blank_comments_and_strings(source))


__all__ = [
    "Declaration",
    "Token",
    "blank_comments_and_strings",
    "declarations",
    "imports",
    "module_name",
    "normalized_digest",
    "strip_comments",
    "tokens",
]
