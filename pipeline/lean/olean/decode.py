"""Lean's kernel data (``Name``, ``Level``, ``Expr``, ``ConstantInfo``, ``ModuleData``) decoded
from a :class:`~pipeline.lean.olean.region.Region`.

Constructor layouts follow Lean 4.28's ``Lean.Expr``, ``Lean.Level``, ``Lean.Declaration`` and
``Lean.Environment`` (a constructor's pointer fields first, then its scalars: the cached
``data : UInt64`` of every ``Expr``/``Level`` node, then ``BinderInfo``/``Bool`` bytes).

Expressions are not turned into Python trees: they stay addresses in the region, and the two
things the audit needs are computed by iterative walks memoised per address:

* :meth:`Decoder.constants_in` — every constant an expression mentions;
* :meth:`Decoder.digest` — a structural hash that two separately compiled environments agree on
  exactly when the expressions are equal up to binder names and metadata (Lean's ``Expr.eqv``
  modulo ``mdata``), with level parameters numbered by their position in the declaration.

Both are folds (:meth:`Decoder.fold`, the one bottom-up walk). The one top-down search is
:func:`preorder` (with :func:`search` and :meth:`Decoder.descend` on it): the structural scan,
the witness search, the closure of constants and the premises' walks use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pipeline.lean.olean.region import OleanFormatError, Region

T = TypeVar("T")
N = TypeVar("N")


class Kind(StrEnum):
    axiom = "axiom"
    definition = "definition"
    theorem = "theorem"
    opaque = "opaque"
    quot = "quot"
    inductive = "inductive"
    constructor = "constructor"
    recursor = "recursor"


KINDS: tuple[Kind, ...] = (Kind.axiom, Kind.definition, Kind.theorem, Kind.opaque, Kind.quot,
                           Kind.inductive, Kind.constructor, Kind.recursor)

# Expr constructor tags
BVAR, FVAR, MVAR, SORT, CONST, APP, LAM, FORALL, LET, LIT, MDATA, PROJ = range(12)
BRACKETS = {0: ("(", ")"), 1: ("{", "}"), 2: ("⦃", "⦄"), 3: ("[", "]")}
"""``BinderInfo`` -> the brackets of its binder."""


@dataclass(frozen=True, slots=True)
class Constant:
    """One ``ConstantInfo``: addresses of its expressions stay in the region."""

    name: str
    kind: Kind
    level_params: tuple[str, ...]
    type: int
    value: int | None
    """Definitions, theorems, opaques: the body."""
    is_unsafe: bool
    extra: tuple[int, ...] = ()
    """Recursors: the rules' right-hand sides."""
    names: tuple[str, ...] = ()
    """Inductives: constructors; constructors: their inductive; recursors: ``all``."""
    scalars: tuple[int, ...] = ()
    """Numbers that are part of the declaration (param/index counts, safety, quot kind)."""

    def exprs(self) -> Iterator[int]:
        """Its expressions: the type, the value (if any), the recursor rules."""
        yield self.type
        if self.value is not None:
            yield self.value
        yield from self.extra


@dataclass(frozen=True, slots=True)
class ModuleData:
    is_module: bool
    imports: tuple[str, ...]
    constants: tuple[Constant, ...]


def preorder(roots: Iterable[N], children: Callable[[N], Iterable[N]],
             key: Callable[[N], Hashable] | None = None, seen: set[Hashable] | None = None) -> Iterator[N]:
    """The one top-down search: depth-first from ``roots`` (the last pushed first), each node
    yielded before ``children(node)`` is asked for (after the caller's loop body has run, so
    the body may decide what ``children`` returns: fewer nodes prune the search). With ``key``,
    a node whose key is in ``seen`` (shared across calls when given) is not visited again;
    without, every pushed node is visited. Iterative, so deep terms cannot overflow the stack."""
    stack = list(roots)
    visited: set[Hashable] = set() if seen is None else seen
    while stack:
        node = stack.pop()
        if key is not None:
            k = key(node)
            if k in visited:
                continue
            visited.add(k)
        yield node
        stack.extend(children(node))


def search(roots: Iterable[N], visit: Callable[[N], Iterable[N]],
           key: Callable[[N], Hashable] | None = None, seen: set[Hashable] | None = None) -> None:
    """:func:`preorder` run for what ``visit`` does: ``visit(node)`` inspects the node and
    returns the nodes to go on into."""
    for _node in preorder(roots, visit, key, seen):
        pass


