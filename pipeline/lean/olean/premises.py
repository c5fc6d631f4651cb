"""A theorem's premises as the kernel sees them, read from the compiled environment.

The leading ``∀``-binders of a theorem's type, as written, are not what the theorem assumes: a
``let`` in front hides the binders after it, and a ``Prop``-valued definition in the
conclusion (``∀ n, InRange n`` with ``InRange n := n > 5 → n < 3 → n = 42``) hides premises
in its body. :func:`premises` computes the telescope the way the kernel reduces the type:

* **zeta** — ``let x := v; b`` is ``b[v/x]``;
* **beta** — ``(fun x => b) a`` is ``b[a/x]``;
* **delta** — a *project* definition applied in head position is replaced by its body (with
  its universe parameters instantiated); a core definition is unfolded only where it merely
  passes its arguments on (``id``, ``Function.comp``, ``outParam``: :func:`_combinator`) or
  where an instance-implicit argument of it mentions a project constant (``a < b`` through a
  project ``LT`` instance), so core connectives such as ``¬`` stay what they are;
* **iota** — a recursor (what a ``match`` compiles to) on a constructor or a ``Nat`` literal
  is the matching rule;
* **proj** — a projection of a constructor application is the field;

and then collects the ``∀``-binders, classifying each: a binder whose type is a proposition
(its type's sort reduces to ``Prop``, inferred on the kernel terms of the project and of the
core library) is a hypothesis. :func:`render` prints a term readably (implicit arguments
hidden, the usual infix notation) for messages.

Terms are turned into small Python trees (:class:`Expr`) only for the statement and the
definitions it unfolds; every walk is bounded (:data:`FUEL`) and fails closed
(:class:`PremiseError`), never with a pass.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import SetupError
from pipeline.lean.olean.decode import (
    APP,
    BVAR,
    CONST,
    FORALL,
    FVAR,
    LAM,
    LET,
    LIT,
    MDATA,
    MVAR,
    PROJ,
    SORT,
    Constant,
    Decoder,
    Kind,
)
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.region import Region, module_parts

FUEL = 20_000
"""Reduction and inference steps one computation may take before it gives up (fails closed)."""
VALUE_FUEL = 2_000
"""Of those, the steps one value inspected by a ``match`` may take (then the match stays stuck)."""


class PremiseError(SetupError):
    """The premises could not be computed (an unsupported term, a missing constant, no fuel)."""


# -- terms -----------------------------------------------------------------------------------
Level = tuple[object, ...]
"""``("zero",)``, ``("succ", l)``, ``("max", a, b)``, ``("imax", a, b)``, ``("param", name)``,
``("mvar",)``."""

ZERO: Level = ("zero",)


@dataclass(frozen=True, slots=True, eq=False)
class Expr:
    """A kernel term. ``tag`` is :mod:`~pipeline.lean.olean.decode`'s constructor number;
    ``loose`` is the loose bound-variable range (0: closed under binders)."""

    tag: int
    name: str = ""
    """Constants, binders, projections (the structure), free variables (their display name)."""
    sub: tuple[Expr, ...] = ()
    """app: (f, a); lam/forall: (type, body); let: (type, value, body); proj: (struct,)."""
    levels: tuple[Level, ...] = ()
    """const: the universe arguments; sort: (its level,)."""
    num: int = 0
    """bvar: index; fvar: id; binder: BinderInfo; proj: field index; lit: 0 nat, 1 string."""
    value: int | str = 0
    loose: int = 0


def _mk(tag: int, *, name: str = "", sub: tuple[Expr, ...] = (), levels: tuple[Level, ...] = (),
        num: int = 0, value: int | str = 0) -> Expr:
    if tag == BVAR:
        loose = num + 1
    elif tag in (LAM, FORALL):
        loose = max(sub[0].loose, sub[1].loose - 1)
    elif tag == LET:
        loose = max(sub[0].loose, sub[1].loose, sub[2].loose - 1)
    else:
        loose = max((s.loose for s in sub), default=0)
    return Expr(tag, name, sub, levels, num, value, loose)


def app(f: Expr, *args: Expr) -> Expr:
    for a in args:
        f = _mk(APP, sub=(f, a))
    return f


def spine(e: Expr) -> tuple[Expr, list[Expr]]:
    args: list[Expr] = []
    while e.tag == APP:
        args.append(e.sub[1])
        e = e.sub[0]
    args.reverse()
    return e, args


# -- levels ----------------------------------------------------------------------------------
def level_subst(lvl: Level, params: dict[str, Level]) -> Level:
    tag = lvl[0]
    if tag == "param":
        return params.get(str(lvl[1]), lvl)
    if tag == "succ":
        return ("succ", level_subst(lvl[1], params))  # type: ignore[arg-type]
    if tag in ("max", "imax"):
        return (tag, level_subst(lvl[1], params), level_subst(lvl[2], params))  # type: ignore[arg-type]
    return lvl


def level_is_zero(lvl: Level) -> bool:
    """Whether the level is ``0`` for every value of its parameters."""
    tag = lvl[0]
    if tag == "zero":
        return True
    if tag == "max":
        return level_is_zero(lvl[1]) and level_is_zero(lvl[2])  # type: ignore[arg-type]
    if tag == "imax":
        return level_is_zero(lvl[2])  # type: ignore[arg-type]
    return False


def level_closed(lvl: Level) -> bool:
    """No universe parameter or metavariable in the level."""
    tag = lvl[0]
    if tag in ("param", "mvar"):
        return False
    return all(level_closed(x) for x in lvl[1:] if isinstance(x, tuple))


def show_level(lvl: Level) -> str:
    tag = lvl[0]
    if tag == "zero":
        return "0"
    if tag == "succ":
        depth, inner = 1, lvl[1]
        while isinstance(inner, tuple) and inner[0] == "succ":
            depth, inner = depth + 1, inner[1]
        base = show_level(inner)  # type: ignore[arg-type]
        return str(depth) if base == "0" else f"{base}+{depth}"
    if tag in ("max", "imax"):
        return f"{tag} {show_level(lvl[1])} {show_level(lvl[2])}"  # type: ignore[arg-type]
    return str(lvl[1]) if tag == "param" else "?u"


# -- reading terms from the compiled files ----------------------------------------------------
class _Reader:
    """Region addresses -> :class:`Expr`, memoised per decoder."""

    def __init__(self, decoder: Decoder) -> None:
        self.decoder = decoder
        self.exprs: dict[int, Expr] = {}
        self.levels: dict[int, Level] = {}

    def level(self, ptr: int) -> Level:
        cached = self.levels.get(ptr)
        if cached is not None:
            return cached
        region = self.decoder.region
        if ptr & 1:
            out: Level = ZERO
        else:
            tag, fields, _ = region.ctor(ptr)
            if tag == 0:
                out = ZERO
            elif tag == 1:
                out = ("succ", self.level(fields[0]))
            elif tag in (2, 3):
                out = ("max" if tag == 2 else "imax", self.level(fields[0]), self.level(fields[1]))
            elif tag == 4:
                out = ("param", self.decoder.name(fields[0]))
            else:
                out = ("mvar",)
        self.levels[ptr] = out
        return out

    def expr(self, root: int) -> Expr:
        d = self.decoder

        def node(_ptr: int, tag: int, subs: tuple[int, ...], others: tuple[int, ...], scalars: int) -> Expr:
            kids = tuple(memo[s] for s in subs)
            if tag == MDATA:
                return kids[0]
            if tag == BVAR:
                return _mk(BVAR, num=d.region.nat(others[0]))
            if tag in (FVAR, MVAR):
                raise PremiseError(f"the compiled term holds a {'free' if tag == FVAR else 'meta'}variable")
            if tag == SORT:
                return _mk(SORT, levels=(self.level(others[0]),))
            if tag == CONST:
                return _mk(CONST, name=d.name(others[0]), levels=tuple(self.level(p) for p in d.items(others[1])))
            if tag == APP:
                return _mk(APP, sub=kids)
            if tag in (LAM, FORALL, LET):
                return _mk(tag, name=d.name(others[0]), sub=kids, num=d.region.u8(scalars + 8) if tag != LET else 0)
            if tag == LIT:
                lt, lf, _ = d.region.ctor(others[0])
                return (_mk(LIT, num=0, value=d.region.nat(lf[0])) if lt == 0
                        else _mk(LIT, num=1, value=d.region.string(lf[0])))
            if tag == PROJ:
                return _mk(PROJ, name=d.name(others[0]), num=d.region.nat(others[1]), sub=kids)
            raise PremiseError(f"unknown expression constructor {tag}")

        memo = self.exprs
        return d.fold(root, memo, node)


# -- the core library's constants -------------------------------------------------------------
class CoreConstants:
    """The core library's constants (types and bodies), read from the installed library for
    the modules a project imports and everything they import (``Init`` for any module)."""

    def __init__(self, library: Path, githash: str) -> None:
        self.library = library
        self.githash = githash
        self.loaded: set[str] = set()
        self.constants: dict[str, tuple[_Reader, Constant]] = {}
        self._lock = threading.Lock()

    def load(self, roots: Iterable[str]) -> None:
        with self._lock:
            stack = [m for m in roots if m not in self.loaded]
            while stack:
                module = stack.pop()
                if module in self.loaded:
                    continue
                self.loaded.add(module)
                olean = self.library / Path(*module.split(".")).with_suffix(".olean")
                if not olean.is_file():
                    continue  # not a core module (a project module is read from the build)
                decoder = Decoder(Region(module_parts(olean), githash=self.githash))
                data = decoder.module_data()
                reader = _Reader(decoder)
                for const in data.constants:
                    self.constants.setdefault(const.name, (reader, const))
                stack.extend(m for m in data.imports if m not in self.loaded)


_CORE: dict[tuple[Path, str], CoreConstants] = {}
_CORE_LOCK = threading.Lock()


def core_constants(library: Path, githash: str) -> CoreConstants:
    """One :class:`CoreConstants` per installed library and process."""
    with _CORE_LOCK:
        key = (library.resolve(), githash)
        if key not in _CORE:
            _CORE[key] = CoreConstants(library, githash)
        return _CORE[key]


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
        self.readers: dict[int, _Reader] = {}
        self.infos: dict[str, Info | None] = {}
        self.locals: dict[int, Expr] = {}
        """Free variable id -> its type."""
        self._ids = itertools.count(1)
        self.fuel = FUEL

    def tick(self) -> None:
        self.fuel -= 1
        if self.fuel < 0:
            raise PremiseError("the computation took too many steps")

    def reader(self, decoder: Decoder) -> _Reader:
        r = self.readers.get(id(decoder))
        if r is None:
            r = self.readers[id(decoder)] = _Reader(decoder)
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
        return _mk(FVAR, name=name, num=k)

    def instantiate(self, body: Expr, value: Expr) -> Expr:
        """``body`` with the bound variable 0 replaced by ``value`` (closed under binders)."""
        if body.loose == 0:
            return body
        memo: dict[tuple[int, int], Expr] = {}

        def go(e: Expr, depth: int) -> Expr:
            if e.loose <= depth:
                return e
            key = (id(e), depth)
            hit = memo.get(key)
            if hit is not None:
                return hit
            self.tick()
            if e.tag == BVAR:
                out = value if e.num == depth else _mk(BVAR, num=e.num - 1)
            elif e.tag in (LAM, FORALL):
                out = _mk(e.tag, name=e.name, num=e.num, sub=(go(e.sub[0], depth), go(e.sub[1], depth + 1)))
            elif e.tag == LET:
                out = _mk(LET, name=e.name, sub=(go(e.sub[0], depth), go(e.sub[1], depth),
                                                 go(e.sub[2], depth + 1)))
            else:
                out = _mk(e.tag, name=e.name, num=e.num, levels=e.levels, value=e.value,
                          sub=tuple(go(s, depth) for s in e.sub))
            memo[key] = out
            return out

        return go(body, 0)

    def abstract(self, e: Expr, fvar: int) -> Expr:
        """``e`` with the free variable ``fvar`` turned into the bound variable 0."""
        memo: dict[tuple[int, int], Expr] = {}

        def go(x: Expr, depth: int) -> Expr:
            key = (id(x), depth)
            hit = memo.get(key)
            if hit is not None:
                return hit
            self.tick()
            if x.tag == FVAR:
                out = _mk(BVAR, num=depth) if x.num == fvar else x
            elif x.tag in (BVAR, SORT, CONST, LIT):
                out = x
            elif x.tag in (LAM, FORALL):
                out = _mk(x.tag, name=x.name, num=x.num, sub=(go(x.sub[0], depth), go(x.sub[1], depth + 1)))
            elif x.tag == LET:
                out = _mk(LET, name=x.name, sub=(go(x.sub[0], depth), go(x.sub[1], depth), go(x.sub[2], depth + 1)))
            else:
                out = _mk(x.tag, name=x.name, num=x.num, levels=x.levels, value=x.value,
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
            if x.tag in (SORT, CONST):
                out = _mk(x.tag, name=x.name, levels=tuple(level_subst(lv, subst) for lv in x.levels))
            elif x.sub:
                out = _mk(x.tag, name=x.name, num=x.num, levels=x.levels, value=x.value,
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
            if e.tag == LET:
                e = self.instantiate(e.sub[2], e.sub[1])
                if unfolded is not None and "let" not in unfolded:
                    unfolded.append("let")
                continue
            head, args = spine(e)
            if head.tag == LAM and args:
                i = 0
                while head.tag == LAM and i < len(args):
                    head = self.instantiate(head.sub[1], args[i])
                    i += 1
                e = app(head, *args[i:])
                continue
            if head.tag == LET:
                e = app(self.instantiate(head.sub[2], head.sub[1]), *args)
                continue
            if head.tag == PROJ:
                field_ = self.project(head, unfold, unfolded)
                if field_ is None:
                    return e
                e = app(field_, *args)
                continue
            if head.tag == CONST:
                reduced = self.iota(head, args) or self.nat_literal(head, args)
                if reduced is not None:
                    e = reduced
                    continue
            if head.tag == CONST and (unfold is None or unfold(head, args)):
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
        if e.tag == LIT and e.num == 0 and isinstance(e.value, int):
            return e.value
        head, args = spine(e)
        if head.tag == CONST and head.name == "Nat.zero" and not args:
            return 0
        if head.tag == CONST and head.name == "Nat.succ" and len(args) == 1:
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
            return _mk(CONST, name="Bool.true" if out else "Bool.false")
        return _mk(LIT, num=0, value=out)

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
        if major.tag == LIT and major.num == 0 and isinstance(major.value, int):
            n = major.value
            major = (_mk(CONST, name="Nat.zero") if n == 0
                     else app(_mk(CONST, name="Nat.succ"), _mk(LIT, num=0, value=n - 1)))
        ctor_head, ctor_args = spine(major)
        ctor = self.info(ctor_head.name) if ctor_head.tag == CONST else None
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
        induct = self.info(head.name) if head.tag == CONST else None
        if induct is None or induct.kind is not Kind.inductive or len(induct.names) != 1:
            return None
        ctor = self.info(induct.names[0])
        if ctor is None or ctor.scalars[2] != 0:
            return None
        built = app(_mk(CONST, name=ctor.name, levels=head.levels), *args[:induct.scalars[0]])
        if not same(self.whnf(self.infer(built)), t, self):
            return None
        return built

    def project(self, p: Expr, unfold: Callable[[Expr, list[Expr]], bool] | None,
                unfolded: list[str] | None) -> Expr | None:
        struct = self.whnf(p.sub[0], unfold, unfolded)
        head, args = spine(struct)
        if head.tag != CONST:
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
        if tag == FVAR:
            return self.locals[e.num]
        if tag == SORT:
            return _mk(SORT, levels=(("succ", e.levels[0]),))
        if tag == CONST:
            info = self.info(e.name)
            if info is None:
                raise PremiseError(f"the environment has no constant {e.name}")
            return self.instantiate_levels(info.type, info.params, e.levels)
        if tag == APP:
            head, args = spine(e)
            t = self.infer(head)
            for a in args:
                t = self.whnf(t)
                if t.tag != FORALL:
                    raise PremiseError("a function's type is not a ∀")
                t = self.instantiate(t.sub[1], a)
            return t
        if tag == LAM:
            x = self.fresh(e.name, e.sub[0])
            body_t = self.infer(self.instantiate(e.sub[1], x))
            return _mk(FORALL, name=e.name, num=e.num, sub=(e.sub[0], self.abstract(body_t, x.num)))
        if tag == FORALL:
            s1 = self.sort_of(e.sub[0])
            x = self.fresh(e.name, e.sub[0])
            s2 = self.sort_of(self.instantiate(e.sub[1], x))
            return _mk(SORT, levels=(("imax", s1, s2),))
        if tag == LET:
            return self.infer(self.instantiate(e.sub[2], e.sub[1]))
        if tag == LIT:
            return _mk(CONST, name="Nat" if e.num == 0 else "String")
        if tag == PROJ:
            return self.infer_proj(e)
        raise PremiseError("a loose bound variable in a term")

    def infer_proj(self, e: Expr) -> Expr:
        t = self.whnf(self.infer(e.sub[0]))
        head, args = spine(t)
        induct = self.info(head.name) if head.tag == CONST else None
        if induct is None or induct.kind is not Kind.inductive or not induct.names:
            raise PremiseError(f"a projection of {e.name} on a term that is not of a structure")
        ctor = self.info(induct.names[0])
        if ctor is None:
            raise PremiseError(f"the environment has no constructor {induct.names[0]}")
        ct = self.instantiate_levels(ctor.type, ctor.params, head.levels)
        for a in args[:induct.scalars[0]]:
            ct = self.whnf(ct)
            if ct.tag != FORALL:
                raise PremiseError(f"the constructor of {e.name} has fewer parameters than its type")
            ct = self.instantiate(ct.sub[1], a)
        for i in range(e.num):
            ct = self.whnf(ct)
            if ct.tag != FORALL:
                raise PremiseError(f"{e.name} has no field {e.num}")
            ct = self.instantiate(ct.sub[1], _mk(PROJ, name=e.name, num=i, sub=(e.sub[0],)))
        ct = self.whnf(ct)
        if ct.tag != FORALL:
            raise PremiseError(f"{e.name} has no field {e.num}")
        return ct.sub[0]

    def sort_of(self, type_: Expr) -> Level:
        """The universe level of a type (``0``: a proposition)."""
        s = self.whnf(self.infer(type_))
        if s.tag != SORT:
            raise PremiseError("a binder's type is not a type")
        return s.levels[0]

    def is_prop(self, type_: Expr) -> bool:
        return level_is_zero(self.sort_of(type_))


# -- the premises ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Premise:
    """One ``∀``-binder of the kernel's telescope of a theorem's type."""

    name: str
    """The binder's name as the user would read it (``a✝`` for an anonymous ``→`` premise)."""
    raw_name: str
    type: str
    """The binder's type, printed readably."""
    binder_info: int
    """0 explicit, 1 implicit, 2 strict implicit, 3 instance."""
    proposition: bool
    """Its type is a proposition: the binder is a hypothesis."""
    unfolded: tuple[str, ...] = ()
    """What was reduced to reach it: ``let`` and the definitions unfolded (empty: a binder of
    the type as written)."""
    through: tuple[str, ...] = ()
    """The part of ``unfolded`` a reader needs: ``let`` and the project's definitions (all of
    ``unfolded`` when it holds none of them)."""


