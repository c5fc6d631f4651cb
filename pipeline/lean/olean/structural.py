"""Structural checks on the kernel's terms of every constant a compiled file adds.

A ``.olean`` reader trusts the file's structure; the kernel that wrote the file checked the terms,
but a file the kernel never checked (forged, edited, written with the kernel check skipped) or a
kernel bug of this Lean (4.28: lean4 #14576 projections on the wrong structure, #14484
metavariables left in opaque values) can leave terms no kernel should accept. Each constant's
type, value and recursor rules are walked (iteratively, every node once) and must be:

* **closed**: no metavariable (expression or universe level), no free variable, no loose bound
  variable — the loose range is *computed* from the term, not read from the cached ``Expr.Data``
  a forger can set; every universe parameter used is one the constant declares;
* **well-formed literals**: a ``Nat`` literal is a non-negative number; a ``String`` literal is a
  string object of valid UTF-8 whose stored length is its number of characters;
* **projections on structures**: ``Expr.proj S i e`` names a structure-like inductive ``S`` (one
  constructor, no indices, not recursive: the kernel's ``is_structure_like``) with ``i`` below
  its constructor's field count, and, where the type of ``e`` can be inferred
  (:class:`pipeline.lean.olean.kernel.Kernel`, bounded fuel), that type's head is ``S``.

Not checked here: full type checking (the kernel's job; see docs/lean-backends.md, "Trust").
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.lean.olean import decode
from pipeline.lean.olean.audit import EnvIssue, display
from pipeline.lean.olean.decode import Constant, Decoder, Kind, search
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.region import OleanFormatError

if TYPE_CHECKING:
    from pipeline.lean.olean.kernel import Kernel
    from pipeline.lean.olean.terms import Expr

RULE = "ill_formed"


@dataclass(frozen=True, slots=True)
class Structure:
    """What a projection needs of an inductive type."""

    constructors: int
    indices: int
    recursive: bool
    fields: int | None
    """The constructor's field count (``None`` when the constructor is not in reach)."""

    @property
    def structure_like(self) -> bool:
        return self.constructors == 1 and self.indices == 0 and not self.recursive


StructureOf = Callable[[str], Structure | None]


def structure_of(env: ProjectEnvironment, library: Path | None) -> StructureOf:
    """Looks an inductive up among the project's constants, then the core library's (read from
    the installed library when given; otherwise only the core index's kinds are known)."""
    core_consts: dict[str, tuple[object, Constant]] | None = None

    def core(name: str) -> Constant | None:
        nonlocal core_consts
        if library is None:
            return None
        if core_consts is None:
            from pipeline.lean.olean.terms import core_constants

            loaded = core_constants(library, env.core.githash)
            roots = {m for data in env.modules.values() for m in data.imports
                     if env.core.kind(m) is None and m.split(".")[0] in ("Init", "Std", "Lean", "Lake")}
            loaded.load(roots | {"Init"})
            core_consts = loaded.constants  # type: ignore[assignment]
        hit = core_consts.get(name) if core_consts is not None else None
        return hit[1] if hit is not None else None

    def lookup(name: str) -> Constant | None:
        located = env.get(name)
        return located.constant if located is not None else core(name)

    def of(name: str) -> Structure | None:
        induct = lookup(name)
        if induct is None:
            if env.core.kind(name) == Kind.inductive.value:  # no library: the name alone
                return Structure(1, 0, False, None)
            return None
        if induct.kind is not Kind.inductive:
            return None
        ctor = lookup(induct.names[0]) if induct.names else None
        fields = ctor.scalars[2] if ctor is not None and ctor.kind is Kind.constructor else None
        return Structure(len(induct.names), induct.scalars[1], bool(induct.scalars[3]), fields)

    return of


# -- one term --------------------------------------------------------------------------------
def _loose_ranges(decoder: Decoder, root: int, memo: dict[int, int]) -> int:
    """Lean's ``looseBVarRange``, computed bottom-up (memoised per address)."""

    def node(_ptr: int, tag: int, subs: tuple[int, ...], others: tuple[int, ...], _scalars: int) -> int:
        if tag == decode.BVAR:
            return decoder.region.nat(others[0]) + 1
        if tag in (decode.LAM, decode.FORALL):
            return max(memo[subs[0]], memo[subs[1]] - 1, 0)
        if tag == decode.LET:
            return max(memo[subs[0]], memo[subs[1]], memo[subs[2]] - 1, 0)
        return max((memo[s] for s in subs), default=0)

    return decoder.fold(root, memo, node)


