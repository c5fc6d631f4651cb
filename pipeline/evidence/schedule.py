"""Deciding a step-size schedule symbolically (Robbins–Monro conditions) with sympy.

The formula is read by a small whitelist parser built on :mod:`ast` — never ``eval`` and
never ``sympy.sympify`` — so a run config cannot execute code or request an astronomically
large number. Allowed: numbers, names (``t`` is the 1-based step; other names are taken
from the run config when numeric, otherwise treated as positive constants), ``+ - * / **``,
and the functions ``log``, ``exp``, ``sqrt``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any, Literal

import sympy as sp

from pipeline.models import Frozen

MAX_FORMULA_CHARS = 200
MAX_DEPTH = 24
MAX_EXPONENT = 64
_FUNCS = {"log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "ln": sp.log}
Decision = Literal["holds", "fails", "inconclusive"]


class ScheduleDecision(Frozen):
    outcome: Decision
    formula: str
    expression: str
    """The parsed (substituted) expression, as sympy prints it."""
    sum_diverges: bool | None = None
    """Σ ηₜ = ∞ ?"""
    sum_squares_converges: bool | None = None
    """Σ ηₜ² < ∞ ?"""
    decay_exponent: float | None = None
    """p with ηₜ ~ C·t^(−p), when sympy finds it."""
    rate_constant: str | None = None
    """lim t·ηₜ (the c in c/t), when finite and positive."""
    reason: str


class FormulaError(ValueError):
    """The formula is outside the accepted grammar."""


def parse_schedule(formula: str, constants: Mapping[str, Any]) -> tuple[sp.Expr, sp.Symbol]:
    """The sympy expression of ``formula`` in the positive integer symbol ``t``."""
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError("the schedule formula is empty")
    if len(formula) > MAX_FORMULA_CHARS:
        raise FormulaError(f"the schedule formula is longer than {MAX_FORMULA_CHARS} characters")
    try:
        tree = ast.parse(formula.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse {formula!r}: {exc.msg}") from exc
    t = sp.Symbol("t", positive=True, integer=True)
    return _convert(tree.body, t, constants, 0), t


def _number(value: float) -> sp.Expr:
    """Integers exactly; floats as the shortest rational that prints back the same (0.5 → 1/2),
    or as a 6-significant-digit float when that rational would be unwieldy."""
    if isinstance(value, int):
        if abs(value) > 10**12:
            raise FormulaError(f"number {value} is too large")
        return sp.Integer(value)
    if not abs(value) < 1e12:
        raise FormulaError(f"number {value} is not a finite value below 1e12")
    rational = sp.Rational(repr(value))
    if rational.q <= 10**4:
        return rational
    return sp.Float(float(f"{value:.6g}"), 6)


def _convert(node: ast.AST, t: sp.Symbol, constants: Mapping[str, Any], depth: int) -> sp.Expr:
    if depth > MAX_DEPTH:
        raise FormulaError("the schedule formula is nested too deeply")
    rec = lambda n: _convert(n, t, constants, depth + 1)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return _number(node.value)
    if isinstance(node, ast.Name):
        if node.id == "t":
            return t
        value = constants.get(node.id)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _number(value)
        if node.id in _FUNCS:
            raise FormulaError(f"{node.id} is a function, not a value")
        return sp.Symbol(node.id, positive=True)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = rec(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = rec(node.left), rec(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise FormulaError("division by zero in the schedule formula")
            return left / right
        if isinstance(node.op, ast.Pow):
            if right.is_number and abs(float(right)) > MAX_EXPONENT:
                raise FormulaError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return left**right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in _FUNCS and len(node.args) == 1 and not node.keywords:
        return _FUNCS[node.func.id](rec(node.args[0]))
    raise FormulaError(f"unsupported element in the schedule formula: {ast.dump(node)[:60]}")


def _convergent(term: sp.Expr, t: sp.Symbol) -> bool | None:
    try:
        result = sp.Sum(term, (t, 1, sp.oo)).is_convergent()
    except (NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    if result is sp.true or result is True:
        return True
    if result is sp.false or result is False:
        return False
    return None


def decide_schedule(formula: str, constants: Mapping[str, Any] | None = None) -> ScheduleDecision:
    """Robbins–Monro: Σηₜ = ∞ and Σηₜ² < ∞ (with ηₜ > 0), decided by sympy."""
    constants = constants or {}
    try:
        eta, t = parse_schedule(formula, constants)
    except FormulaError as exc:
        return ScheduleDecision(outcome="inconclusive", formula=str(formula)[:MAX_FORMULA_CHARS],
                                expression="", reason=str(exc))
    expr = str(eta)
    if not eta.has(t):
        sign = eta.is_positive
        return ScheduleDecision(
            outcome="fails" if sign else "inconclusive", formula=formula, expression=expr,
            sum_diverges=True if sign else None, sum_squares_converges=False if sign else None,
            decay_exponent=0.0,
            reason="constant step size: Σηₜ² = ∞ (Robbins–Monro needs Σηₜ² < ∞)" if sign
            else "the step size is a constant whose sign sympy cannot decide",
        )
    if eta.subs(t, 1).is_positive is False:
        return ScheduleDecision(outcome="fails", formula=formula, expression=expr,
                                reason="the step size is not positive at t = 1")
    coeff, shape = eta.as_independent(t, as_Add=False)
    if coeff.is_positive is not True:  # a symbolic or negative factor: keep it in the sum
        shape = eta
    diverges = _convergent(shape, t)
    squares = _convergent(shape**2, t)
    sum_diverges = None if diverges is None else not diverges
    exponent, rate = _asymptotics(eta, t)
    details = {"formula": formula, "expression": expr, "sum_diverges": sum_diverges,
               "sum_squares_converges": squares, "decay_exponent": exponent, "rate_constant": rate}
    if sum_diverges is None or squares is None:
        undecided = "Σηₜ" if sum_diverges is None else "Σηₜ²"
        return ScheduleDecision(outcome="inconclusive", **details,
                                reason=f"sympy cannot decide whether {undecided} converges")
    if sum_diverges and squares:
        rate_txt = f"; ηₜ ~ {rate}/t" if rate else ""
        return ScheduleDecision(outcome="holds", **details,
                                reason=f"Σηₜ = ∞ and Σηₜ² < ∞ for ηₜ = {expr}{rate_txt}")
    broken = [] if sum_diverges else ["Σηₜ < ∞ (steps too small to reach the optimum)"]
    broken += [] if squares else ["Σηₜ² = ∞ (noise is never averaged out)"]
    return ScheduleDecision(outcome="fails", **details,
                            reason=f"ηₜ = {expr}: " + " and ".join(broken))


def _asymptotics(eta: sp.Expr, t: sp.Symbol) -> tuple[float | None, str | None]:
    exponent: float | None = None
    rate: str | None = None
    try:
        p = sp.limit(-sp.log(eta) / sp.log(t), t, sp.oo)
        if p.is_real and p.is_finite:
            exponent = float(p)
        c = sp.limit(t * eta, t, sp.oo)
        if c.is_positive and c.is_finite:
            rate = f"{float(c):.6g}" if c.is_number else str(c)
    except (NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        pass
    return exponent, rate


__all__ = ["FormulaError", "ScheduleDecision", "decide_schedule", "parse_schedule"]
