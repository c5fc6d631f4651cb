"""What a claim *certifies*, its digest, which changes of it weaken the claim, and
``sequent claims approve``.

The **certified content** of a claim is everything in its registry entry that decides what a
"fully proved, applies to run R" status means, and nothing a reader only reads:

* ``lean``: the module and declaration, and the statement's **meaning** as the compiled
  environment holds it (the ``[lean.meaning]`` pin: the digest of the theorem's type as an
  ``Expr`` and of every project constant it reaches). The pinned *text* is not part of it: a
  white-space or notation edit that elaborates to the same ``Expr`` changes nothing, and a
  change of meaning under the same text (an instance, a literal) changes the content. Only a
  claim without a meaning pin falls back to the text (white space folded), its ``open``s and
  its definition pins;
* ``hypotheses``: per binder, every field but the informal ``meaning``/``justification``
  (whether it is checked and by what, or assumed; the check's parameters and settings);
* ``conclusions``: per name, every field but the informal ``meaning``;
* ``parameters``, ``reference_runs``, ``depends_on``, and any other field a later version of
  the registry adds, compared as their content.

:func:`certified_changes` classifies each difference: **weakens** (a checked hypothesis made
assumed or dropped, a conclusion, reference run or dependency dropped), **changes** (anything
whose direction cannot be decided: the statement's meaning, a parameter, a check's binding or
settings, a conclusion's check) or **strengthens** (a hypothesis check added, assumed ->
checked, a conclusion, reference run or dependency added). The gate fails on the first two
unless the head commits an ``[approval]`` whose digest is :func:`certified_digest` of the
head's content (:mod:`pipeline.gate.rules`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.claims.models import Approval, Claim
from pipeline.claims.registry import load_registry, parse_claim, relative
from pipeline.errors import ClaimError
from pipeline.models import Frozen
from pipeline.settings import Settings

Effect = Literal["weakens", "changes", "strengthens"]
TABLE = "approval"
_INFORMAL = frozenset({"id", "title", "statement", "argument", "source", "approval", "path"})
_ENTRY_INFORMAL = frozenset({"meaning", "justification"})
_GROWING = ("reference_runs", "depends_on")
"""List fields where an added entry strengthens the claim and a removed one weakens it."""


class CertifiedChange(Frozen):
    """One difference between two claims' certified contents."""

    field: str
    """Where, e.g. ``hypotheses.h_small``, ``parameters.lam``, ``lean.meaning``."""
    old: str
    new: str
    effect: Effect
    what: str
    """A short description: ``checked -> assumed``, ``reference run removed``…"""

    def __str__(self) -> str:
        return f"{self.field}: {self.what} ({self.old} -> {self.new})"

    @property
    def needs_approval(self) -> bool:
        return self.effect != "strengthens"


def _json(value: Any) -> Any:
    """``value`` as plain JSON (sorted keys at every level), without the keys whose value is
    empty (``None``, ``{}``, ``[]``): a field a later version adds with an empty default does
    not change the digest of content that does not use it."""
    def prune(item: Any) -> Any:
        if isinstance(item, dict):
            kept = {k: prune(v) for k, v in item.items()}
            return {k: v for k, v in kept.items() if v is not None and v != {} and v != []}
        if isinstance(item, list):
            return [prune(v) for v in item]
        return item

    return prune(json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False)))


def certified_content(claim: Claim) -> dict[str, Any]:
    """What ``claim`` certifies, as plain JSON (see the module's docstring)."""
    data: dict[str, Any] = claim.model_dump(mode="json", by_alias=True, exclude=set(_INFORMAL))
    lean = data.pop("lean")
    statement: dict[str, Any] = {"module": lean["module"], "declaration": lean["declaration"]}
    if lean.get("meaning"):
        statement["meaning"] = lean["meaning"]
    else:
        statement["text"] = " ".join(str(lean["statement"]).split())
        statement["open"] = lean.get("open", [])
        statement["definitions"] = lean.get("definitions", {})
    content: dict[str, Any] = {"lean": statement}
    content["hypotheses"] = {
        h["binder"]: {k: v for k, v in h.items() if k != "binder" and k not in _ENTRY_INFORMAL}
        for h in data.pop("hypotheses", [])}
    content["conclusions"] = {
        c["name"]: {k: v for k, v in c.items() if k != "name" and k not in _ENTRY_INFORMAL}
        for c in data.pop("conclusions", [])}
    for key in _GROWING:
        content[key] = sorted(data.pop(key, []))
    content.update(data)  # parameters and whatever else the registry holds, as it is
    plain: dict[str, Any] = _json(content)
    return plain