def _levels_of(decoder: Decoder, ptr: int) -> Iterator[tuple[int, str | None]]:
    """(constructor tag, parameter name) of every node of a universe level."""
    stack = [ptr]
    while stack:
        p = stack.pop()
        if p & 1:
            yield 0, None
            continue
        tag, fields, _ = decoder.region.ctor(p)
        if tag == 1:
            stack.append(fields[0])
        elif tag in (2, 3):
            stack.extend(fields[:2])
        yield tag, (decoder.name(fields[0]) if tag == 4 else None)


def _literal_problem(decoder: Decoder, lit: int) -> str | None:
    region = decoder.region
    tag, fields, _ = region.ctor(lit)
    if tag == 0:
        value = region.nat(fields[0])
        return f"a negative Nat literal ({value})" if value < 0 else None
    if tag != 1:
        return f"a literal of unknown kind {tag}"
    ptr = fields[0]
    text = region.string(ptr)  # valid UTF-8, or OleanFormatError
    size, length = region.word(ptr + 8), region.word(ptr + 8 + 2 * region.ptr)
    raw = text.encode("utf-8")
    if size != len(raw) + 1 or length != len(text):
        return f"a String literal whose stored size/length ({size}/{length}) is not its text's ({len(raw) + 1}/{len(text)})"
    return None


@dataclass
class _Found:
    problems: list[str]
    projections: list[int]


def _level_problems(decoder: Decoder, tag: int, others: tuple[int, ...], params: set[str]) -> Iterator[str]:
    """What is wrong with the universe levels of a ``Sort`` or constant node."""
    levels = [others[0]] if tag == decode.SORT else list(decoder.items(others[1]))
    for lvl in levels:
        for ltag, pname in _levels_of(decoder, lvl):
            if ltag == 5:
                yield "a universe level metavariable"
            elif ltag == 4 and pname not in params:
                yield f"the universe parameter {pname}, which the constant does not declare"
            elif ltag > 5:
                yield f"a universe level of unknown kind {ltag}"


def _projection_problem(decoder: Decoder, others: tuple[int, ...], structure: StructureOf) -> str | None:
    """What is wrong with a projection node on its own (``None``: to be checked against the
    inferred type of its argument)."""
    struct, index = decoder.name(others[0]), decoder.region.nat(others[1])
    info = structure(struct)
    if info is None:
        return f"a projection .{index} of {struct}, which is not an inductive type"
    if not info.structure_like:
        return (f"a projection .{index} of {struct}, which is not a structure (one constructor, "
                "no indices, not recursive)")
    if info.fields is not None and not 0 <= index < info.fields:
        return f"a projection .{index} of {struct}, which has {info.fields} field(s)"
    return None


def _scan(decoder: Decoder, const: Constant, structure: StructureOf) -> _Found:
    found = _Found([], [])
    params = set(const.level_params)
    seen: set[Hashable] = set()
    ranges: dict[int, int] = {}

    def add(problem: str | None) -> None:
        if problem and problem not in found.problems:
            found.problems.append(problem)

    def visit(ptr: int, tag: int, subs: tuple[int, ...], others: tuple[int, ...], _scalars: int) -> tuple[int, ...]:
        if tag == decode.FVAR:
            add(f"a free variable ({decoder.name(others[0])})")
        elif tag == decode.MVAR:
            add(f"a metavariable (?{decoder.name(others[0])})")
        elif tag in (decode.SORT, decode.CONST):
            for level_problem in _level_problems(decoder, tag, others, params):
                add(level_problem)
        elif tag == decode.LIT:
            add(_literal_problem(decoder, others[0]))
        elif tag == decode.PROJ:
            problem = _projection_problem(decoder, others, structure)
            add(problem)
            if problem is None:
                found.projections.append(ptr)
        elif tag not in (decode.BVAR, decode.APP, decode.LAM, decode.FORALL, decode.LET, decode.MDATA):
            add(f"an expression of unknown kind {tag}")
        return subs

    for root in const.exprs():
        if _loose_ranges(decoder, root, ranges):
            add("a loose bound variable (a de Bruijn index outside its binders)")
        decoder.descend([root], visit, seen)
    return found