@dataclass(frozen=True, slots=True)
class Telescope:
    declaration: str
    premises: tuple[Premise, ...]
    conclusion: str
    universes: tuple[str, ...] = field(default=())

    @property
    def hypotheses(self) -> tuple[Premise, ...]:
        return tuple(p for p in self.premises if p.proposition)


def display_name(name: str) -> str:
    """A binder name without Lean's hygiene suffix (``a._@.M._hyg.12`` -> ``a✝``)."""
    for marker in ("._@.", ".«_@».", "_@."):
        k = name.find(marker)
        if k != -1:
            base = name[:k] if k > 0 else "a"
            return f"{base}✝"
    return name or "_"


def _core_roots(env: ProjectEnvironment) -> set[str]:
    return {imp for data in env.modules.values() for imp in data.imports if imp not in env.modules}


def kernel_for(env: ProjectEnvironment, library: Path | None) -> Kernel:
    core = None
    if library is not None:
        core = core_constants(library, env.core.githash)
        core.load(_core_roots(env) | {"Init"})
    return Kernel(env, core)


def premises(env: ProjectEnvironment, declaration: str, library: Path | None) -> Telescope:
    """The premises of ``declaration``'s type as the kernel sees them (module docstring).
    ``library``: the installed core library (``None``: only the project's constants, so a
    binder whose type needs a core constant cannot be classified: :class:`PremiseError`)."""
    located = env.get(declaration)
    if located is None:
        raise PremiseError(f"the compiled library has no {declaration}")
    kernel = kernel_for(env, library)
    try:
        return _telescope(kernel, declaration, kernel.read(located.decoder, located.constant.type),
                          located.constant.level_params)
    except RecursionError as exc:
        raise PremiseError("a term nests too deeply") from exc