def certified_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of the certified content in canonical JSON."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _show(value: Any) -> str:
    if value is None:
        return "absent"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def _short(digest: Any) -> str:
    return "absent" if digest is None else str(digest)[:12] + ("…" if len(str(digest)) > 12 else "")


def _hypothesis_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[CertifiedChange]:
    out: list[CertifiedChange] = []

    def status(entry: Mapping[str, Any]) -> str:
        return f"checked by {entry['check']}" if entry.get("check") else "assumed"

    for binder in sorted(set(old) | set(new)):
        a, b = old.get(binder), new.get(binder)
        where = f"hypotheses.{binder}"
        if a == b:
            continue
        if a is None:
            assert b is not None
            out.append(CertifiedChange(field=where, old="absent", new=status(b), effect="strengthens",
                                       what="hypothesis entry added"))
        elif b is None:
            out.append(CertifiedChange(field=where, old=status(a), new="absent",
                                       effect="weakens" if a.get("check") else "changes",
                                       what="hypothesis entry removed"))
        elif a.get("check") and not b.get("check"):
            out.append(CertifiedChange(field=where, old=status(a), new=status(b), effect="weakens",
                                       what="a checked hypothesis is now assumed (no experiment tests it)"))
        elif not a.get("check") and b.get("check"):
            out.append(CertifiedChange(field=where, old=status(a), new=status(b), effect="strengthens",
                                       what="an assumed hypothesis is now checked"))
        else:
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    out.append(CertifiedChange(
                        field=f"{where}.{key}", old=_show(a.get(key)), new=_show(b.get(key)),
                        effect="changes", what="what the hypothesis's check tests changed"))
    return out


def _keyed_changes(section: str, old: Mapping[str, Any], new: Mapping[str, Any],
                   noun: str, *, grows: bool) -> list[CertifiedChange]:
    """Entries of a keyed table: added (strengthens when ``grows``), removed, changed."""
    out: list[CertifiedChange] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        where = f"{section}.{key}"
        if a is None:
            out.append(CertifiedChange(field=where, old="absent", new=_show(b),
                                       effect="strengthens" if grows else "changes", what=f"{noun} added"))
        elif b is None:
            out.append(CertifiedChange(field=where, old=_show(a), new="absent",
                                       effect="weakens", what=f"{noun} removed"))
        else:
            out.append(CertifiedChange(field=where, old=_show(a), new=_show(b), effect="changes",
                                       what=f"{noun} changed"))
    return out


def _meaning_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[CertifiedChange]:
    if old == new:
        return []
    out: list[CertifiedChange] = []
    for key in ("module", "declaration"):
        if old.get(key) != new.get(key):
            out.append(CertifiedChange(field=f"lean.{key}", old=_show(old.get(key)),
                                       new=_show(new.get(key)), effect="changes",
                                       what="the claim names another theorem"))
    a, b = old.get("meaning") or {}, new.get("meaning") or {}
    if a != b:
        names = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
        shown = ", ".join("the statement itself" if n == "(statement)" else n for n in names[:6])
        shown += " …" if len(names) > 6 else ""
        key = "(statement)" if "(statement)" in names else names[0]
        out.append(CertifiedChange(
            field="lean.meaning", old=_short(a.get(key)), new=_short(b.get(key)), effect="changes",
            what=f"what the statement means in the compiled environment changed ({shown})"))
    rest = sorted(k for k in set(old) | set(new)
                  if k not in ("module", "declaration", "meaning") and old.get(k) != new.get(k))
    for key in rest:
        out.append(CertifiedChange(field=f"lean.{key}", old=_show(old.get(key)), new=_show(new.get(key)),
                                   effect="changes", what="the pinned statement changed"))
    return out


