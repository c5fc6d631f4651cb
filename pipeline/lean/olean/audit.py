"""Decisions on the compiled environment (what the kernel accepted), never on source text.

* :func:`axioms_reached` / :func:`audit_module` — the axiom audit: the transitive closure of the
  constants a declaration uses (types, values, recursor rules; through project constants, then
  the core index) reaches no axiom outside the allowlist, and no project module declares one.
* :func:`added_constants` — what a compiled file adds beyond the declarations it is meant to add
  and the auxiliary constants Lean generates for them.
* :func:`meaning` — a statement's meaning: the digest of its type as an ``Expr`` together with
  the ``ConstantInfo`` digest of every project constant that type reaches (definitions'
  bodies, instances, structures, constructors, recursors; theorems by their type only).
* :func:`witness_applies` — a non-vacuity witness applies the claim's theorem to closed
  arguments with every binder supplied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.lean.models import user_name
from pipeline.lean.olean.decode import Constant, Decoder, Kind, itself, search
from pipeline.lean.olean.environment import ProjectEnvironment


@dataclass(frozen=True, slots=True)
class EnvIssue:
    rule: str
    """``declares_axiom``, ``axiom``, ``unknown_constant``, ``added``, ``witness``, ``statement``."""
    declaration: str
    message: str


# -- axioms ----------------------------------------------------------------------------------
NATIVE_AXIOMS = frozenset({"Lean.ofReduceBool", "Lean.ofReduceNat", "Lean.trustCompiler"})
"""Axioms through which a proof trusts compiled native code (``native_decide``, ``decide +native``)."""

def _closure(env: ProjectEnvironment, start: Iterable[str], *, proofs: bool = True) -> tuple[set[str], set[str], set[str]]:
    """(project constants, core constants, unknown names) reachable from ``start``.

    ``proofs=False`` stops at theorems' types (what a statement *means* does not depend on how
    the theorems it mentions were proved)."""
    project: set[str] = set()
    core: set[str] = set()
    unknown: set[str] = set()

    def visit(name: str) -> Iterable[str]:
        located = env.get(name)
        if located is None:
            (core if env.core.kind(name) is not None else unknown).add(name)
            return ()
        project.add(name)
        return _uses(located.decoder, located.constant, proofs=proofs)

    search(start, visit, key=itself)
    return project, core, unknown


def _uses(decoder: Decoder, const: Constant, *, proofs: bool) -> set[str]:
    used = set(decoder.constants_in(const.type))
    if const.value is not None and (proofs or const.kind is not Kind.theorem):
        used |= decoder.constants_in(const.value)
    for rhs in const.extra:
        used |= decoder.constants_in(rhs)
    if const.kind is Kind.inductive:
        used |= set(const.names)   # constructors
    elif const.kind is Kind.constructor:
        used |= set(const.names)   # the inductive
    return used


def project_reach(env: ProjectEnvironment, start: Iterable[str]) -> set[str]:
    """The project constants (of every module, the checked one included) ``start`` reaches."""
    return _closure(env, start)[0]


def axioms_reached(env: ProjectEnvironment, name: str) -> tuple[set[str], set[str]]:
    """(axioms, unknown constants) that ``name`` reaches."""
    project, core, unknown = _closure(env, [name])
    axioms = {n for n in project if env.constants[n].constant.kind is Kind.axiom}
    for c in core:
        axioms.update(env.core.axioms_of(c))
    return axioms, unknown


def audit_module(env: ProjectEnvironment, module: str,
                 allowed: frozenset[str]) -> tuple[list[EnvIssue], dict[str, set[str]]]:
    """Every constant a compiled module declares: no axiom, no axiom outside ``allowed``
    reached, no reference the environment cannot resolve. Also returns, per constant, the
    axioms it reaches."""
    issues: list[EnvIssue] = []
    reached: dict[str, set[str]] = {}
    constants = env.declared_in(module)
    where = module if not module.startswith("«") else "the checked file"
    for const in constants:
        if const.kind is Kind.axiom:
            issues.append(EnvIssue("declares_axiom", const.name,
                                   f"{where} declares the axiom {display(const.name)}; no checked file or "
                                   "project module may declare an axiom"))
    for const in constants:
        axioms, unknown = axioms_reached(env, const.name)
        reached[const.name] = axioms
        bad = sorted(a for a in axioms if a not in allowed and a != const.name)
        if bad:
            native = [a for a in bad if a in NATIVE_AXIOMS]
            issues.append(EnvIssue("axiom", const.name,
                                   f"{display(const.name)} depends on {', '.join(map(display, bad))}, outside "
                                   f"the allowed axioms ({', '.join(sorted(allowed))})"
                                   + (f"; {display(native[0])} means the proof ran compiled native code "
                                      "(`native_decide`, `decide +native`) instead of being checked by the "
                                      "kernel" if native else "")))
        if unknown:
            issues.append(EnvIssue("unknown_constant", const.name,
                                   f"{display(const.name)} refers to constants the compiled environment does "
                                   "not hold: " + ", ".join(sorted(unknown)[:5])))
    return issues, reached


# -- what a file adds ------------------------------------------------------------------------
def display(name: str) -> str:
    """A constant's name as a user wrote it (a private one marked as such)."""
    user = user_name(name)
    return f"{user} (private)" if user != name else name


