"""Loading ``claims/*.toml`` into a validated :class:`Registry`.

:func:`read_registry` is lenient: it returns the claims that validate and an :class:`Issue`
for every problem (file and field named). :func:`load_registry` is strict: it raises
:class:`~pipeline.errors.ClaimError` listing every problem. Neither touches Lean.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.claims.graph import find_cycle
from pipeline.claims.models import Claim, Issue
from pipeline.errors import ClaimError, NotFoundError
from pipeline.models import Frozen
from pipeline.settings import Settings


class Registry(Frozen):
    """The claims, in file order."""

    claims: tuple[Claim, ...]

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.claims]

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        known = ", ".join(self.ids) or "none"
        raise NotFoundError(f"unknown claim {claim_id!r} (known: {known})")

    def edges(self) -> dict[str, tuple[str, ...]]:
        return {c.id: c.depends_on for c in self.claims}


def relative(settings: Settings, path: Path) -> str:
    """``path`` relative to the project root when inside it (for messages)."""
    try:
        return path.resolve().relative_to(settings.project_root.resolve()).as_posix()
    except ValueError:
        return str(path)


def field_path(loc: tuple[int | str, ...]) -> str:
    """Pydantic's ``('hypotheses', 0, 'check')`` as ``hypotheses[0].check``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(file)"


def claim_files(settings: Settings) -> list[Path]:
    folder = settings.claims_path
    if not folder.is_dir():
        raise NotFoundError(f"{relative(settings, folder)}: the claims folder does not exist")
    return sorted(folder.glob("*.toml"))


def parse_claim(settings: Settings, path: Path) -> tuple[Claim | None, list[Issue]]:
    """One claim file: the claim, or None and the issues that stop it from loading."""
    rel = relative(settings, path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Issue(file=rel, field="(file)", message=f"cannot be read: {exc.strerror}")]
    if len(raw) > settings.max_file_bytes:
        return None, [Issue(file=rel, field="(file)",
                            message=f"{len(raw)} bytes is over the limit of {settings.max_file_bytes}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Issue(file=rel, field="(file)", message=f"not valid UTF-8 (byte {exc.start})")]
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Issue(file=rel, field="(file)", message=f"malformed TOML: {exc}")]
    if "path" in data:
        return None, [Issue(file=rel, field="path",
                            message="unknown field (the loader sets the path of a claim)")]
    try:
        claim = Claim.model_validate({**data, "path": path})
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            where = field_path(tuple(err["loc"]))
            got = "" if err["type"] in {"missing", "value_error"} else f" (got {err['input']!r:.60})"
            message = err["msg"].removeprefix("Value error, ")
            issues.append(Issue(file=rel, field=where, message=f"{message}{got}",
                                claim_id=data.get("id") if isinstance(data.get("id"), str) else None))
        return None, issues
    issues = []
    if claim.id != path.stem:
        issues.append(Issue(file=rel, field="id", claim_id=claim.id,
                            message=f"id {claim.id!r} does not match the file name {path.name} "
                                    f"(claims live in claims/<id>.toml)"))
    return claim, issues


def read_registry(settings: Settings) -> tuple[Registry, list[Issue]]:
    """Every claim that validates, and every problem found (none is fatal here)."""
    claims: list[Claim] = []
    issues: list[Issue] = []
    first: dict[str, Claim] = {}
    for path in claim_files(settings):
        claim, found = parse_claim(settings, path)
        issues += found
        if claim is None:
            continue
        if claim.id in first:
            issues.append(Issue(file=relative(settings, path), field="id", claim_id=claim.id,
                                message=f"duplicate id {claim.id!r}: also used by "
                                        f"{relative(settings, first[claim.id].path)}"))
            continue
        first[claim.id] = claim
        claims.append(claim)
    registry = Registry(claims=tuple(claims))
    issues += graph_issues(settings, registry)
    return registry, issues


def graph_issues(settings: Settings, registry: Registry) -> list[Issue]:
    """Unknown dependencies and dependency cycles."""
    issues: list[Issue] = []
    known = set(registry.ids)
    for claim in registry.claims:
        for i, dep in enumerate(claim.depends_on):
            if dep not in known:
                issues.append(Issue(file=relative(settings, claim.path), field=f"depends_on[{i}]",
                                    claim_id=claim.id, message=f"unknown claim {dep!r}"))
    cycle = find_cycle(registry.edges())
    if cycle:
        claim = registry.get(cycle[0])
        issues.append(Issue(file=relative(settings, claim.path), field="depends_on", claim_id=claim.id,
                            message="dependency cycle: " + " -> ".join(cycle)))
    return issues


def load_registry(settings: Settings) -> Registry:
    """The registry, or :class:`ClaimError` naming every file and field that is wrong."""
    registry, issues = read_registry(settings)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise ClaimError("the claims registry is invalid:\n" + "\n".join(f"  {i}" for i in errors))
    return registry


__all__ = ["Registry", "claim_files", "field_path", "graph_issues", "load_registry", "parse_claim",
           "read_registry", "relative"]