def certified_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[CertifiedChange]:
    """Every difference between two certified contents (:func:`certified_content`), classified."""
    out = _meaning_change(old.get("lean") or {}, new.get("lean") or {})
    out += _hypothesis_changes(old.get("hypotheses") or {}, new.get("hypotheses") or {})
    out += _keyed_changes("conclusions", old.get("conclusions") or {}, new.get("conclusions") or {},
                          "conclusion", grows=True)
    for key in _GROWING:
        a, b = set(old.get(key) or []), set(new.get(key) or [])
        noun = "reference run" if key == "reference_runs" else "dependency"
        out += [CertifiedChange(field=f"{key}", old=entry, new="absent", effect="weakens",
                                what=f"{noun} {entry} removed") for entry in sorted(a - b)]
        out += [CertifiedChange(field=f"{key}", old="absent", new=entry, effect="strengthens",
                                what=f"{noun} {entry} added") for entry in sorted(b - a)]
    before, after = old.get("reference_experiment"), new.get("reference_experiment")
    if before != after:
        effect: Effect
        effect, verb = (("strengthens", "added") if before is None else
                        ("weakens", "removed") if after is None else ("changes", "changed"))
        out.append(CertifiedChange(field="reference_experiment", old=_show(before),
                                   new=_show(after), effect=effect,
                                   what=f"reference experiment {verb}"))
    handled = {"lean", "hypotheses", "conclusions", "reference_experiment", *_GROWING}
    for key in sorted((set(old) | set(new)) - handled):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if isinstance(before, Mapping | None) and isinstance(after, Mapping | None):
            noun = "parameter" if key == "parameters" else f"{key} entry"
            out += _keyed_changes(key, before or {}, after or {}, noun, grows=False)
        else:
            out.append(CertifiedChange(field=key, old=_show(before), new=_show(after),
                                       effect="changes", what=f"{key} changed"))
    return out


# ---- sequent claims approve ---------------------------------------------------------------

_ANY_HEADER = re.compile(r"^\s*\[")
_APPROVAL_HEADER = re.compile(r"^\s*\[\s*approval\s*\]\s*(#.*)?$")


def render_approval(approval: Approval) -> list[str]:
    lines = [f"[{TABLE}]", f"digest = \"{approval.digest}\""]
    for key in ("by", "reason", "at"):
        value = getattr(approval, key)
        if value is not None:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return lines


def write_approval(text: str, approval: Approval) -> str:
    """``text`` with its ``[approval]`` table replaced, or appended at the end."""
    lines = text.splitlines()
    table = render_approval(approval)
    start = next((i for i, ln in enumerate(lines) if _APPROVAL_HEADER.match(ln)), None)
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        new = [*lines, "", *table]
    else:
        end = next((j for j in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[j])), len(lines))
        gap = [""] if end < len(lines) else []
        new = lines[:start] + table + gap + lines[end:]
    return "\n".join(new).rstrip("\n") + "\n"


class ApprovalResult(Frozen):
    claim_id: str
    file: str
    approval: Approval
    content: dict[str, Any]
    previous: str | None
    """The digest the file approved before (``None``: no approval)."""


def approve_claim(settings: Settings, claim_id: str, *, by: str | None = None,
                  reason: str | None = None, now: dt.datetime | None = None) -> ApprovalResult:
    """Write ``[approval]`` into the claim's TOML: the digest of its certified content as the
    file states it now (run ``sequent claims pin`` first when the statement changed)."""
    claim = load_registry(settings).get(claim_id)
    content = certified_content(claim)
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    approval = Approval(digest=certified_digest(content), by=by or None, reason=reason or None,
                        at=when.isoformat().replace("+00:00", "Z"))
    original = claim.path.read_text(encoding="utf-8")
    if "[approval" in original and not any(_APPROVAL_HEADER.match(ln) for ln in original.splitlines()):
        raise ClaimError(f"{relative(settings, claim.path)}: approval: write it as an [approval] "
                         "table so that `approve` can rewrite it")
    tmp = claim.path.with_suffix(".toml.tmp")
    tmp.write_text(write_approval(original, approval), encoding="utf-8")
    try:
        reread, problems = parse_claim(settings, tmp)
        if reread is None or reread.approval != approval or certified_content(reread) != content:
            detail = "; ".join(str(p) for p in problems) or "the approval did not round-trip"
            raise ClaimError(f"{relative(settings, claim.path)}: could not write the approval: {detail}")
        os.replace(tmp, claim.path)
    finally:
        tmp.unlink(missing_ok=True)
    return ApprovalResult(claim_id=claim.id, file=relative(settings, claim.path), approval=approval,
                          content=content, previous=claim.approval.digest if claim.approval else None)


__all__ = [
    "ApprovalResult",
    "CertifiedChange",
    "Effect",
    "approve_claim",
    "certified_changes",
    "certified_content",
    "certified_digest",
    "render_approval",
    "write_approval",
]