def _telescope(kernel: Kernel, declaration: str, type_: Expr, universes: tuple[str, ...]) -> Telescope:
    def unfold(head: Expr, args: list[Expr]) -> bool:
        info = kernel.info(head.name)
        if info is None or info.value is None:
            return False
        if info.project or _combinator(kernel, info.value):
            return True
        # a core definition through a project instance: `a < b` with a project `LT` instance
        t = info.type
        for a in args:
            if t.tag != FORALL:
                break
            if t.num == 3 and _mentions_project(kernel, a):
                return True
            t = t.sub[1]
        return False

    found: list[Premise] = []
    unfolded: list[str] = []
    shown: list[Expr] = []
    t = type_
    while True:
        t = kernel.whnf(t, unfold, unfolded)
        if t.tag != FORALL:
            break
        binder_type = t.sub[0]
        x = kernel.fresh(display_name(t.name), binder_type)
        through = tuple(n for n in unfolded if n == "let" or ((i := kernel.info(n)) is not None and i.project))
        found.append(Premise(name=display_name(t.name), raw_name=t.name,
                             type=render(kernel, binder_type), binder_info=t.num,
                             proposition=kernel.is_prop(binder_type), unfolded=tuple(unfolded),
                             through=through or tuple(unfolded)))
        shown.append(x)
        t = kernel.instantiate(t.sub[1], x)
    return Telescope(declaration=declaration, premises=tuple(found), conclusion=render(kernel, t),
                     universes=universes)


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


