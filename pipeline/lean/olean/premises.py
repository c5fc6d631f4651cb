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

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.lean.olean import decode
from pipeline.lean.olean.decode import Kind, preorder
from pipeline.lean.olean.environment import ProjectEnvironment
from pipeline.lean.olean.kernel import Kernel, kernel_for
from pipeline.lean.olean.terms import Expr, Level, PremiseError, show_level, spine


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
            if t.tag != decode.FORALL:
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
        if t.tag != decode.FORALL:
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


def _combinator(kernel: Kernel, value: Expr) -> bool:
    """Whether a definition only passes its arguments on or matches on them: its body, under
    its ``fun``s, applies one of its parameters (``id``, ``inline``, ``outParam``,
    ``Function.comp``, ``flip``, ``letFun``) or a recursor (``Nat.casesOn``, ``Nat.rec`` after
    a ``match``). Unfolding one adds no logical content, so a premise cannot hide behind it;
    ``Not``, ``Ne``, ``Function.Injective`` (whose bodies are ``∀``s) stay what the conclusion
    says."""
    for _ in range(4):   # through auxiliary definitions (`dite` -> `Decidable.casesOn` -> `Decidable.rec`)
        while value.tag == decode.LAM:
            value = value.sub[1]
        head, _args = spine(value)
        if head.tag == decode.BVAR:
            return True
        info = kernel.info(head.name) if head.tag == decode.CONST else None
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
    if e.tag == decode.BVAR:
        return e.num == index
    if e.tag in (decode.LAM, decode.FORALL):
        return _uses_bvar(e.sub[0], index) or _uses_bvar(e.sub[1], index + 1)
    if e.tag == decode.LET:
        return any(_uses_bvar(s, index) for s in e.sub[:2]) or _uses_bvar(e.sub[2], index + 1)
    return any(_uses_bvar(s, index) for s in e.sub)


def _mentions_project(kernel: Kernel, e: Expr) -> bool:
    for x in preorder([e], lambda x: x.sub, key=id):
        if x.tag == decode.CONST:
            info = kernel.info(x.name)
            if info is not None and info.project:
                return True
    return False


# -- printing ----------------------------------------------------------------------------------
INFIX: dict[str, str] = {
    "Eq": "=", "Ne": "≠", "LT.lt": "<", "LE.le": "≤", "GT.gt": ">", "GE.ge": "≥", "And": "∧",
    "Or": "∨", "Iff": "↔", "HAdd.hAdd": "+", "HSub.hSub": "-", "HMul.hMul": "*", "HDiv.hDiv": "/",
    "HMod.hMod": "%", "HPow.hPow": "^", "HAppend.hAppend": "++", "Dvd.dvd": "∣",
}
"""Binary notation: the constant -> its symbol (shown when it has two explicit arguments)."""
CASTS = frozenset({"Nat.cast", "Int.cast", "NatCast.natCast", "IntCast.intCast", "Rat.cast"})


def _notation(name: str, explicit: int) -> str | None:
    """The notation of a constant applied to ``explicit`` explicit arguments (a format string
    over them), or ``None``."""
    if name in INFIX and explicit == 2:
        return "{0} " + INFIX[name] + " {1}"
    if name in CASTS and explicit == 1:
        return "↑{0}"
    if name == "Not" and explicit == 1:
        return "¬{0}"
    if name == "Membership.mem" and explicit == 2:
        return "{1} ∈ {0}"
    return None


def _explicit(kernel: Kernel, head: Expr, args: list[Expr]) -> list[Expr]:
    """The arguments of ``head`` that its type binds explicitly (all when it is unknown)."""
    info = kernel.info(head.name) if head.tag == decode.CONST else None
    if info is None:
        return args
    t, out = info.type, []
    for a in args:
        if t.tag == decode.FORALL:
            if t.num == 0:
                out.append(a)
            t = t.sub[1]
        else:
            out.append(a)
    return out


def _sort(lvl: Level) -> str:
    kind = "Sort"
    if lvl[0] == "succ":
        kind, lvl = "Type", lvl[1]  # type: ignore[assignment]
    lv = show_level(lvl)
    if lv == "0":
        return "Prop" if kind == "Sort" else "Type"
    return f"{kind} ({lv})" if " " in lv or "+" in lv else f"{kind} {lv}"


def render(kernel: Kernel, e: Expr) -> str:
    """A term as a reader writes it: implicit and instance arguments hidden, numerals and the
    usual infix notation; bound variables by their names."""

    def atom(x: Expr, ctx: list[str]) -> str:
        text = go(x, ctx)
        compound = x.tag in (decode.FORALL, decode.LAM, decode.LET) or (x.tag == decode.APP and " " in text)
        return f"({text})" if compound else text

    def go(x: Expr, ctx: list[str]) -> str:
        tag = x.tag
        if tag == decode.BVAR:
            return ctx[-1 - x.num] if x.num < len(ctx) else f"#{x.num}"
        if tag in (decode.FVAR, decode.CONST):
            return x.name
        if tag == decode.SORT:
            return _sort(x.levels[0])
        if tag == decode.LIT:
            return str(x.value) if x.num == 0 else repr(x.value)
        if tag == decode.APP:
            head, args = spine(x)
            if head.tag == decode.CONST:
                if head.name == "OfNat.ofNat" and len(args) >= 2 and args[1].tag == decode.LIT:
                    return str(args[1].value)
                args = _explicit(kernel, head, args)
                notation = _notation(head.name, len(args))
                if notation is not None:
                    return notation.format(*(atom(a, ctx) for a in args))
            return " ".join([atom(head, ctx), *(atom(a, ctx) for a in args)])
        if tag in (decode.FORALL, decode.LAM):
            parts: list[str] = []
            local = list(ctx)
            y = x
            while y.tag == tag:
                name = display_name(y.name)
                if tag == decode.FORALL and name.endswith("✝") and not _uses_bvar(y.sub[1], 0):
                    break
                left, right = decode.BRACKETS.get(y.num, ("(", ")"))
                parts.append(f"{left}{name} : {go(y.sub[0], local)}{right}")
                local.append(name)
                y = y.sub[1]
            if not parts:  # an arrow
                return f"{atom(x.sub[0], ctx)} → {go(x.sub[1], [*ctx, '_'])}"
            body = go(y, local)
            return f"∀ {' '.join(parts)}, {body}" if tag == decode.FORALL else f"fun {' '.join(parts)} => {body}"
        if tag == decode.LET:
            name = display_name(x.name)
            return f"let {name} := {go(x.sub[1], ctx)}; {go(x.sub[2], [*ctx, name])}"
        if tag == decode.PROJ:
            return f"{atom(x.sub[0], ctx)}.{x.num + 1}"
        return "?"

    try:
        return go(e, [])
    except RecursionError:   # a very deep term: printed shortened, never a reason to fail
        return "…"


__all__ = ["Premise", "PremiseError", "Telescope", "display_name", "premises", "render"]