def itself(node: N) -> N:
    """The key of a node that is its own identity (an address, a name)."""
    return node


def _escape(component: str) -> str:
    if component and (component[0].isalpha() or component[0] == "_") and all(
            ch.isalnum() or ch in "_'!?" or ord(ch) > 127 for ch in component):
        return component
    return f"«{component}»"


class Decoder:
    """Decodes one region; every result is memoised by address."""

    def __init__(self, region: Region) -> None:
        self.region = region
        self._names: dict[int, str] = {1: ""}
        self._levels: dict[int, bytes] = {}
        self._consts: dict[int, frozenset[str]] = {}
        self._digests: dict[tuple[str, ...], dict[int, bytes]] = {}

    # -- names ----------------------------------------------------------------------------
    def name(self, ptr: int) -> str:
        cached = self._names.get(ptr)
        if cached is not None:
            return cached
        chain: list[int] = []
        p = ptr
        while p not in self._names:
            if p & 1:
                raise OleanFormatError(f"{self.region.parts[0].path}: bad name pointer {p:#x}")
            chain.append(p)
            p = self.region.ctor(p)[1][0]
        for node in reversed(chain):
            tag, fields, _ = self.region.ctor(node)
            if tag == 1:
                part = _escape(self.region.string(fields[1]))
            elif tag == 2:
                part = str(self.region.nat(fields[1]))
            else:
                raise OleanFormatError(f"{self.region.parts[0].path}: bad name constructor {tag} at {node:#x}")
            prefix = self._names[fields[0]]
            self._names[node] = f"{prefix}.{part}" if prefix else part
        return self._names[ptr]

    def names(self, list_ptr: int) -> tuple[str, ...]:
        return tuple(self.name(p) for p in self.items(list_ptr))

    def items(self, ptr: int) -> Iterator[int]:
        """Elements of a ``List``: ``nil`` is the scalar 0, ``cons`` has tag 1."""
        seen = 0
        while not ptr & 1:
            tag, fields, _ = self.region.ctor(ptr)
            if tag != 1 or len(fields) != 2:
                raise OleanFormatError(f"{self.region.parts[0].path}: bad list cell at {ptr:#x}")
            yield fields[0]
            ptr = fields[1]
            seen += 1
            if seen > 10_000_000:
                raise OleanFormatError(f"{self.region.parts[0].path}: list does not end")

    # -- levels ---------------------------------------------------------------------------
    def level(self, ptr: int, params: tuple[str, ...]) -> bytes:
        """A canonical encoding of a universe level (parameters by position)."""
        key = ptr
        if not params:
            cached = self._levels.get(key)
            if cached is not None:
                return cached
        if ptr & 1:
            out = b"0"
        else:
            tag, fields, _ = self.region.ctor(ptr)
            if tag == 0:
                out = b"0"
            elif tag == 1:
                out = b"S" + self.level(fields[0], params)
            elif tag in (2, 3):
                out = (b"M(" if tag == 2 else b"I(") + self.level(fields[0], params) + b"," + \
                    self.level(fields[1], params) + b")"
            elif tag == 4:
                pname = self.name(fields[0])
                out = b"P" + (str(params.index(pname)).encode() if pname in params else b"?" + pname.encode())
            elif tag == 5:
                out = b"?mvar"
            else:
                raise OleanFormatError(f"{self.region.parts[0].path}: bad level constructor {tag}")
        if not params:
            self._levels[key] = out
        return out

    # -- expressions ----------------------------------------------------------------------
    def expr_children(self, ptr: int) -> tuple[int, tuple[int, ...], tuple[int, ...], int]:
        """(tag, sub-expressions, other pointer fields, scalar address) of an Expr node."""
        tag, fields, scalars = self.region.ctor(ptr)
        if tag == APP:
            return tag, fields, (), scalars
        if tag in (LAM, FORALL):
            return tag, fields[1:3], fields[:1], scalars
        if tag == LET:
            return tag, fields[1:4], fields[:1], scalars
        if tag == MDATA:
            return tag, fields[1:2], fields[:1], scalars
        if tag == PROJ:
            return tag, fields[2:3], fields[:2], scalars
        if tag > PROJ:
            raise OleanFormatError(f"{self.region.parts[0].path}: bad expression constructor {tag} at {ptr:#x}")
        return tag, (), fields, scalars

    def fold(self, root: int, memo: dict[int, T],
             node: Callable[[int, int, tuple[int, ...], tuple[int, ...], int], T]) -> T:
        """The one bottom-up walk of an expression DAG: from ``root``, ``node(ptr, tag, subs,
        others, scalars)`` once per address not in ``memo`` (the values of its ``subs`` are in
        ``memo`` by then), its value stored in ``memo``; iterative, so deep terms cannot
        overflow the stack."""
        if root in memo:
            return memo[root]
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            ptr, expanded = stack.pop()
            if ptr in memo:
                continue
            tag, subs, others, scalars = self.expr_children(ptr)
            if subs and not expanded:
                stack.append((ptr, True))
                stack.extend((s, False) for s in subs if s not in memo)
                continue
            memo[ptr] = node(ptr, tag, subs, others, scalars)
        return memo[root]

    def descend(self, roots: Iterable[int], visit: Callable[[int, int, tuple[int, ...], tuple[int, ...], int],
                                                            Iterable[int]],
                seen: set[Hashable] | None = None) -> None:
        """The top-down walk of an expression DAG (:func:`search` over addresses, each once per
        ``seen``): ``visit(ptr, tag, subs, others, scalars)`` returns the addresses to go on
        into (``subs`` for the whole term, fewer to prune)."""
        search(roots, lambda ptr: visit(ptr, *self.expr_children(ptr)), key=itself, seen=seen)

    def constants_in(self, root: int) -> frozenset[str]:
        """Every constant the expression at ``root`` mentions (``Expr.getUsedConstants``)."""
        memo = self._consts

        def node(_ptr: int, tag: int, subs: tuple[int, ...], others: tuple[int, ...], _scalars: int
                 ) -> frozenset[str]:
            if tag == CONST:
                return frozenset((self.name(others[0]),))
            # a projection unfolds through its structure's constructor: record the structure
            own = {self.name(others[0])} if tag == PROJ else set()
            for s in subs:
                own |= memo[s]
            return frozenset(own)

        return self.fold(root, memo, node)

    def digest(self, root: int, params: tuple[str, ...] = ()) -> bytes:
        """A structural hash of the expression (binder names and ``mdata`` ignored)."""
        memo = self._digests.setdefault(params, {})

        def node(_ptr: int, tag: int, subs: tuple[int, ...], others: tuple[int, ...], scalars: int) -> bytes:
            if tag == MDATA:
                return memo[subs[0]]
            h = hashlib.blake2b(digest_size=20)
            h.update(bytes((tag,)))
            if tag == BVAR:
                h.update(str(self.region.nat(others[0])).encode())
            elif tag in (FVAR, MVAR):
                h.update(self.name(others[0]).encode())
            elif tag == SORT:
                h.update(self.level(others[0], params))
            elif tag == CONST:
                h.update(self.name(others[0]).encode())
                for lvl in self.items(others[1]):
                    h.update(b"|" + self.level(lvl, params))
            elif tag in (LAM, FORALL, LET):
                # after the cached Expr.Data (UInt64): BinderInfo, or letE's nonDep flag
                h.update(bytes((self.region.u8(scalars + 8),)))
            elif tag == LIT:
                lt, lf, _ = self.region.ctor(others[0])
                h.update(b"n" + str(self.region.nat(lf[0])).encode() if lt == 0
                         else b"s" + self.region.string(lf[0]).encode())
            elif tag == PROJ:
                h.update(self.name(others[0]).encode() + b"#" + str(self.region.nat(others[1])).encode())
            for s in subs:
                h.update(memo[s])
            return h.digest()

        return self.fold(root, memo, node)

    def app_spine(self, ptr: int) -> tuple[int, list[int]]:
        """(head, arguments) of ``f a₁ … aₙ``, looking through ``mdata``."""
        args: list[int] = []
        while True:
            tag, subs, _, _ = self.expr_children(ptr)
            if tag == APP:
                args.append(subs[1])
                ptr = subs[0]
            elif tag == MDATA:
                ptr = subs[0]
            else:
                break
        args.reverse()
        return ptr, args

    def const_name(self, ptr: int) -> str | None:
        tag, _, others, _ = self.expr_children(ptr)
        return self.name(others[0]) if tag == CONST else None

    def loose_bvars(self, root: int) -> bool:
        """Whether the expression has a loose bound variable (from Lean's cached ``Expr.Data``:
        bits 44-63 hold ``looseBVarRange``)."""
        _, _, _, scalars = self.expr_children(root)
        return (self.region.u64(scalars) >> 44) > 0

    def has_fvar_or_mvar(self, root: int) -> bool:
        """From ``Expr.Data``: bit 40 hasFVar, bit 41 hasExprMVar, bit 42 hasLevelMVar."""
        _, _, _, scalars = self.expr_children(root)
        return bool((self.region.u64(scalars) >> 40) & 0b111)

    def binders(self, root: int) -> list[tuple[str, int, int]]:
        """The leading ∀-binders of a type: (name, binder type address, binder info)."""
        out: list[tuple[str, int, int]] = []
        ptr = root
        while True:
            tag, subs, others, scalars = self.expr_children(ptr)
            if tag == MDATA:
                ptr = subs[0]
                continue
            if tag != FORALL:
                return out
            out.append((self.name(others[0]), subs[0], self.region.u8(scalars + 8)))
            ptr = subs[1]

    # -- rendering ------------------------------------------------------------------------
    def render_level(self, ptr: int) -> str:
        """A universe level as ``pp.all`` prints it."""
        if ptr & 1:
            return "0"
        tag, fields, _ = self.region.ctor(ptr)
        if tag == 0:
            return "0"
        if tag == 1:
            depth, inner = 1, fields[0]
            while not inner & 1 and self.region.ctor(inner)[0] == 1:
                depth, inner = depth + 1, self.region.ctor(inner)[1][0]
            base = self.render_level(inner)
            return str(depth) if base == "0" else f"{base}+{depth}"
        if tag in (2, 3):
            return f"{'max' if tag == 2 else 'imax'} {self.render_level(fields[0])} {self.render_level(fields[1])}"
        return self.name(fields[0]) if tag == 4 else "?u"

    def render(self, root: int, has_implicit: Callable[[str], bool] = lambda _n: False) -> str:
        """The expression in the notation of Lean's ``set_option pp.all true`` (white space
        aside): ``@`` before a constant with implicit arguments, universe levels, raw literals
        as ``nat_lit``. ``has_implicit`` tells which constants take implicit arguments."""
        level = self.render_level

        def atom(text: str, ptr: int) -> str:
            tag = self.expr_children(ptr)[0]
            return f"({text})" if tag in (APP, LAM, FORALL, LET, PROJ) or text.startswith("nat_lit") else text


        def go(ptr: int, ctx: list[str]) -> str:
            tag, subs, others, _ = self.expr_children(ptr)
            if tag == BVAR:
                i = self.region.nat(others[0])
                return ctx[-1 - i] if i < len(ctx) else f"#{i}"
            if tag == SORT:
                lv = level(others[0])
                return "Prop" if lv == "0" else "Type" if lv == "1" else f"Sort {lv}"
            if tag == CONST:
                levels = [level(lvl) for lvl in self.items(others[1])]
                name = self.name(others[0])
                text = name + (".{" + ", ".join(levels) + "}" if levels else "")
                return ("@" + text) if has_implicit(name) else text
            if tag == APP:
                head, args = self.app_spine(ptr)
                return " ".join([atom(go(head, ctx), head), *(atom(go(a, ctx), a) for a in args)])
            if tag in (FORALL, LAM):
                parts: list[str] = []
                local = list(ctx)
                while True:
                    t, sub, oth, sc = self.expr_children(ptr)
                    if t != tag:
                        break
                    name = self.name(oth[0])
                    left, right = BRACKETS.get(self.region.u8(sc + 8), ("(", ")"))
                    parts.append(f"{left}{name} : {go(sub[0], local)}{right}")
                    local.append(name)
                    ptr = sub[1]
                body = go(ptr, local)
                return (f"∀ {' '.join(parts)}, {body}" if tag == FORALL
                        else f"fun {' '.join(parts)} => {body}")
            if tag == LET:
                name = self.name(others[0])
                return f"let {name} : {go(subs[0], ctx)} := {go(subs[1], ctx)}; {go(subs[2], [*ctx, name])}"
            if tag == LIT:
                lt, lf, _ = self.region.ctor(others[0])
                return f"nat_lit {self.region.nat(lf[0])}" if lt == 0 else json.dumps(self.region.string(lf[0]))
            if tag == MDATA:
                return go(subs[0], ctx)
            if tag == PROJ:
                return f"{atom(go(subs[0], ctx), subs[0])}.{self.region.nat(others[1]) + 1}"
            return "?m"

        return go(root, [])

    def has_implicit_binders(self, const: Constant) -> bool:
        """Whether the declaration's type starts with an implicit or instance binder."""
        return any(info != 0 for _n, _t, info in self.binders(const.type))

    # -- declarations ---------------------------------------------------------------------
    def constant(self, ptr: int) -> Constant:
        tag, fields, _ = self.region.ctor(ptr)
        if tag >= len(KINDS) or len(fields) != 1:
            raise OleanFormatError(f"{self.region.parts[0].path}: bad ConstantInfo at {ptr:#x}")
        kind = KINDS[tag]
        _vt, vf, vsc = self.region.ctor(fields[0])
        _ct, cv, _ = self.region.ctor(vf[0])
        if len(cv) != 3:
            raise OleanFormatError(f"{self.region.parts[0].path}: bad ConstantVal at {vf[0]:#x}")
        name = self.name(cv[0])
        params = self.names(cv[1])
        type_ = cv[2]
        value: int | None = None
        unsafe = False
        extra: tuple[int, ...] = ()
        names: tuple[str, ...] = ()
        scalars: tuple[int, ...] = ()
        r = self.region
        if kind is Kind.axiom:
            unsafe = bool(r.u8(vsc))
        elif kind is Kind.definition:   # cv, value, hints, all | safety
            value = vf[1]
            safety = r.u8(vsc)
            unsafe = safety == 0
            scalars = (safety,)
            names = self.names(vf[3])
        elif kind is Kind.theorem:      # cv, value, all
            value = vf[1]
            names = self.names(vf[2])
        elif kind is Kind.opaque:       # cv, value, all | isUnsafe
            value = vf[1]
            unsafe = bool(r.u8(vsc))
            names = self.names(vf[2])
        elif kind is Kind.quot:         # cv | kind
            scalars = (r.u8(vsc),)
        elif kind is Kind.inductive:    # cv, numParams, numIndices, all, ctors, numNested | isRec, isUnsafe, isReflexive
            names = self.names(vf[4])
            scalars = (r.nat(vf[1]), r.nat(vf[2]), r.nat(vf[5]), r.u8(vsc), r.u8(vsc + 2))
            unsafe = bool(r.u8(vsc + 1))
        elif kind is Kind.constructor:  # cv, induct, cidx, numParams, numFields | isUnsafe
            names = (self.name(vf[1]),)
            scalars = (r.nat(vf[2]), r.nat(vf[3]), r.nat(vf[4]))
            unsafe = bool(r.u8(vsc))
        elif kind is Kind.recursor:     # cv, all, numParams, numIndices, numMotives, numMinors, rules | k, isUnsafe
            names = self.names(vf[1])
            rules = []
            for rule in self.items(vf[6]):
                _rt, rf, _ = r.ctor(rule)   # ctor, nfields, rhs
                rules.append(rf[2])
            extra = tuple(rules)
            scalars = (r.nat(vf[2]), r.nat(vf[3]), r.nat(vf[4]), r.nat(vf[5]), r.u8(vsc))
            unsafe = bool(r.u8(vsc + 1))
        return Constant(name, kind, params, type_, value, unsafe, extra, names, scalars)

    def module_data(self, part: int = -1) -> ModuleData:
        _tag, fields, scalars = self.region.ctor(self.region.root(part))
        if len(fields) != 5:
            raise OleanFormatError(f"{self.region.parts[0].path}: the root is not a ModuleData")
        imports = []
        for imp in self.region.array(fields[0]):
            _it, ifields, _ = self.region.ctor(imp)
            imports.append(self.name(ifields[0]))
        constants = tuple(self.constant(c) for c in self.region.array(fields[2]))
        return ModuleData(bool(self.region.u8(scalars)), tuple(imports), constants)

    def referenced(self, const: Constant) -> frozenset[str]:
        """Every constant a declaration mentions: its type, its value, recursor rules."""
        acc: set[str] = set()
        for ptr in const.exprs():
            acc |= self.constants_in(ptr)
        return frozenset(acc)


__all__ = ["KINDS", "Constant", "Decoder", "Kind", "ModuleData", "itself", "preorder", "search"]
