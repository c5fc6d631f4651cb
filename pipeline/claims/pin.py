"""``sequent claims pin ID``: recompute the definition pins of a claim and write them back.

Only the ``[lean.definitions]`` table of the claim's TOML file is rewritten; the rest of the
file (comments, layout) is kept byte for byte. The rewritten file is read back and validated
before it replaces the original.
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
_HEADER = re.compile(r"^\s*\[\s*lean\s*\.\s*definitions\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_LEAN_HEADER = re.compile(r"^\s*\[\s*lean\s*\]\s*(#.*)?$")


class PinChange(Frozen):
    claim_id: str
    file: str
    added: dict[str, str]
    changed: dict[str, tuple[str, str]]
    """name -> (old digest, new digest)."""
    removed: dict[str, str]

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


def render_table(pins: dict[str, str]) -> list[str]:
    """The ``[lean.definitions]`` table, one quoted key per line, sorted."""
    lines = [f"[{TABLE}]"]
    lines += [f"{json.dumps(name, ensure_ascii=False)} = \"{digest}\"" for name, digest in sorted(pins.items())]
    return lines


def replace_table(text: str, pins: dict[str, str]) -> str:
    """``text`` with its ``[lean.definitions]`` table replaced (or added after ``[lean]``)."""
    lines = text.splitlines()
    table = render_table(pins)
    start = next((i for i, ln in enumerate(lines) if _HEADER.match(ln)), None)
    if start is None:
        lean = next((i for i, ln in enumerate(lines) if _LEAN_HEADER.match(ln)), None)
        if lean is None:
            raise ClaimError("the claim has no [lean] table to add [lean.definitions] to")
        end = next((j for j in range(lean + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        while end > lean + 1 and not lines[end - 1].strip():
            end -= 1
        new = lines[:end] + ["", *table] + ([""] if end < len(lines) else []) + lines[end:]
    else:
        end = next((j for j in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        tail_blank = end < len(lines)
        new = lines[:start] + table + ([""] if tail_blank else []) + lines[end:]
    return "\n".join(new).rstrip("\n") + "\n"


def pin_claim(settings: Settings, claim_id: str) -> PinChange:
    """Recompute and write the definition pins of one claim."""
    registry = load_registry(settings)
    claim = registry.get(claim_id)
    library = LeanLibrary.load(settings)
    if library.module(claim.lean.module) is None:
        raise ClaimError(f"{relative(settings, claim.path)}: lean.module: no Lean module "
                         f"{claim.lean.module} in the library")
    pins = definition_pins(claim, library)
    change = _diff(settings, claim, pins)
    if change.unchanged:
        return change
    original = claim.path.read_text(encoding="utf-8")
    data = tomllib.loads(original)
    lean_table = data.get("lean", {})
    has_header = any(_HEADER.match(ln) for ln in original.splitlines())
    if isinstance(lean_table, dict) and "definitions" in lean_table and not has_header:
        raise ClaimError(f"{relative(settings, claim.path)}: lean.definitions: write the pins as a "
                         "[lean.definitions] table so that `pin` can rewrite them")
    updated = replace_table(original, pins)
    tmp = claim.path.with_suffix(".toml.tmp")
    tmp.write_text(updated, encoding="utf-8")
    try:
        reread, problems = parse_claim(settings, tmp)
        if reread is None or dict(reread.lean.definitions) != pins:
            detail = "; ".join(str(p) for p in problems) or "the pins did not round-trip"
            raise ClaimError(f"{relative(settings, claim.path)}: could not rewrite "
                             f"[lean.definitions]: {detail}")
        os.replace(tmp, claim.path)
    finally:
        tmp.unlink(missing_ok=True)
    return change


def _diff(settings: Settings, claim: Claim, pins: dict[str, str]) -> PinChange:
    old = dict(claim.lean.definitions)
    return PinChange(
        claim_id=claim.id, file=relative(settings, claim.path),
        added={k: v for k, v in pins.items() if k not in old},
        changed={k: (old[k], v) for k, v in pins.items() if k in old and old[k] != v},
        removed={k: v for k, v in old.items() if k not in pins},
    )


__all__ = ["PinChange", "pin_claim", "render_table", "replace_table"]