def _combinator(kernel: Kernel, value: Expr) -> bool:
    """Whether a definition only passes its arguments on or matches on them: its body, under
    its ``fun``s, applies one of its parameters (``id``, ``inline``, ``outParam``,
    ``Function.comp``, ``flip``, ``letFun``) or a recursor (``Nat.casesOn``, ``Nat.rec`` after
    a ``match``). Unfolding one adds no logical content, so a premise cannot hide behind it;
    ``Not``, ``Ne``, ``Function.Injective`` (whose bodies are ``∀``s) stay what the conclusion
    says."""
    for _ in range(4):   # through auxiliary definitions (`dite` -> `Decidable.casesOn` -> `Decidable.rec`)
        while value.tag == LAM:
            value = value.sub[1]
        head, _args = spine(value)
        if head.tag == BVAR:
            return True
        info = kernel.info(head.name) if head.tag == CONST else None
        if info is None:
            return False
        if info.kind is Kind.recursor:
            return True
        if info.value is None:
            return False
        value = info.value
    return False


def _uses_bvar(e: Expr, index: int) -> bool:
    """Whether the bound variable ``index`` occurs in ``e``."""
    if e.loose <= index:
        return False
    if e.tag == BVAR:
        return e.num == index
    if e.tag in (LAM, FORALL):
        return _uses_bvar(e.sub[0], index) or _uses_bvar(e.sub[1], index + 1)
    if e.tag == LET:
        return any(_uses_bvar(s, index) for s in e.sub[:2]) or _uses_bvar(e.sub[2], index + 1)
    return any(_uses_bvar(s, index) for s in e.sub)


