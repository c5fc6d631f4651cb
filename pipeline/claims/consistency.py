"""Consistency of one claim with the Lean library. Pure: source text and CheckResults in,
:class:`Issue` lists out. :mod:`pipeline.claims.proof_status` does the I/O around it.

Static rules (no Lean): the module and declaration exist; every hypothesis of the theorem
(a binder whose type reads as a proposition, or any binder after the first one) is named
``h_…``, every ``h_…`` binder is in the registry and every registry binder is in the theorem; the definitions the
pinned statement uses are pinned and unchanged; the witness exists and applies the theorem;
each hypothesis check resolves. Lean rules: ``theorem sequent_pinned_statement : <statement> := @<declaration>`` and
``example := @<witness>`` are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from pipeline.claims.assemble import StatementLines
from pipeline.claims.library import (
    Binder,
    LeanLibrary,
    LeanModule,
    binders,
    hypothesis_binders,
    predicate_names,
    registry_binder_issues,
    statement_definitions,
    statement_variables,
    unnamed_hypotheses,
)
from pipeline.claims.models import CheckBinding, Claim, Derived, Estimate, Issue, Severity
from pipeline.errors import EvidenceError
from pipeline.lean.models import UNFINISHED, CheckResult
from pipeline.lean.syntax import THEOREM_KINDS, Declaration, tokens
from pipeline.models import Frozen


class SettingRange(Protocol):
    """The bounds of one setting of a hypothesis check."""

    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...


class CheckShape(Protocol):
    """What the rules read of a hypothesis check's declaration."""

    @property
    def parameters(self) -> tuple[str, ...]: ...
    @property
    def optional_parameters(self) -> tuple[str, ...]: ...
    @property
    def settings(self) -> Mapping[str, SettingRange]: ...


class HypothesisChecks(Protocol):
    """The hypothesis checks, as the claims' rules need them. The checks live above the claims
    (:mod:`pipeline.evidence.catalog` implements this), so the caller passes them in."""

    @property
    def estimators(self) -> frozenset[str]: ...

    def estimator_bindings(self, name: str) -> frozenset[str]:
        """The bindings (``exact``, ``held_out``, ``uniform``) estimator ``name`` serves."""

    def spec(self, name: str) -> CheckShape | None:
        """The check named ``module:function``; :class:`EvidenceError` when there is none."""

    def fill_guarantee(self, template: str, values: dict[str, float]) -> list[float]:
        """The values of the formulas of ``template``; :class:`EvidenceError` when one cannot
        be evaluated."""


class StaticFacts(Frozen):
    """What the static rules established about one claim."""

    module_found: bool = False
    declaration_found: bool = False
    binders_match: bool = False
    binder_messages: tuple[str, ...] = ()
    """The binder rule's messages: read from source text, superseded by the rule on the
    kernel's premises (:func:`pipeline.claims.meaning.premise_issues`) where that one runs."""
    definitions_match: bool = False
    witness_applies: bool = False

    @property
    def sound(self) -> bool:
        return (self.module_found and self.declaration_found and self.binders_match
                and self.definitions_match and self.witness_applies)


def _short(text: str, limit: int = 400) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()][:6]
    out = " | ".join(ln.strip() for ln in lines)
    return out if len(out) <= limit else out[: limit - 1] + "…"


_MISMATCH = re.compile(r"has type\s*(?P<got>.*?)\s*but is expected to have type\s*(?P<want>.*)", re.DOTALL)


