"""``sequent claims pin ID``: recompute the pins of a claim and write them back.

Two tables of the claim's TOML file are rewritten: ``[lean.definitions]`` (a readable summary:
the source digests of the definitions the statement uses) and ``[lean.meaning]`` (what decides:
digests of the compiled statement and of every project constant it reaches, from
:func:`pipeline.claims.meaning.meaning_pins`). The rest of the file (comments, layout) is kept
byte for byte. The rewritten file is read back and validated before it replaces the original.
"""

from __future__ import annotations

import json
import os
import re
import tomllib

from pipeline.claims.library import LeanLibrary, definition_pins
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry, parse_claim, relative
from pipeline.errors import ClaimError
from pipeline.models import Frozen
from pipeline.settings import Settings

TABLE = "lean.definitions"
MEANING_TABLE = "lean.meaning"
_ANY_HEADER = re.compile(r"^\s*\[")
_LEAN_HEADER = re.compile(r"^\s*\[\s*lean\s*\]\s*(#.*)?$")


class PinChange(Frozen):
    claim_id: str
    file: str
    added: dict[str, str]
    changed: dict[str, tuple[str, str]]
    """name -> (old digest, new digest)."""
    removed: dict[str, str]
    meaning_changed: tuple[str, ...] = ()
    """Keys of ``[lean.meaning]`` that were added, changed or removed."""

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.meaning_changed)


def _header_re(table: str) -> re.Pattern[str]:
    parts = r"\s*\.\s*".join(re.escape(p) for p in table.split("."))
    return re.compile(rf"^\s*\[\s*{parts}\s*\]\s*(#.*)?$")


def render_table(pins: dict[str, str], table: str = TABLE) -> list[str]:
    """A table of pins, one quoted key per line, sorted."""
    lines = [f"[{table}]"]
    lines += [f"{json.dumps(name, ensure_ascii=False)} = \"{digest}\"" for name, digest in sorted(pins.items())]
    return lines


def replace_table(text: str, pins: dict[str, str], table_name: str = TABLE) -> str:
    """``text`` with its ``[lean.definitions]`` (or other ``lean.*``) table replaced, or added
    after the ``[lean]`` table."""
    lines = text.splitlines()
    table = render_table(pins, table_name)
    header = _header_re(table_name)
    start = next((i for i, ln in enumerate(lines) if header.match(ln)), None)
    if start is None:
        lean = next((i for i, ln in enumerate(lines) if _LEAN_HEADER.match(ln)), None)
        if lean is None:
            raise ClaimError(f"the claim has no [lean] table to add [{table_name}] to")
        end = next((j for j in range(lean + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        while end > lean + 1 and not lines[end - 1].strip():
            end -= 1
        gap = [""] if end < len(lines) and lines[end].strip() else []
        new = lines[:end] + ["", *table] + gap + lines[end:]
    else:
        end = next((j for j in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        tail_blank = end < len(lines)
        new = lines[:start] + table + ([""] if tail_blank else []) + lines[end:]
    return "\n".join(new).rstrip("\n") + "\n"


def pin_claim(settings: Settings, claim_id: str, meaning: dict[str, str] | None = None) -> PinChange:
    """Recompute and write the pins of one claim. ``meaning`` is the claim's
    :func:`~pipeline.claims.meaning.meaning_pins` (``None``: leave ``[lean.meaning]`` as is)."""
    registry = load_registry(settings)
    claim = registry.get(claim_id)
    library = LeanLibrary.load(settings)
    if library.module(claim.lean.module) is None:
        raise ClaimError(f"{relative(settings, claim.path)}: lean.module: no Lean module "
                         f"{claim.lean.module} in the library")
    pins = definition_pins(claim, library)
    change = _diff(settings, claim, pins, meaning)
    if change.unchanged:
        return change
    original = claim.path.read_text(encoding="utf-8")
    data = tomllib.loads(original)
    lean_table = data.get("lean", {})
    for key, table in (("definitions", TABLE), ("meaning", MEANING_TABLE)):
        has_header = any(_header_re(table).match(ln) for ln in original.splitlines())
        if isinstance(lean_table, dict) and key in lean_table and not has_header:
            raise ClaimError(f"{relative(settings, claim.path)}: {table}: write the pins as a "
                             f"[{table}] table so that `pin` can rewrite them")
    updated = replace_table(original, pins)
    if meaning is not None:
        updated = replace_table(updated, meaning, MEANING_TABLE)
    tmp = claim.path.with_suffix(".toml.tmp")
    tmp.write_text(updated, encoding="utf-8")
    try:
        reread, problems = parse_claim(settings, tmp)
        if reread is None or dict(reread.lean.definitions) != pins or (
                meaning is not None and dict(reread.lean.meaning) != meaning):
            detail = "; ".join(str(p) for p in problems) or "the pins did not round-trip"
            raise ClaimError(f"{relative(settings, claim.path)}: could not rewrite "
                             f"the pins: {detail}")
        os.replace(tmp, claim.path)
    finally:
        tmp.unlink(missing_ok=True)
    return change


def _diff(settings: Settings, claim: Claim, pins: dict[str, str],
          meaning: dict[str, str] | None) -> PinChange:
    old = dict(claim.lean.definitions)
    pinned = dict(claim.lean.meaning)
    meaning_changed = () if meaning is None else tuple(
        sorted(k for k in set(pinned) | set(meaning) if pinned.get(k) != meaning.get(k)))
    return PinChange(
        meaning_changed=meaning_changed,
        claim_id=claim.id, file=relative(settings, claim.path),
        added={k: v for k, v in pins.items() if k not in old},
        changed={k: (old[k], v) for k, v in pins.items() if k in old and old[k] != v},
        removed={k: v for k, v in old.items() if k not in pins},
    )


__all__ = ["MEANING_TABLE", "PinChange", "pin_claim", "render_table", "replace_table"]