# -- projections against the inferred type of their argument ----------------------------------
def _projection_mismatches(env: ProjectEnvironment, decoder: Decoder, const: Constant,
                           library: Path | None) -> list[str]:
    """Projections whose argument's type (inferred where the reduction engine can) is headed by
    another inductive than the one the projection names."""
    from pipeline.lean.olean.kernel import kernel_for
    from pipeline.lean.olean.terms import PremiseError

    try:
        kernel = kernel_for(env, library)
    except (PremiseError, OleanFormatError):
        return []
    out: list[str] = []
    contains = _projection_finder()
    for root in const.exprs():
        try:
            term = kernel.read(decoder, root)
        except PremiseError:
            continue
        search([term], lambda e: _inspect(kernel, e, out) if contains(e) else [])
    return out


def _projection_finder() -> Callable[[Expr], bool]:
    """Whether a term holds a projection (iterative, memoised per node across calls)."""
    has_proj: dict[int, bool] = {}
    alive: list[Expr] = []  # ids stay unique while the memo lives

    def contains(root: Expr) -> bool:
        todo: list[tuple[Expr, bool]] = [(root, False)]
        while todo:
            e, expanded = todo.pop()
            if id(e) in has_proj:
                continue
            if e.sub and not expanded:
                todo.append((e, True))
                todo.extend((x, False) for x in e.sub if id(x) not in has_proj)
                continue
            has_proj[id(e)] = e.tag == decode.PROJ or any(has_proj[id(x)] for x in e.sub)
            alive.append(e)
        return has_proj[id(root)]

    return contains


def _inspect(kernel: Kernel, e: Expr, out: list[str]) -> list[Expr]:
    """Records a projection of ``e`` on a value of another inductive in ``out``; returns the
    terms to go on into (under binders: instantiated with a fresh variable). A step that cannot
    be inferred ends there: the structural rules above still hold."""
    from pipeline.lean.olean.terms import FUEL, PremiseError, spine

    into: list[Expr] = []
    try:
        kernel.fuel = FUEL
        if e.tag == decode.PROJ:
            head, _ = spine(kernel.whnf(kernel.infer(e.sub[0])))
            info = kernel.info(head.name) if head.tag == decode.CONST else None
            if info is not None and info.kind is Kind.inductive and head.name != e.name:
                problem = f"a projection of {e.name} on a value of type {head.name}"
                if problem not in out:
                    out.append(problem)
            into.append(e.sub[0])
        elif e.tag in (decode.LAM, decode.FORALL):
            into.append(e.sub[0])
            into.append(kernel.instantiate(e.sub[1], kernel.fresh(e.name, e.sub[0])))
        elif e.tag == decode.LET:
            into.extend(e.sub[:2])
            into.append(kernel.instantiate(e.sub[2], e.sub[1]))
        else:
            into.extend(e.sub)
    except (PremiseError, KeyError, IndexError, RecursionError):
        pass  # what was found before the step failed is kept, as is where to go on
    return into


def structural_issues(env: ProjectEnvironment, module: str, library: Path | None = None) -> list[EnvIssue]:
    """One ``ill_formed`` issue per constant of ``module`` that breaks a rule above."""
    decoder = env.decoders[module]
    structure = structure_of(env, library)
    issues: list[EnvIssue] = []
    for const in env.declared_in(module):
        found = _scan(decoder, const, structure)
        problems = list(found.problems)
        if found.projections and not problems:
            problems += _projection_mismatches(env, decoder, const, library)
        if problems:
            issues.append(EnvIssue(RULE, const.name,
                                   f"the compiled {const.kind.value} {display(const.name)} is ill-formed: "
                                   + "; ".join(problems)
                                   + " (no kernel accepts such a term: the file was not written by a kernel "
                                     "that checked it)"))
    return issues


__all__ = ["RULE", "Structure", "structural_issues", "structure_of"]