def type_difference(text: str, context: int = 6) -> str | None:
    """Where the two types of a Lean ``type mismatch`` message first differ, as
    ``… context ⟨declaration: A⟩ vs ⟨pinned: B⟩ …`` (tokens, spacing aside); None when ``text``
    is not a type mismatch. The long types themselves are cut; the difference never is."""
    found = _MISMATCH.search(text)
    if found is None:
        return None

    def toks(part: str) -> list[str]:
        part = re.sub(r"\s*:\s*Prop\s*$", "", part.strip())
        return re.findall(r"[()\[\]{},]|[^\s()\[\]{},]+", part)

    got, want = toks(found["got"]), toks(found["want"])
    p = 0
    while p < min(len(got), len(want)) and got[p] == want[p]:
        p += 1
    q = 0
    while q < min(len(got), len(want)) - p and got[-1 - q] == want[-1 - q]:
        q += 1
    before = " ".join(got[max(0, p - context):p])
    lead = ("… " if p > context else "") + before
    a, b = " ".join(got[p:len(got) - q]) or "(nothing)", " ".join(want[p:len(want) - q]) or "(nothing)"
    after = " ".join(got[len(got) - q:][:context]) + (" …" if q > context else "")
    return f"{lead} ⟨declaration: {a}⟩ vs ⟨pinned: {b}⟩ {after}".strip()


Found = list[tuple[str, str]]
"""``(field, message)`` pairs a rule found; :func:`static_issues` makes them issues."""


def static_issues(claim: Claim, library: LeanLibrary, file: str) -> tuple[list[Issue], StaticFacts]:
    """Every rule that can be decided from the sources alone: the module and declaration
    exist, then each rule in turn (binders, definition pins, witness)."""
    lean = claim.lean
    found: Found = []
    module = library.module(lean.module)
    decl = module.find(lean.declaration) if module is not None else None
    if module is None:
        found.append(("lean.module", (f"no Lean module {lean.module} in the library "
                                     f"(expected {lean.module.replace('.', '/')}.lean)")))
        facts = StaticFacts()
    elif decl is None:
        elsewhere = library.locate(lean.declaration)
        hint = f" (it is in {elsewhere.name})" if elsewhere else ""
        found.append(("lean.declaration",
                      f"{module.path} has no declaration {lean.declaration}{hint}"))
        facts = StaticFacts(module_found=True)
    else:
        if decl.kind not in THEOREM_KINDS:
            found.append(("lean.declaration", f"{lean.declaration} is a {decl.kind}, not a theorem"))
        binders_found, binders_match = binder_rule(claim, library, decl)
        definitions_found, definitions_match = definition_rule(claim, library)
        witness_found, witness_applies = witness_rule(claim, module, decl)
        found += binders_found + definitions_found + witness_found
        facts = StaticFacts(module_found=True, declaration_found=True,
                            binders_match=binders_match and decl.kind in THEOREM_KINDS,
                            binder_messages=tuple(message for _field, message in binders_found),
                            definitions_match=definitions_match, witness_applies=witness_applies)
    issues = [Issue(file=file, field=field, message=message, claim_id=claim.id)
              for field, message in found]
    return issues, facts


def binder_rule(claim: Claim, library: LeanLibrary, decl: Declaration) -> tuple[Found, bool]:
    """Every hypothesis of the theorem is a binder named ``h_…``, and the ``h_…`` binders and
    the registry's ``[[hypotheses]]`` are the same list."""
    lean = claim.lean
    found: Found = []
    predicates = predicate_names(d for m in library.scope(lean.module) for d in m.declarations)
    in_lean = hypothesis_binders(decl.signature)
    in_registry = [h.binder for h in claim.hypotheses]
    hidden = unnamed_hypotheses(binders(decl.signature, predicates=predicates))
    field = "lean.declaration"
    if not hidden:  # hypotheses brought in by `variable`/`include` show in the statement only
        hidden = unnamed_hypotheses(binders(lean.statement, statement=True, predicates=predicates))
        field = "lean.statement"
    found += [(field, _unnamed_message(lean.declaration, unnamed)) for unnamed in hidden]
    found += [("hypotheses", (f"the Lean hypothesis {binder} of {lean.declaration} is missing "
                             "from the registry (add a [[hypotheses]] entry for it)"))
              for binder in in_lean if binder not in in_registry]
    found += registry_binder_issues(in_registry, in_lean, lean.declaration)
    return found, not found