def is_auxiliary_of(name: str, declaration: str) -> bool:
    """Whether ``name`` is a constant Lean generates for ``declaration`` (``_proof_N``,
    ``_simp_N``, ``match_N``, ``eq_N``, ``_auxLemma``, … — always under its name)."""
    user = user_name(name)
    if not user.startswith(declaration + "."):
        return False
    rest = user[len(declaration) + 1:]
    return rest.startswith(("_", "match_", "eq_", "proof_", "induct"))


def added_constants(env: ProjectEnvironment, module: str, expected: Iterable[str]) -> list[EnvIssue]:
    """A compiled file may add only ``expected`` and their auxiliary constants."""
    wanted = set(expected)
    issues = []
    found = set()
    for const in env.declared_in(module):
        if user_name(const.name) in wanted:
            found.add(user_name(const.name))
            continue
        if any(is_auxiliary_of(const.name, w) for w in wanted):
            continue
        issues.append(EnvIssue("added", const.name,
                               f"the file adds {const.kind.value} {display(const.name)}; it may add only "
                               f"{', '.join(sorted(wanted))}"))
    for missing in sorted(wanted - found):
        issues.append(EnvIssue("added", missing, f"the compiled file does not declare {missing}"))
    return issues


# -- meaning ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Meaning:
    statement: str
    """Digest of the theorem's type."""
    constants: dict[str, str] = field(default_factory=dict)
    """Every project constant the type reaches -> digest of its ``ConstantInfo``."""
    core: tuple[str, ...] = ()
    """The core constants it reaches (fixed by the Lean version)."""

    @property
    def digest(self) -> str:
        h = hashlib.sha256(self.statement.encode())
        for name, digest in sorted(self.constants.items()):
            h.update(f"\n{name}={digest}".encode())
        for name in self.core:
            h.update(f"\ncore:{name}".encode())
        return h.hexdigest()


def constant_digest(decoder: Decoder, const: Constant) -> str:
    """A digest of a ``ConstantInfo`` that two separate compilations agree on exactly when the
    declarations are equal (a theorem's proof excluded: only its statement matters)."""
    params = const.level_params
    h = hashlib.sha256()
    h.update(f"{const.kind.value}|{len(params)}|{int(const.is_unsafe)}|{const.scalars}|{const.names}".encode())
    h.update(decoder.digest(const.type, params))
    if const.value is not None and const.kind is not Kind.theorem:
        h.update(decoder.digest(const.value, params))
    for rhs in const.extra:
        h.update(decoder.digest(rhs, params))
    return h.hexdigest()


def type_digest(env: ProjectEnvironment, name: str) -> str | None:
    located = env.get(name)
    if located is None:
        return None
    c = located.constant
    return located.decoder.digest(c.type, c.level_params).hex()


def meaning(env: ProjectEnvironment, name: str) -> Meaning:
    located = env.get(name)
    if located is None:
        raise KeyError(name)
    const = located.constant
    start = located.decoder.constants_in(const.type)
    project, core, unknown = _closure(env, start, proofs=False)
    digests = {n: constant_digest(env.constants[n].decoder, env.constants[n].constant) for n in project}
    for n in unknown:
        digests[n] = "unknown"
    return Meaning(statement=located.decoder.digest(const.type, const.level_params).hex(),
                   constants=digests, core=tuple(sorted(core)))


