"""What changed between base and head: Lean declarations and claims-registry entries.

Pure functions over file contents (``repository-relative path -> text``); the caller reads
those from git objects or from the working tree. Lean source is read with
:mod:`pipeline.lean.syntax` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import Field

from pipeline.gate.models import ChangeKind, ClaimChange, DeclarationChange, Location
from pipeline.lean.syntax import Declaration, declarations, module_name
from pipeline.models import Frozen


class LocatedDeclaration(Frozen):
    file: str
    """Repository-relative path of the ``.lean`` file."""
    module: str
    declaration: Declaration

    @property
    def location(self) -> Location:
        return Location(
            file=self.file, line=self.declaration.line, end_line=self.declaration.end_line
        )


class ClaimPin(Frozen):
    """The gate's view of one registry entry: where it lives and what it pins."""

    claim_id: str
    file: str
    """Repository-relative path of the claim's TOML file."""
    module: str
    declaration: str
    statement: str
    witness: str | None = None
    definitions: dict[str, str] = Field(default_factory=dict)
    meaning: dict[str, str] = Field(default_factory=dict)
    """The ``[lean.meaning]`` pins: digests read from the compiled environment."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Every field of the entry, flattened to dotted keys, as comparable text."""
    certified: dict[str, Any] = Field(default_factory=dict)
    """What the claim certifies (:func:`pipeline.claims.approval.certified_content`)."""
    approval: dict[str, str] = Field(default_factory=dict)
    """The committed ``[approval]`` table (empty: none)."""

    @property
    def location(self) -> Location:
        return Location(file=self.file)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """``{"lean": {"statement": "x"}}`` -> ``{"lean.statement": "x"}`` (lists as ``[i]``)."""
    out: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        if not value:
            out[prefix] = "[]"
    else:
        out[prefix] = "" if value is None else str(value)
    return out


# ---- Lean declarations ---------------------------------------------------------------

def index_declarations(
    files: Mapping[str, str], *, module_root: str = ""
) -> dict[str, LocatedDeclaration]:
    """Every named declaration (``example`` excluded) by qualified name.

    ``module_root`` is the project's folder inside the repository, stripped from paths to
    get module names. A name declared twice (e.g. ``private`` in two files) is keyed
    ``name@file`` from its second occurrence on.
    """
    out: dict[str, LocatedDeclaration] = {}
    for path, source in sorted(files.items()):
        relative = path.removeprefix(module_root + "/") if module_root else path
        module = module_name(relative)
        for decl in declarations(source):
            if decl.kind == "example":
                continue
            key = decl.name if decl.name not in out else f"{decl.name}@{path}"
            out[key] = LocatedDeclaration(file=path, module=module, declaration=decl)
    return out


def diff_declarations(
    base: Mapping[str, LocatedDeclaration], head: Mapping[str, LocatedDeclaration]
) -> list[DeclarationChange]:
    """Declarations added, changed (text differs, comments and spacing aside) or removed."""
    changes: list[DeclarationChange] = []
    for name, new in head.items():
        old = base.get(name)
        d = new.declaration
        if old is None:
            changes.append(
                DeclarationChange(name=d.name, kind=d.kind, change=ChangeKind.added, location=new.location)
            )
        elif old.declaration.digest != d.digest or old.file != new.file:
            changes.append(
                DeclarationChange(
                    name=d.name,
                    kind=d.kind,
                    change=ChangeKind.changed,
                    location=new.location,
                    statement_changed=old.declaration.signature_digest != d.signature_digest,
                    moved_from=old.file if old.file != new.file else None,
                )
            )
    for name, old in base.items():
        if name not in head:
            d = old.declaration
            changes.append(
                DeclarationChange(name=d.name, kind=d.kind, change=ChangeKind.removed, location=old.location)
            )
    return sorted(changes, key=lambda c: (c.location.file, c.location.line or 0, c.name))


def find_declaration(
    index: Mapping[str, LocatedDeclaration], name: str, module: str | None = None
) -> LocatedDeclaration | None:
    """The declaration a claim names: exact qualified name first, else a unique match by
    suffix (``debate_tree`` for ``Formal.Debate.debate_tree``), preferring ``module``."""
    if name in index:
        return index[name]
    matches = [
        located
        for located in index.values()
        if located.declaration.name.endswith("." + name) or name.endswith("." + located.declaration.name)
    ]
    if module is not None:
        in_module = [m for m in matches if m.module == module]
        matches = in_module or matches
    return matches[0] if len(matches) == 1 else None


# ---- claims registry -----------------------------------------------------------------

def diff_claims(base: Mapping[str, ClaimPin], head: Mapping[str, ClaimPin]) -> list[ClaimChange]:
    """Registry entries added, changed (with the changed fields) or removed."""
    changes: list[ClaimChange] = []
    for claim_id, new in head.items():
        old = base.get(claim_id)
        if old is None:
            changes.append(ClaimChange(claim_id=claim_id, change=ChangeKind.added, location=new.location))
            continue
        keys = set(old.fields) | set(new.fields)
        changed = tuple(sorted(k for k in keys if old.fields.get(k) != new.fields.get(k)))
        if changed:
            changes.append(
                ClaimChange(claim_id=claim_id, change=ChangeKind.changed, location=new.location, fields=changed)
            )
    for claim_id, old in base.items():
        if claim_id not in head:
            changes.append(ClaimChange(claim_id=claim_id, change=ChangeKind.removed, location=old.location))
    return sorted(changes, key=lambda c: c.claim_id)


@dataclass(frozen=True)
class Sides:
    """What the change rules compare: the base's and the head's claims and declarations, and
    (derived here, once) what differs between them."""

    base_claims: Mapping[str, ClaimPin]
    head_claims: Mapping[str, ClaimPin]
    base_index: Mapping[str, LocatedDeclaration]
    head_index: Mapping[str, LocatedDeclaration]
    unreadable_base: Mapping[str, str] = field(default_factory=dict)
    """Base registry files that could not be read: path -> why."""

    @cached_property
    def declaration_changes(self) -> list[DeclarationChange]:
        return diff_declarations(self.base_index, self.head_index)

    @cached_property
    def claim_changes(self) -> list[ClaimChange]:
        return diff_claims(self.base_claims, self.head_claims)


def names_used_by_claims(claims: Iterable[ClaimPin]) -> set[str]:
    """Lean names a registry entry refers to (declaration, witness, pinned definitions)."""
    names: set[str] = set()
    for claim in claims:
        names.add(claim.declaration)
        if claim.witness:
            names.add(claim.witness)
        names.update(claim.definitions)
    return names


__all__ = [
    "ClaimPin",
    "LocatedDeclaration",
    "Sides",
    "diff_claims",
    "diff_declarations",
    "find_declaration",
    "flatten",
    "index_declarations",
    "names_used_by_claims",
]