def definition_rule(claim: Claim, library: LeanLibrary) -> tuple[Found, bool]:
    """The definitions the statement uses are the pinned ones, unchanged."""
    lean = claim.lean
    found: Found = []
    used = statement_definitions(claim, library)
    for name, used_decl in used.items():
        pinned = lean.definitions.get(name)
        if pinned is None:
            found.append(("lean.definitions", (f"the statement uses {name} ({used_decl.kind}), which "
                                              f"is not pinned; review it and run `sequent claims pin "
                                              f"{claim.id}`")))
        elif pinned != used_decl.digest:
            found.append((f"lean.definitions.{name}",
                          (f"{name} changed since it was pinned (pinned {pinned[:12]}…, now "
                          f"{used_decl.digest[:12]}…): the statement no longer means what was "
                          f"reviewed; if the change is intended, review the claim and run "
                          f"`sequent claims pin {claim.id}`")))
    for name in lean.definitions:
        if name not in used:
            exists = any(m.find(name) for m in library.modules.values())
            why = ("is not used by the statement" if exists else "does not exist in the library")
            found.append((f"lean.definitions.{name}", (f"pinned definition {name} {why}; "
                                                      f"run `sequent claims pin {claim.id}`")))
    return found, not found


def witness_rule(claim: Claim, module: LeanModule, decl: Declaration) -> tuple[Found, bool]:
    """The witness is its own theorem and applies the claim's declaration (so the hypotheses
    can all hold at once)."""
    lean = claim.lean
    witness = module.find(lean.witness)
    if witness is None:
        return [("lean.witness", f"{module.path} has no declaration {lean.witness}")], False
    if witness.kind not in THEOREM_KINDS:
        return [("lean.witness", (f"{lean.witness} is a {witness.kind}; the witness must be a "
                                 "named theorem"))], False
    if witness.name == decl.name:
        return [("lean.witness", ("the witness must be its own theorem, not the claim's "
                                 "declaration"))], False
    names = {decl.name, decl.short_name, decl.name.rsplit(".", 1)[-1]}
    body = witness.text.split(":=", 1)[-1] if ":=" in witness.text else witness.text
    if any(tok.text.removeprefix("@") in names or tok.text.endswith("." + decl.short_name)
           for tok in tokens(body)):
        return [], True
    return [("lean.witness", (f"{lean.witness} does not apply {lean.declaration}, so it does not "
                             "show that its hypotheses can all hold at once"))], False


def _unnamed_message(declaration: str, binder: Binder) -> str:
    what = (f"the binder `{binder.name}`" if binder.name and binder.name != "_"
            else f"an unnamed binder `{binder.shown}`")
    return (f"{what} of {declaration} is a hypothesis ({binder.why}) but is not named `h_…`, so "
            "no [[hypotheses]] entry can cover it: name it `h_<what it assumes>` in Lean and in "
            "the pinned statement, and add a [[hypotheses]] entry with its check or justification")


def check_function_issues(claim: Claim, file: str, checks: HypothesisChecks) -> list[Issue]:
    """Every ``check = "module:function"`` names a declared hypothesis check."""
    issues: list[Issue] = []
    named = [(f"hypotheses[{i}].check", h.check) for i, h in enumerate(claim.hypotheses)]
    named += [(f"conclusions[{i}].check", c.check) for i, c in enumerate(claim.conclusions)]
    for field, check in named:
        if check is None:
            continue
        try:
            checks.spec(check)
        except EvidenceError as exc:
            issues.append(Issue(file=file, field=field, claim_id=claim.id, message=str(exc)))
    return issues


Rated = list[tuple[str, str, Severity]]
"""(field, message, severity) of each issue a rule finds."""


def parameter_issues(claim: Claim, file: str, checks: HypothesisChecks) -> list[Issue]:
    """The ``[parameters]`` table against the pinned statement's binders, and every check's
    variables and settings against what the check declares."""
    used: set[str] = set()
    found = _parameter_value_issues(claim, checks)
    found += _check_binding_issues(claim, checks, used)
    found += _guarantee_issues(claim, checks)
    found += [(f"parameters.{name}", f"{name} is bound but no check or conclusion uses it", "warning")
              for name in claim.parameters if name not in used]
    return [Issue(file=file, field=field, message=message, claim_id=claim.id, severity=severity)
            for field, message, severity in found]


