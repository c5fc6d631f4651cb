"""The kernel's reductions and type inference on :mod:`~pipeline.lean.olean.terms`, over the
project's and the core library's constants: zeta, beta, delta, iota (recursors on constructors
and ``Nat`` literals), projections, ``Nat`` literal arithmetic, and ``infer``. Bounded by fuel;
every failure is a :class:`~pipeline.lean.olean.terms.PremiseError` (fails closed)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.lean.olean import decode
from pipeline.lean.olean.decode import Decoder, Kind
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.terms import (
    FUEL,
    VALUE_FUEL,
    CoreConstants,
    Expr,
    Level,
    PremiseError,
    Reader,
    app,
    core_constants,
    level_is_zero,
    level_subst,
    mk,
    spine,
)

# -- the kernel's reductions -------------------------------------------------------------------
NAT_OPS: dict[str, Callable[[int, int], int | bool]] = {
    "Nat.add": lambda a, b: a + b, "Nat.sub": lambda a, b: max(a - b, 0), "Nat.mul": lambda a, b: a * b,
    "Nat.div": lambda a, b: a // b if b else 0, "Nat.mod": lambda a, b: a % b if b else a,
    "Nat.pow": lambda a, b: a ** b, "Nat.gcd": math.gcd, "Nat.beq": lambda a, b: a == b,
    "Nat.ble": lambda a, b: a <= b, "Nat.land": lambda a, b: a & b, "Nat.lor": lambda a, b: a | b,
    "Nat.xor": lambda a, b: a ^ b,
}
"""The ``Nat`` operations the kernel computes on literals (GMP-accelerated in Lean's kernel)."""

@dataclass(frozen=True, slots=True)
class Info:
    """What reduction and inference need of one constant."""

    name: str
    kind: Kind
    params: tuple[str, ...]
    type: Expr
    value: Expr | None
    project: bool
    scalars: tuple[int, ...]
    names: tuple[str, ...]
    rules: tuple[Expr, ...] = ()
    """Recursors: the right-hand sides of their rules, in constructor order."""


class Kernel:
    """Reduction and type inference over the project's and the core library's constants."""

    def __init__(self, env: ProjectEnvironment, core: CoreConstants | None) -> None:
        self.env = env
        self.core = core
        self.readers: dict[int, Reader] = {}
        self.infos: dict[str, Info | None] = {}
        self.locals: dict[int, Expr] = {}
        """Free variable id -> its type."""
        self._ids = itertools.count(1)
        self.fuel = FUEL

    def tick(self) -> None:
        self.fuel -= 1
        if self.fuel < 0:
            raise PremiseError("the computation took too many steps")

    def reader(self, decoder: Decoder) -> Reader:
        r = self.readers.get(id(decoder))
        if r is None:
            r = self.readers[id(decoder)] = Reader(decoder)
        return r

    def info(self, name: str) -> Info | None:
        if name in self.infos:
            return self.infos[name]
        located = self.env.get(name)
        out: Info | None = None
        if located is not None:
            reader, const, project = self.reader(located.decoder), located.constant, True
        elif self.core is not None and name in self.core.constants:
            (reader, const), project = self.core.constants[name], False
        else:
            self.infos[name] = None
            return None
        value = reader.expr(const.value) if const.value is not None and const.kind is Kind.definition else None
        rules = tuple(reader.expr(r) for r in const.extra) if const.kind is Kind.recursor else ()
        out = Info(name, const.kind, const.level_params, reader.expr(const.type), value, project,
                   const.scalars, const.names, rules)
        self.infos[name] = out
        return out

    def read(self, decoder: Decoder, ptr: int) -> Expr:
        return self.reader(decoder).expr(ptr)

    # -- substitution ----------------------------------------------------------------------
    def fresh(self, name: str, type_: Expr) -> Expr:
        k = next(self._ids)
        self.locals[k] = type_
        return mk(decode.FVAR, name=name, num=k)

    def instantiate(self, body: Expr, value: Expr) -> Expr:
        """``body`` with the bound variable 0 replaced by ``value`` (closed under binders)."""
        if body.loose == 0:
            return body

        def at(e: Expr, depth: int) -> Expr | None:
            if e.tag == decode.BVAR:
                return value if e.num == depth else mk(decode.BVAR, num=e.num - 1)
            return None

        return self._replace(body, at, keep=lambda e, depth: e.loose <= depth)

    def abstract(self, e: Expr, fvar: int) -> Expr:
        """``e`` with the free variable ``fvar`` turned into the bound variable 0."""

        def at(x: Expr, depth: int) -> Expr | None:
            if x.tag == decode.FVAR:
                return mk(decode.BVAR, num=depth) if x.num == fvar else x
            if x.tag in (decode.BVAR, decode.SORT, decode.CONST, decode.LIT):
                return x
            return None

        return self._replace(e, at)

    def _replace(self, e: Expr, at: Callable[[Expr, int], Expr | None],
                 keep: Callable[[Expr, int], bool] | None = None) -> Expr:
        """``e`` rebuilt with each node ``x`` for which ``at(x, depth)`` gives a term replaced by
        it (``depth``: the binders above ``x`` in ``e``); a node ``keep`` says is unaffected is
        kept as it is, without a step. Memoised per (node, depth); one step of fuel a node."""
        memo: dict[tuple[int, int], Expr] = {}

        def go(x: Expr, depth: int) -> Expr:
            if keep is not None and keep(x, depth):
                return x
            key = (id(x), depth)
            hit = memo.get(key)
            if hit is not None:
                return hit
            self.tick()
            out = at(x, depth)
            if out is None:
                if x.tag in (decode.LAM, decode.FORALL):
                    out = mk(x.tag, name=x.name, num=x.num, sub=(go(x.sub[0], depth), go(x.sub[1], depth + 1)))
                elif x.tag == decode.LET:
                    out = mk(decode.LET, name=x.name,
                             sub=(go(x.sub[0], depth), go(x.sub[1], depth), go(x.sub[2], depth + 1)))
                else:
                    out = mk(x.tag, name=x.name, num=x.num, levels=x.levels, value=x.value,
                             sub=tuple(go(s, depth) for s in x.sub))
            memo[key] = out
            return out

        return go(e, 0)

    def instantiate_levels(self, e: Expr, params: tuple[str, ...], levels: tuple[Level, ...]) -> Expr:
        if not params:
            return e
        subst = dict(zip(params, levels, strict=False))
        memo: dict[int, Expr] = {}

        def go(x: Expr) -> Expr:
            hit = memo.get(id(x))
            if hit is not None:
                return hit
            self.tick()
            if x.tag in (decode.SORT, decode.CONST):
                out = mk(x.tag, name=x.name, levels=tuple(level_subst(lv, subst) for lv in x.levels))
            elif x.sub:
                out = mk(x.tag, name=x.name, num=x.num, levels=x.levels, value=x.value,
                          sub=tuple(go(s) for s in x.sub))
            else:
                out = x
            memo[id(x)] = out
            return out

        return go(e)

    def unfold(self, head: Expr) -> Expr | None:
        """A definition's body at the head's universe levels."""
        info = self.info(head.name)
        if info is None or info.value is None or info.kind is not Kind.definition:
            return None
        return self.instantiate_levels(info.value, info.params, head.levels)

    # -- weak head normal form -------------------------------------------------------------
    def whnf(self, e: Expr, unfold: Callable[[Expr, list[Expr]], bool] | None = None,
             unfolded: list[str] | None = None) -> Expr:
        """Weak head normal form by zeta, beta, projection and delta; ``unfold(head, args)``
        says which definitions to unfold (``None``: every one, as the kernel may)."""
        while True:
            self.tick()
            if e.tag == decode.LET:
                e = self.instantiate(e.sub[2], e.sub[1])
                if unfolded is not None and "let" not in unfolded:
                    unfolded.append("let")
                continue
            head, args = spine(e)
            if head.tag == decode.LAM and args:
                i = 0
                while head.tag == decode.LAM and i < len(args):
                    head = self.instantiate(head.sub[1], args[i])
                    i += 1
                e = app(head, *args[i:])
                continue
            if head.tag == decode.LET:
                e = app(self.instantiate(head.sub[2], head.sub[1]), *args)
                continue
            if head.tag == decode.PROJ:
                field_ = self.project(head, unfold, unfolded)
                if field_ is None:
                    return e
                e = app(field_, *args)
                continue
            if head.tag == decode.CONST:
                reduced = self.iota(head, args) or self.nat_literal(head, args)
                if reduced is not None:
                    e = reduced
                    continue
            if head.tag == decode.CONST and (unfold is None or unfold(head, args)):
                body = self.unfold(head)
                if body is not None:
                    if unfolded is not None and head.name not in unfolded:
                        unfolded.append(head.name)
                    e = app(body, *args)
                    continue
            return e

    def value_whnf(self, e: Expr) -> Expr | None:
        """``e`` (a value a ``match`` or literal arithmetic inspects) in weak head normal form,
        on its own budget: a value too long to compute leaves the match stuck (``None``), it does
        not use up the statement's fuel."""
        budget = min(self.fuel, VALUE_FUEL)
        rest = self.fuel - budget
        self.fuel = budget
        try:
            return self.whnf(e)
        except PremiseError:
            return None
        finally:
            self.fuel = rest + max(self.fuel, 0)

    def nat_value(self, e: Expr) -> int | None:
        reduced = self.value_whnf(e)
        if reduced is None:
            return None
        e = reduced
        if e.tag == decode.LIT and e.num == 0 and isinstance(e.value, int):
            return e.value
        head, args = spine(e)
        if head.tag == decode.CONST and head.name == "Nat.zero" and not args:
            return 0
        if head.tag == decode.CONST and head.name == "Nat.succ" and len(args) == 1:
            inner = self.nat_value(args[0])
            return None if inner is None else inner + 1
        return None

    def nat_literal(self, head: Expr, args: list[Expr]) -> Expr | None:
        """The kernel's arithmetic on ``Nat`` literals (``Nat.add 2 3`` is ``5``, ``Nat.beq 0 0``
        is ``true``), which the compiled definitions reach through ``decide`` and ``match``."""
        op = NAT_OPS.get(head.name)
        if op is None or len(args) != 2:
            return None
        a, b = self.nat_value(args[0]), self.nat_value(args[1])
        if a is None or b is None or (head.name == "Nat.pow" and b > 4096):
            return None
        out = op(a, b)
        if isinstance(out, bool):
            return mk(decode.CONST, name="Bool.true" if out else "Bool.false")
        return mk(decode.LIT, num=0, value=out)

    def iota(self, head: Expr, args: list[Expr]) -> Expr | None:
        """A recursor (of one inductive type, one motive) applied to a constructor or a ``Nat``
        literal: the matching rule's right-hand side applied (the kernel's iota reduction). The
        major premise is reduced with every definition unfolded: it is a value, not a
        statement."""
        info = self.info(head.name)
        if info is None or info.kind is not Kind.recursor or len(info.names) != 1:
            return None
        params, indices, motives, minors = info.scalars[:4]
        major_at = params + motives + minors + indices
        if motives != 1 or len(args) <= major_at:
            return None
        reduced = self.value_whnf(args[major_at])
        if reduced is None:
            return None
        major = reduced
        if len(info.scalars) > 4 and info.scalars[4]:   # K-like (Eq): the constructor from the type
            try:
                major = self.k_constructor(info, major) or major
            except PremiseError:
                return None
        if major.tag == decode.LIT and major.num == 0 and isinstance(major.value, int):
            n = major.value
            major = (mk(decode.CONST, name="Nat.zero") if n == 0
                     else app(mk(decode.CONST, name="Nat.succ"), mk(decode.LIT, num=0, value=n - 1)))
        ctor_head, ctor_args = spine(major)
        ctor = self.info(ctor_head.name) if ctor_head.tag == decode.CONST else None
        if ctor is None or ctor.kind is not Kind.constructor or ctor.names[:1] != info.names[:1]:
            return None
        index, ctor_params, fields = ctor.scalars[:3]
        if index >= len(info.rules) or len(ctor_args) != ctor_params + fields:
            return None
        rhs = self.instantiate_levels(info.rules[index], info.params, head.levels)
        return app(rhs, *args[:params + motives + minors], *ctor_args[ctor_params:], *args[major_at + 1:])

    def k_constructor(self, rec: Info, major: Expr) -> Expr | None:
        """For a recursor with K (``Eq.rec``): the major premise's only constructor, built from
        its type's parameters, when that constructor has the very same type (``h : a = a``)."""
        t = self.whnf(self.infer(major))
        head, args = spine(t)
        induct = self.info(head.name) if head.tag == decode.CONST else None
        if induct is None or induct.kind is not Kind.inductive or len(induct.names) != 1:
            return None
        ctor = self.info(induct.names[0])
        if ctor is None or ctor.scalars[2] != 0:
            return None
        built = app(mk(decode.CONST, name=ctor.name, levels=head.levels), *args[:induct.scalars[0]])
        if not same(self.whnf(self.infer(built)), t, self):
            return None
        return built

    def project(self, p: Expr, unfold: Callable[[Expr, list[Expr]], bool] | None,
                unfolded: list[str] | None) -> Expr | None:
        struct = self.whnf(p.sub[0], unfold, unfolded)
        head, args = spine(struct)
        if head.tag != decode.CONST:
            return None
        info = self.info(head.name)
        if info is None or info.kind is not Kind.constructor:
            return None
        num_params = info.scalars[1]
        k = num_params + p.num
        return args[k] if k < len(args) else None

    # -- type inference ----------------------------------------------------------------------
    def infer(self, e: Expr) -> Expr:
        self.tick()
        tag = e.tag
        if tag == decode.FVAR:
            return self.locals[e.num]
        if tag == decode.SORT:
            return mk(decode.SORT, levels=(("succ", e.levels[0]),))
        if tag == decode.CONST:
            info = self.info(e.name)
            if info is None:
                raise PremiseError(f"the environment has no constant {e.name}")
            return self.instantiate_levels(info.type, info.params, e.levels)
        if tag == decode.APP:
            head, args = spine(e)
            t = self.infer(head)
            for a in args:
                t = self.whnf(t)
                if t.tag != decode.FORALL:
                    raise PremiseError("a function's type is not a ∀")
                t = self.instantiate(t.sub[1], a)
            return t
        if tag == decode.LAM:
            x = self.fresh(e.name, e.sub[0])
            body_t = self.infer(self.instantiate(e.sub[1], x))
            return mk(decode.FORALL, name=e.name, num=e.num, sub=(e.sub[0], self.abstract(body_t, x.num)))
        if tag == decode.FORALL:
            s1 = self.sort_of(e.sub[0])
            x = self.fresh(e.name, e.sub[0])
            s2 = self.sort_of(self.instantiate(e.sub[1], x))
            return mk(decode.SORT, levels=(("imax", s1, s2),))
        if tag == decode.LET:
            return self.infer(self.instantiate(e.sub[2], e.sub[1]))
        if tag == decode.LIT:
            return mk(decode.CONST, name="Nat" if e.num == 0 else "String")
        if tag == decode.PROJ:
            return self.infer_proj(e)
        raise PremiseError("a loose bound variable in a term")

    def infer_proj(self, e: Expr) -> Expr:
        t = self.whnf(self.infer(e.sub[0]))
        head, args = spine(t)
        induct = self.info(head.name) if head.tag == decode.CONST else None
        if induct is None or induct.kind is not Kind.inductive or not induct.names:
            raise PremiseError(f"a projection of {e.name} on a term that is not of a structure")
        ctor = self.info(induct.names[0])
        if ctor is None:
            raise PremiseError(f"the environment has no constructor {induct.names[0]}")
        ct = self.instantiate_levels(ctor.type, ctor.params, head.levels)
        for a in args[:induct.scalars[0]]:
            ct = self.whnf(ct)
            if ct.tag != decode.FORALL:
                raise PremiseError(f"the constructor of {e.name} has fewer parameters than its type")
            ct = self.instantiate(ct.sub[1], a)
        for i in range(e.num):
            ct = self.whnf(ct)
            if ct.tag != decode.FORALL:
                raise PremiseError(f"{e.name} has no field {e.num}")
            ct = self.instantiate(ct.sub[1], mk(decode.PROJ, name=e.name, num=i, sub=(e.sub[0],)))
        ct = self.whnf(ct)
        if ct.tag != decode.FORALL:
            raise PremiseError(f"{e.name} has no field {e.num}")
        return ct.sub[0]

    def sort_of(self, type_: Expr) -> Level:
        """The universe level of a type (``0``: a proposition)."""
        s = self.whnf(self.infer(type_))
        if s.tag != decode.SORT:
            raise PremiseError("a binder's type is not a type")
        return s.levels[0]

    def is_prop(self, type_: Expr) -> bool:
        return level_is_zero(self.sort_of(type_))


def same(a: Expr, b: Expr, kernel: Kernel) -> bool:
    """Structural equality, arguments compared after weak head normalisation (enough for the
    index of ``a = a`` on literals; never used to accept anything, only to reduce)."""
    kernel.tick()
    if a is b:
        return True
    a, b = kernel.whnf(a), kernel.whnf(b)
    if a.tag != b.tag or a.name != b.name or a.num != b.num or a.value != b.value or a.levels != b.levels:
        return False
    return len(a.sub) == len(b.sub) and all(same(x, y, kernel) for x, y in zip(a.sub, b.sub, strict=True))


def _core_roots(env: ProjectEnvironment) -> set[str]:
    return {imp for data in env.modules.values() for imp in data.imports if imp not in env.modules}


def kernel_for(env: ProjectEnvironment, library: Path | None) -> Kernel:
    core = None
    if library is not None:
        core = core_constants(library, env.core.githash)
        core.load(_core_roots(env) | {"Init"})
    return Kernel(env, core)


__all__ = ["NAT_OPS", "Info", "Kernel", "kernel_for", "same"]