def changed_constants(pinned: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Names whose digest differs, appeared or disappeared."""
    return sorted(n for n in set(pinned) | set(actual) if pinned.get(n) != actual.get(n))


# -- witness ---------------------------------------------------------------------------------
def witness_applies(env: ProjectEnvironment, witness: str, theorem: str, arity: int | None = None) -> str | None:
    """``None`` when ``witness``'s proof applies ``theorem`` to closed arguments with every
    binder of the theorem supplied, at closed universe levels; otherwise why not. ``arity``:
    how many binders to supply (default: the leading ``∀``-binders of the type as written; the
    claims pass the kernel's premises, :func:`pipeline.lean.olean.premises.premises`). The
    search looks through the witness's own body and the auxiliary proofs Lean split off from
    it."""
    w = env.get(witness)
    t = env.get(theorem)
    if w is None:
        return f"the compiled library has no {witness}"
    if t is None:
        return f"the compiled library has no {theorem}"
    if w.constant.kind is not Kind.theorem or w.constant.value is None:
        return f"{witness} is a {w.constant.kind.value}, not a theorem with a proof"
    if arity is None:
        arity = len(t.decoder.binders(t.constant.type))
    bodies = [(w.decoder, w.constant.value)]
    bodies += [(loc.decoder, loc.constant.value) for n, loc in env.constants.items()
               if loc.constant.value is not None and is_auxiliary_of(n, user_name(witness))]
    partial = polymorphic = False
    for decoder, root in bodies:
        for node in _applications_of(decoder, root, theorem):
            head, args = decoder.app_spine(node)
            if len(args) < arity:
                partial = True
                continue
            if all(not decoder.loose_bvars(a) and not decoder.has_fvar_or_mvar(a) for a in args[:arity]):
                if _levels_closed(decoder, head):
                    return None
                polymorphic = True
            partial = True
    if polymorphic:
        return (f"{witness} applies {theorem} at a universe level that is a variable: instantiate "
                f"every universe of {theorem} with a concrete level (e.g. `Type`, `Prop`)")
    if partial:
        return (f"{witness} mentions {theorem} but never applies it to closed arguments for all "
                f"{arity} of its binders: some hypothesis is left open")
    return f"{witness} does not apply {theorem}"


def _levels_closed(decoder: Decoder, const_ptr: int) -> bool:
    """Whether the universe levels of a constant node hold no parameter or metavariable."""
    _tag, _subs, others, _ = decoder.expr_children(const_ptr)
    stack = list(decoder.items(others[1]))
    while stack:
        ptr = stack.pop()
        if ptr & 1:
            continue
        tag, fields, _ = decoder.region.ctor(ptr)
        if tag in (4, 5):   # Level.param, Level.mvar
            return False
        if tag in (1, 2, 3):
            stack.extend(fields[:1 if tag == 1 else 2])
    return True


def _applications_of(decoder: Decoder, root: int, theorem: str) -> list[int]:
    """Nodes ``theorem a₁ … aₙ`` (n ≥ 0, maximal spines) inside the expression."""
    if theorem not in decoder.constants_in(root):
        return []
    found: list[int] = []

    def visit(ptr: int, _tag: int, subs: tuple[int, ...], _others: tuple[int, ...], _scalars: int) -> list[int]:
        head, args = decoder.app_spine(ptr)
        if decoder.const_name(head) == theorem:
            found.append(ptr)
        if not args:
            return [s for s in subs if theorem in decoder.constants_in(s)]
        into = [a for a in args if theorem in decoder.constants_in(a)]
        if theorem in decoder.constants_in(head) and decoder.const_name(head) is None:
            into.append(head)
        return into

    decoder.descend([root], visit)
    return found


__all__ = ["EnvIssue", "Meaning", "added_constants", "audit_module", "axioms_reached", "changed_constants",
           "constant_digest", "display", "is_auxiliary_of", "meaning", "project_reach", "type_digest", "witness_applies"]