def _parameter_value_issues(claim: Claim, checks: HypothesisChecks) -> Rated:
    """Each parameter is a variable of the statement, and its value is a known estimator serving
    its binding, or a formula over the claim's constants."""
    found: Rated = []
    variables = statement_variables(claim.lean.statement)
    for name in claim.parameters:
        if name not in variables:
            found.append((f"parameters.{name}", (f"{name} is not a variable of the pinned statement "
                                                f"(its binders: {', '.join(variables) or 'none'})"), "error"))
    for name, value in claim.parameters.items():
        if isinstance(value, Estimate) and value.estimate not in checks.estimators:
            found.append((f"parameters.{name}", (f"unknown estimator {value.estimate!r} (known: "
                                                f"{', '.join(sorted(checks.estimators))})"), "error"))
        elif isinstance(value, Estimate) and value.binding not in (
                serves := checks.estimator_bindings(value.estimate)):
            found.append((f"parameters.{name}.binding",
                          f"{value.estimate} serves {', '.join(sorted(serves))}, not {value.binding}"
                          + (": it is a statistical estimate, and one chosen on the sample it then "
                             "tests cannot fail its test; bind it held_out (calibration_seeds) or "
                             "write a claim constant" if value.binding == "exact" else ""), "error"))
        elif isinstance(value, Derived):
            inputs = value.names() & set(claim.parameters)
            estimated = sorted(n for n in inputs if isinstance(claim.parameters[n], Estimate))
            if estimated:
                found.append((f"parameters.{name}", (f"{name} is derived from {', '.join(estimated)}, "
                                                    "an estimate: a derived parameter is a function "
                                                    "of claim constants only"), "error"))
            else:
                try:
                    checks.fill_guarantee("{" + value.derived + "}",
                                          dict.fromkeys(claim.parameters, 1.0))
                except EvidenceError as exc:
                    found.append((f"parameters.{name}", f"{exc} (use the claim's [parameters] names)", "error"))
    return found


def _check_binding_issues(claim: Claim, checks: HypothesisChecks, used: set[str]) -> Rated:
    """Each check's variables are bound (recorded in ``used``) and its settings are its own,
    in range."""
    found: Rated = []
    entries: list[tuple[str, CheckBinding, str | None]] = [
        (f"hypotheses[{i}]", h, h.check) for i, h in enumerate(claim.hypotheses)]
    entries += [(f"conclusions[{i}]", c, c.check) for i, c in enumerate(claim.conclusions)]
    for where, entry, check in entries:
        if check is None:
            continue
        try:
            spec = checks.spec(check)
        except EvidenceError:
            continue  # reported by check_function_issues
        if spec is None:
            continue
        known = set(spec.parameters) | set(spec.optional_parameters)
        for role in entry.parameters:
            if role not in known:
                found.append((f"{where}.parameters.{role}", (f"{check} has no variable {role!r} (it "
                                                            f"reads: {', '.join(sorted(known)) or 'none'})"), "error"))
        for role in (*spec.parameters, *spec.optional_parameters):
            target = entry.parameters.get(role, role)
            if target in claim.parameters:
                used.add(target)
            elif role in spec.parameters:
                found.append((f"{where}.check", (f"{check} uses the theorem variable {role!r}; bind "
                                                f"{target!r} in [parameters] (or map it with "
                                                f"parameters = {{ {role} = \"...\" }})"), "error"))
        for key, number in entry.settings.items():
            setting = spec.settings.get(key)
            if setting is None:
                found.append((f"{where}.settings.{key}", (f"{check} has no setting {key!r} (its settings: "
                                                         f"{', '.join(sorted(spec.settings)) or 'none'})"), "error"))
            elif not setting.low <= number <= setting.high:
                found.append((f"{where}.settings.{key}", (f"{number} is outside [{setting.low}, "
                                                         f"{setting.high}]"), "error"))
    return found