def _mentions_project(kernel: Kernel, e: Expr) -> bool:
    stack = [e]
    seen: set[int] = set()
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if x.tag == CONST:
            info = kernel.info(x.name)
            if info is not None and info.project:
                return True
        stack.extend(x.sub)
    return False


# -- printing ----------------------------------------------------------------------------------
INFIX: dict[str, str] = {
    "Eq": "=", "Ne": "≠", "LT.lt": "<", "LE.le": "≤", "GT.gt": ">", "GE.ge": "≥", "And": "∧",
    "Or": "∨", "Iff": "↔", "HAdd.hAdd": "+", "HSub.hSub": "-", "HMul.hMul": "*", "HDiv.hDiv": "/",
    "HMod.hMod": "%", "HPow.hPow": "^", "HAppend.hAppend": "++", "Dvd.dvd": "∣",
}
"""Binary notation: the constant -> its symbol (shown when it has two explicit arguments)."""
CASTS = frozenset({"Nat.cast", "Int.cast", "NatCast.natCast", "IntCast.intCast", "Rat.cast"})


def render(kernel: Kernel, e: Expr) -> str:
    """A term as a reader writes it: implicit and instance arguments hidden, numerals and the
    usual infix notation; bound variables by their names."""

    def explicit(head: Expr, args: list[Expr]) -> list[Expr]:
        info = kernel.info(head.name) if head.tag == CONST else None
        if info is None:
            return args
        t, out = info.type, []
        for a in args:
            if t.tag == FORALL:
                if t.num == 0:
                    out.append(a)
                t = t.sub[1]
            else:
                out.append(a)
        return out

    def atom(x: Expr, ctx: list[str]) -> str:
        text = go(x, ctx)
        compound = x.tag in (FORALL, LAM, LET) or (x.tag == APP and " " in text)
        return f"({text})" if compound else text

    def go(x: Expr, ctx: list[str]) -> str:
        tag = x.tag
        if tag == BVAR:
            return ctx[-1 - x.num] if x.num < len(ctx) else f"#{x.num}"
        if tag == FVAR:
            return x.name
        if tag == SORT:
            lvl = x.levels[0]
            kind = "Sort"
            if lvl[0] == "succ":
                kind, lvl = "Type", lvl[1]  # type: ignore[assignment]
            lv = show_level(lvl)
            if lv == "0":
                return "Prop" if kind == "Sort" else "Type"
            return f"{kind} ({lv})" if " " in lv or "+" in lv else f"{kind} {lv}"
        if tag == CONST:
            return x.name
        if tag == LIT:
            return str(x.value) if x.num == 0 else repr(x.value)
        if tag == APP:
            head, args = spine(x)
            if head.tag == CONST:
                if head.name == "OfNat.ofNat" and len(args) >= 2 and args[1].tag == LIT:
                    return str(args[1].value)
                shown = explicit(head, args)
                if head.name in INFIX and len(shown) == 2:
                    return f"{atom(shown[0], ctx)} {INFIX[head.name]} {atom(shown[1], ctx)}"
                if head.name in CASTS and len(shown) == 1:
                    return f"↑{atom(shown[0], ctx)}"
                if head.name == "Not" and len(shown) == 1:
                    return f"¬{atom(shown[0], ctx)}"
                if head.name == "Membership.mem" and len(shown) == 2:
                    return f"{atom(shown[1], ctx)} ∈ {atom(shown[0], ctx)}"
                args = shown
            return " ".join([atom(head, ctx), *(atom(a, ctx) for a in args)])
        if tag in (FORALL, LAM):
            parts: list[str] = []
            local = list(ctx)
            y = x
            while y.tag == tag:
                name = display_name(y.name)
                if tag == FORALL and name.endswith("✝") and not _uses_bvar(y.sub[1], 0):
                    break
                left, right = {1: ("{", "}"), 2: ("⦃", "⦄"), 3: ("[", "]")}.get(y.num, ("(", ")"))
                parts.append(f"{left}{name} : {go(y.sub[0], local)}{right}")
                local.append(name)
                y = y.sub[1]
            if not parts:  # an arrow
                return f"{atom(x.sub[0], ctx)} → {go(x.sub[1], [*ctx, '_'])}"
            body = go(y, local)
            return f"∀ {' '.join(parts)}, {body}" if tag == FORALL else f"fun {' '.join(parts)} => {body}"
        if tag == LET:
            name = display_name(x.name)
            return f"let {name} := {go(x.sub[1], ctx)}; {go(x.sub[2], [*ctx, name])}"
        if tag == PROJ:
            return f"{atom(x.sub[0], ctx)}.{x.num + 1}"
        return "?"

    try:
        return go(e, [])
    except RecursionError:   # a very deep term: printed shortened, never a reason to fail
        return "…"


__all__ = ["FUEL", "CoreConstants", "Expr", "Kernel", "Premise", "PremiseError", "Telescope", "core_constants",
           "display_name", "kernel_for", "level_closed", "level_is_zero", "premises", "render"]
