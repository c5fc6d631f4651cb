"""Kernel terms as small Python trees, read from the compiled environment.

:class:`Expr` is one ``Lean.Expr`` node (tags of :mod:`~pipeline.lean.olean.decode`), with its
loose bound-variable range computed on construction (:func:`mk`); :class:`Reader` turns region
addresses into such trees (memoised per decoder); :class:`CoreConstants` holds the core
library's constants, read from the installed library. The reduction and inference engine on
these terms is :mod:`pipeline.lean.olean.kernel`; what it is used for,
:mod:`pipeline.lean.olean.premises`. Every computation is bounded (:data:`FUEL`) and fails
closed (:class:`PremiseError`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SetupError
from pipeline.lean.olean import decode
from pipeline.lean.olean.decode import Constant, Decoder
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


def mk(tag: int, *, name: str = "", sub: tuple[Expr, ...] = (), levels: tuple[Level, ...] = (),
        num: int = 0, value: int | str = 0) -> Expr:
    if tag == decode.BVAR:
        loose = num + 1
    elif tag in (decode.LAM, decode.FORALL):
        loose = max(sub[0].loose, sub[1].loose - 1)
    elif tag == decode.LET:
        loose = max(sub[0].loose, sub[1].loose, sub[2].loose - 1)
    else:
        loose = max((s.loose for s in sub), default=0)
    return Expr(tag, name, sub, levels, num, value, loose)


def app(f: Expr, *args: Expr) -> Expr:
    for a in args:
        f = mk(decode.APP, sub=(f, a))
    return f


def spine(e: Expr) -> tuple[Expr, list[Expr]]:
    args: list[Expr] = []
    while e.tag == decode.APP:
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
class Reader:
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
            if tag == decode.MDATA:
                return kids[0]
            if tag == decode.BVAR:
                return mk(decode.BVAR, num=d.region.nat(others[0]))
            if tag in (decode.FVAR, decode.MVAR):
                raise PremiseError(f"the compiled term holds a {'free' if tag == decode.FVAR else 'meta'}variable")
            if tag == decode.SORT:
                return mk(decode.SORT, levels=(self.level(others[0]),))
            if tag == decode.CONST:
                return mk(decode.CONST, name=d.name(others[0]), levels=tuple(self.level(p) for p in d.items(others[1])))
            if tag == decode.APP:
                return mk(decode.APP, sub=kids)
            if tag in (decode.LAM, decode.FORALL, decode.LET):
                return mk(tag, name=d.name(others[0]), sub=kids, num=d.region.u8(scalars + 8) if tag != decode.LET else 0)
            if tag == decode.LIT:
                lt, lf, _ = d.region.ctor(others[0])
                return (mk(decode.LIT, num=0, value=d.region.nat(lf[0])) if lt == 0
                        else mk(decode.LIT, num=1, value=d.region.string(lf[0])))
            if tag == decode.PROJ:
                return mk(decode.PROJ, name=d.name(others[0]), num=d.region.nat(others[1]), sub=kids)
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
        self.constants: dict[str, tuple[Reader, Constant]] = {}
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
                reader = Reader(decoder)
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


__all__ = ["FUEL", "VALUE_FUEL", "ZERO", "CoreConstants", "Expr", "Level", "PremiseError", "Reader", "app",
           "core_constants", "level_closed", "level_is_zero", "level_subst", "mk", "show_level", "spine"]