def _guarantee_issues(claim: Claim, checks: HypothesisChecks) -> Rated:
    """Each conclusion's guarantee evaluates on the claim's numbers, and says something there."""
    found: Rated = []
    for i, concl in enumerate(claim.conclusions):
        if concl.guarantee:
            try:
                sample = {k: float(v) if isinstance(v, int | float) else 1.0
                          for k, v in claim.parameters.items()}  # the claim's own numbers
                values = checks.fill_guarantee(concl.guarantee, sample)
            except EvidenceError as exc:
                found.append((f"conclusions[{i}].guarantee", f"{exc} (use the claim's [parameters] names)", "error"))
                continue
            numbers = all(isinstance(v, int | float) for v in claim.parameters.values())
            if numbers and values and concl.vacuous_at_least is not None \
                    and values[0] >= concl.vacuous_at_least:
                found.append((f"conclusions[{i}].guarantee",
                              (f"the certified bound is {values[0]:.4g} with the claim's numbers, at or "
                              f"beyond {concl.vacuous_at_least:g}: it says nothing, and the claim can "
                              "apply to no run"), "warning"))
    return found


class LeanVerdict(Frozen):
    """What the claim's Lean run established."""

    stated: bool
    """The pinned statement elaborates."""
    proves: bool
    """The declaration proves exactly the pinned statement."""
    witness: bool
    """Lean knows and accepts the witness."""


def statement_issues(claim: Claim, file: str, result: CheckResult,
                     where: StatementLines) -> tuple[list[Issue], LeanVerdict]:
    """Lean's verdict on the file of :func:`~pipeline.claims.assemble.statement_check`:
    ``theorem sequent_pinned_statement : <statement> := @<declaration>`` and ``example := @<witness>``."""
    if result.accepted:
        return [], LeanVerdict(stated=True, proves=True, witness=True)
    issues: list[Issue] = []

    def add(field: str, message: str) -> None:
        issues.append(Issue(file=file, field=field, message=message, claim_id=claim.id))

    if result.violations:
        add("lean.statement", "the claim's check was refused by the trust policy: "
            + "; ".join(f"line {v.line} `{v.token}`: {v.message}" for v in result.violations))
        return issues, LeanVerdict(stated=False, proves=False, witness=False)
    unfinished = [r for r in result.reasons if r in UNFINISHED]
    if unfinished:
        crash = next((m.text for m in result.errors() if m.kind == "crash"), "")
        add("lean.statement", "Lean did not finish the claim's check ("
            + ", ".join(r.value for r in unfinished) + ")" + (f": {_short(crash, 200)}" if crash else ""))
        return issues, LeanVerdict(stated=False, proves=False, witness=False)
    stated = proves = witness = True
    errors = list(result.errors())
    for msg in errors:
        line = msg.pos.line if msg.pos else 0
        if line <= where.header_end:
            stated = proves = witness = False
            add("lean.module", f"cannot import {claim.lean.module} or open "
                               f"{', '.join(claim.lean.opens) or 'its namespaces'}: {_short(msg.text)}")
        elif where.statement_start <= line <= where.statement_end:
            stated = proves = False
            add("lean.statement", f"the pinned statement does not elaborate (its line "
                                  f"{line - where.statement_start + 1}): {_short(msg.text)}")
        elif line >= where.witness_line:
            witness = False
            add("lean.witness", f"Lean does not accept the witness {claim.lean.witness}: "
                                f"{_short(msg.text)}")
        elif "nknown" in msg.text:
            proves = False
            add("lean.declaration", f"Lean does not know {claim.lean.declaration}: {_short(msg.text)}")
        else:
            proves = False
            diff = type_difference(msg.text)
            add("lean.statement", f"{claim.lean.declaration} does not prove the pinned statement: "
                                  + (f"the types differ at {diff}" if diff else _short(msg.text)))
    if not errors:
        reasons = ", ".join(r.value for r in result.reasons) or "rejected"
        stated = proves = witness = False
        add("lean.statement", f"the claim's Lean check did not finish: {reasons}")
    return issues, LeanVerdict(stated=stated, proves=proves, witness=witness)


__all__ = [
    "LeanVerdict",
    "StaticFacts",
    "check_function_issues",
    "parameter_issues",
    "statement_issues",
    "static_issues",
]
