"""Pure helpers that read model replies and compare attempts. No I/O."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from pipeline.lean.syntax import declarations, normalized_digest

_FENCE_RE = re.compile(r"```[ \t]*(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced code block, in order."""
    return [(m.group("lang").lower(), m.group("body").strip("\n")) for m in _FENCE_RE.finditer(text)]


def extract_lean(text: str, *, label: str | None = None) -> str:
    """The Lean code of a reply: the first ```lean block (optionally one whose first line is
    the comment ``-- <label>``); else the first fenced block; else the whole reply."""
    blocks = fenced_blocks(text)
    lean = [body for lang, body in blocks if lang in ("lean", "lean4")]
    if label is not None:
        tagged = [b for b in lean if b.lstrip().startswith(f"-- {label}")]
        if tagged:
            body = tagged[0].lstrip()
            return body.split("\n", 1)[1].strip() if "\n" in body else ""
        return ""
    if lean:
        return lean[0].strip()
    if blocks:
        return blocks[0][1].strip()
    return text.strip()


def extract_json(text: str) -> Any:
    """The JSON object in a reply: the whole reply, a fenced block, or the outermost ``{...}``.

    Raises ValueError if none parses.
    """
    candidates = [text.strip()]
    candidates += [body for _, body in fenced_blocks(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise ValueError("the reply contains no JSON object")


def normalized(proof: str) -> str:
    """Identity of an attempt for repeat detection: comments removed, white space folded."""
    return normalized_digest(proof)


def unified_diff(previous: str | None, current: str, *, label: str = "proof") -> str:
    """``difflib`` unified diff of two attempts ("" for the first attempt)."""
    if previous is None:
        return ""
    return "".join(
        difflib.unified_diff(
            [line + "\n" for line in previous.splitlines()],
            [line + "\n" for line in current.splitlines()],
            fromfile=f"previous/{label}",
            tofile=f"current/{label}",
        )
    )


def without_proof_of(source: str, declaration: str) -> str:
    """``source`` with the proof of ``declaration`` replaced by a comment, so that a model
    shown the module's definitions is not shown the answer. Unchanged if it is absent."""
    for decl in declarations(source):
        if decl.name == declaration:
            lines = source.split("\n")
            stub = f"{decl.signature} :=\n  -- (proof omitted: this is the theorem to prove)\n"
            return "\n".join([*lines[: decl.line - 1], stub, *lines[decl.end_line :]])
    return source


def numbered(source: str) -> str:
    """Source with 1-based line numbers, so Lean's positions can be read against it."""
    lines = source.split("\n")
    width = len(str(len(lines)))
    return "\n".join(f"{i:>{width}} | {line}" for i, line in enumerate(lines, 1))


__all__ = [
    "extract_json",
    "extract_lean",
    "fenced_blocks",
    "normalized",
    "numbered",
    "unified_diff",
    "without_proof_of",
]
