"""Step sizes: ηₜ = 1/(λt) to rounding (``h_step_size``), the Robbins–Monro conditions, and
a declared ``lr_schedule`` against the logged lr."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import (
    Context,
    NotApplicable,
    Setting,
    hypothesis_check,
    need,
    series_plot,
)
from pipeline.evidence.models import (
    CheckOutcome,
    ConfidenceInterval,
    FloatArray,
    Outcome,
    PlotData,
    PlotSeries,
    Run,
)
from pipeline.evidence.schedule import decide_schedule

DECLARED_TOLERANCE = 0.01
"""Relative disagreement between a declared lr_schedule and the logged lr that fails the
Robbins–Monro check (``step_size_exact`` tests the log itself to rounding)."""
FLOAT32_ROUNDOFF = 2.0**-24
"""Unit roundoff of float32: a value rounded to float32 is within this relative error."""
LR_ROUNDING = 8 * FLOAT32_ROUNDOFF
"""How far |λtηₜ − 1| can be from 0 by rounding alone when ηₜ = 1/(λt) exactly (2⁻²¹ ≈
4.8·10⁻⁷), the default ``step_tolerance`` of ``step_size_exact``. The tracker logs the lr the
optimiser holds as a float64 written with ``repr`` (exact round trip), and the importers read
float64 (MLflow, W&B, CSV) or float32 (TensorBoard scalars, an lr held in a float32 tensor):
each logged ηₜ is within u = 2⁻²⁴ of the value used. The training code's own 1/(λ't) in
float32 adds at most two roundings, and λ = 1/(T·η_T) (bound ``exact``) carries one logged
value's error, so λtηₜ = (1 + δₜ)/(1 + δ_T) with |δ| ≤ 3u: |λtηₜ − 1| ≤ 6u + O(u²) < 8u. A
schedule off by 10⁻⁶ relative at one step fails it."""
DECLARED_PRECISION = 1e-5
"""A declared ``lr_schedule`` is read with its non-short constants at 6 significant digits
(:func:`pipeline.evidence.schedule.parse_schedule`), so it is compared with the log to this
relative precision; the log itself is what ``step_size_exact`` tests to rounding."""

@hypothesis_check(
    module=__package__,
    statistic="decay exponent p of ηₜ ~ C·t^(−p) (Robbins–Monro: 1/2 < p ≤ 1)",
    needs="config lr_schedule (a formula in t, decided by sympy) or a per-step lr column",
    settings={"decay_exponent_tolerance": Setting(0.02, 0.0, 0.5, "slack on p ≤ 1 for a "
                                                  "finite fit")},
)
def step_size_schedule(run: Run, ctx: Context) -> CheckOutcome:
    """Robbins–Monro step sizes: Σηₜ = ∞ and Σηₜ² < ∞."""
    formula = run.config.get("lr_schedule")
    logged = run.column("lr")
    if formula is not None and logged is not None and logged.shape[0] \
            and np.isfinite(logged).all():
        contradiction, _ = declared_against_logged(
            run, run.logged_t(logged.shape[0]), logged, DECLARED_TOLERANCE)
        if contradiction is not None:
            return CheckOutcome(outcome="fails", statistic="declared lr_schedule against "
                                "the logged lr", n=int(logged.shape[0]), reason=contradiction,
                                details={"declared": str(formula), "source": "logged lr"})
    if formula is not None:  # agrees with the log where logged: it decides the infinite sums
        return _symbolic(run, formula)
    lr = need(run, "lr", min_n=20)
    steps = run.column("step")
    t = (steps - steps[0] + 1.0) if steps is not None and np.isfinite(steps).all() \
        else np.arange(1.0, lr.shape[0] + 1.0)
    tail = t >= max(1.0, 0.1 * float(t[-1]))
    lt, ll = t[tail], lr[tail]
    if (ll <= 0).any():
        raise NotApplicable("the logged step size reaches 0 in the tail; a finite schedule "
                            "cannot show the infinite-horizon conditions")
    plot = series_plot(t, lr, label="logged lr", title="Step-size schedule", xlabel="step t",
                       ylabel="ηₜ", logx=True, logy=True)
    if stats.is_constant(ll):
        ci = ConfidenceInterval(low=0.0, high=0.0, method="exact")
        return CheckOutcome(outcome="fails", statistic="decay exponent p", value=0.0,
                            threshold=0.5, ci=ci, n=int(ll.shape[0]), plot=plot,
                            reason=f"constant step size {float(ll[0]):g}: Σηₜ² = ∞ "
                                   "(Robbins–Monro needs Σηₜ² < ∞)")
    idx = stats.geometric_indices(ll.shape[0], 2000)
    fit = stats.linear_fit(np.log(lt[idx]), np.log(ll[idx]))
    p = -fit.slope
    ci = stats.t_interval(p, float(fit.stderr), idx.shape[0] - 2)
    tol = ctx.setting("decay_exponent_tolerance")
    outcome, why = robbins_monro_exponent(ci, tol)
    return CheckOutcome(
        outcome=outcome, statistic="decay exponent p", value=p, threshold=0.5, ci=ci,
        n=int(idx.shape[0]), plot=plot,
        reason=f"{why} (fitted p = {p:.4g}, CI [{ci.low:.4g}, {ci.high:.4g}], "
               f"R² = {fit.r_squared:.3f})",
        details={"r_squared": fit.r_squared, "source": "logged lr"},
    )


def declared_against_logged(run: Run, ts: FloatArray, lr: FloatArray, tol: float
                            ) -> tuple[str | None, str]:
    """(why the config's ``lr_schedule`` contradicts the logged lr, or ``None``; a note) —
    the declaration evaluated at every logged t against the logged lr, relative tolerance
    ``tol``. The log is what the optimiser used: a declaration is only ever checked against
    it, never used in its place."""
    formula = run.config.get("lr_schedule")
    if formula is None:
        return None, ""
    if not isinstance(formula, str):
        return (f"the config's lr_schedule {formula!r} is not a formula; the logged lr is "
                "what counts"), ""
    import sympy as sp

    from pipeline.evidence.schedule import FormulaError, parse_schedule

    try:
        eta, t = parse_schedule(formula, run.config)
    except FormulaError as exc:
        return None, f"; the declared lr_schedule is not checked ({exc})"
    if eta.free_symbols - {t}:
        names = ", ".join(sorted(str(x) for x in eta.free_symbols - {t}))
        return None, f"; the declared lr_schedule has unknown constants {names}, not checked"
    with np.errstate(all="ignore"):
        declared = np.asarray(sp.lambdify(t, eta, "numpy")(ts), dtype=float) * np.ones_like(ts)
        rel = np.abs(lr - declared) / np.maximum(np.abs(declared), 1e-300)
    rel = np.where(np.isfinite(rel), rel, np.inf)
    k = int(np.argmax(rel))
    if rel[k] > tol + stats.numeric_tolerance(tol):
        return (f"the config declares lr_schedule = {formula!r}, ηₜ = {declared[k]:.4g} at "
                f"t = {int(ts[k])}, but the logged lr there is {lr[k]:.4g} "
                f"({float(rel[k]):.3g} relative; {int(np.sum(rel > tol))} of {ts.shape[0]} "
                "logged steps disagree): what was logged is what ran"), ""
    return None, f"; the declared lr_schedule {formula!r} agrees with the log"


@hypothesis_check(
    module=__package__,
    statistic="max over logged t of |λ·t·ηₜ − 1|",
    needs="a per-step lr column (the tracker logs it; a declared lr_schedule is checked "
          "against it, never used in its place); claim parameter lam",
    parameters=("lam",), version="4",
    settings={"step_tolerance": Setting(LR_ROUNDING, 0.0, 1.0, "largest relative deviation "
                                        "of ηₜ from 1/(λt) accepted; the default is the "
                                        "rounding of the logged floats (2⁻²¹), so the "
                                        "equality is tested as written; a larger one makes "
                                        "the verdict a proxy")},
)
def step_size_exact(run: Run, ctx: Context) -> CheckOutcome:
    """h_step_size as written, ηₜ = 1/(λt) with the claim's λ, at every logged t, read from
    the logged lr: |λtηₜ − 1| ≤ tol where tol defaults to what rounding of the logged floats
    alone can leave (:data:`LR_ROUNDING`): with λ fixed exactly by the log, the equality is
    an equality of logged numbers and is tested to rounding, not to a loosened tolerance. A
    claim that sets a larger ``step_tolerance`` gets a proxy verdict that says it certifies
    only |λtηₜ − 1| ≤ tol. In a run group every member's logged lr is tested against the one
    λ (not the group's mean lr). A config ``lr_schedule`` that contradicts the log fails it
    with the figure."""
    lam = ctx.param("lam")
    tol = ctx.setting("step_tolerance")
    if lam <= 0:
        raise NotApplicable(f"λ = {lam:g} must be positive for ηₜ = 1/(λt)")
    if run.column("lr") is None:
        declared = run.config.get("lr_schedule")
        raise NotApplicable("the run logs no lr column" + (
            f"; it declares lr_schedule = {declared!r}, but a declaration is not evidence of "
            "the steps taken (the Tracker logs the lr)" if declared is not None else ""))
    logs = _deviations(run, lam)
    worst_member = max(range(len(logs)), key=lambda i: float(logs[i][3].max()))
    member_id, ts, lr, devs = logs[worst_member]
    n_steps = sum(log[1].shape[0] for log in logs)
    where = f" of run {member_id}" if run.members else ""
    contradiction, note = declared_against_logged(run, ts, lr, max(tol, DECLARED_PRECISION))
    k = int(np.argmax(devs))
    worst = float(devs[k])
    ci = ConfidenceInterval(low=worst, high=worst, method="exact")
    plot = series_plot(ts, devs, label="deviation" + where, title="Step size against 1/(λt)",
                       xlabel="t", ylabel="|λtηₜ − 1|", logx=True, hlines=(("tolerance", tol),))
    cut = tol + stats.numeric_tolerance(tol)
    details: dict[str, float | int | str] = {
        "source": "logged lr", "worst_t": int(ts[k]), "runs": len(logs),
        "failing_steps": int(sum(np.sum(log[3] > cut) for log in logs))}
    if contradiction is not None:
        return CheckOutcome(
            outcome="fails", statistic="declared lr_schedule against the logged lr",
            value=worst, threshold=tol, ci=ci, n=n_steps, reason=contradiction,
            details=details | {"declared": str(run.config.get("lr_schedule"))}, plot=plot)
    outcome = stats.decide(ci, tol, "<=")
    exact = tol <= LR_ROUNDING
    within = "within float rounding" if exact else "within the claim's tolerance"
    runs = f" of {len(logs)} runs" if run.members else ""
    why = (f"ηₜ = 1/(λt) {within} (|λtηₜ − 1| ≤ {tol:.3g}) at all {n_steps} logged "
           f"steps{runs} (largest {worst:.3g} at t = {int(ts[k])}{where})"
           if outcome == "holds" else
           f"ηₜ is not 1/(λt) with λ = {lam:.6g}: |λtηₜ − 1| = {worst:.3g} > {tol:.3g} at "
           f"t = {int(ts[k])}{where} (logged lr {float(lr[k]):.8g}, 1/(λt) = "
           f"{1.0 / (lam * float(ts[k])):.8g}); {details['failing_steps']} of {n_steps} "
           f"logged steps{runs} are off")
    not_covered = None if exact else (
        f"step_tolerance {tol:.3g} is above the rounding of logged floats ({LR_ROUNDING:.2g}): "
        f"it certifies |λtηₜ − 1| ≤ {tol:.3g} at the logged steps, not ηₜ = 1/(λt) as "
        "h_step_size states")
    return CheckOutcome(
        outcome=outcome, statistic="max |λtηₜ − 1|", value=worst, threshold=tol, ci=ci,
        n=n_steps, reason=why + note, details=details, plot=plot,
        kind="direct" if exact else "proxy", not_covered=not_covered)


def robbins_monro_exponent(ci: ConfidenceInterval, tol: float) -> tuple[Outcome, str]:
    """Decide 1/2 < p ≤ 1 (+ ``tol``, a statistical slack for a finite fit) from an interval
    for the decay exponent p, with the numerical tolerance rule of :mod:`stats`: an exponent
    at 1/2 (Σ1/t diverges) fails, one at 1 (Σ1/t² converges) holds — whichever way the
    fit's last ulp fell."""
    above_half = stats.decide(ci, 0.5, ">")
    below_one = stats.decide(ci, 1.0 + tol, "<=")
    if above_half == "holds" and below_one == "holds":
        return "holds", "1/2 < p ≤ 1: Σηₜ = ∞ and Σηₜ² < ∞"
    if above_half == "fails":
        return "fails", "p ≤ 1/2: Σηₜ² = ∞"
    if below_one == "fails":
        return "fails", "p > 1: Σηₜ < ∞"
    return "inconclusive", "the interval for p crosses 1/2 or 1"


def _symbolic(run: Run, formula: object) -> CheckOutcome:
    if not isinstance(formula, str):
        raise NotApplicable(f"config lr_schedule must be a string formula, got {formula!r}")
    decision = decide_schedule(formula, run.config)
    plot = None
    if decision.expression:
        from pipeline.evidence.schedule import parse_schedule

        try:
            expr, t = parse_schedule(formula, run.config)
            free = expr.free_symbols - {t}
            if not free:
                import sympy as sp

                f = sp.lambdify(t, expr, "numpy")
                ts = np.unique(np.geomspace(1, 1e6, 200).astype(np.int64)).astype(float)
                ys = np.asarray(f(ts), dtype=float) * np.ones_like(ts)
                plot = PlotData(title=f"ηₜ = {decision.expression}", xlabel="t", ylabel="ηₜ",
                                logx=True, logy=bool((ys > 0).all()),
                                series=(PlotSeries(label="schedule", x=tuple(ts.tolist()),
                                                   y=tuple(ys.tolist())),))
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            plot = None
    return CheckOutcome(
        outcome=decision.outcome, statistic="Robbins–Monro conditions (sympy)",
        value=decision.decay_exponent, threshold=0.5, n=0, reason=decision.reason, plot=plot,
        details={"formula": decision.formula, "expression": decision.expression,
                 "sum_diverges": decision.sum_diverges,
                 "sum_squares_converges": decision.sum_squares_converges,
                 "rate_constant": decision.rate_constant, "source": "symbolic"},
    )


def _deviations(run: Run, lam: float) -> list[tuple[str, FloatArray, FloatArray, FloatArray]]:
    """Per member: (id, logged t, logged lr, |λtηₜ − 1|). Every member of a run group is
    tested (a group's pooled lr is the mean over seeds, which could hide two members off in
    opposite directions); one λ for all of them."""
    logs = []
    for member in run.members or (run,):
        if member.column("lr") is None:
            raise NotApplicable(f"member {member.id} of the group logs no lr column")
        m_lr = need(member, "lr", min_n=1)
        m_ts = member.logged_t(m_lr.shape[0])
        m_devs = np.abs(lam * m_ts * m_lr - 1.0)
        if not np.isfinite(m_devs).all():
            raise NotApplicable(f"λtηₜ is not finite at some logged step of run {member.id}")
        logs.append((member.id, m_ts, m_lr, m_devs))
    return logs


__all__ = ["DECLARED_PRECISION", "DECLARED_TOLERANCE", "FLOAT32_ROUNDOFF", "LR_ROUNDING",
           "declared_against_logged", "robbins_monro_exponent", "step_size_exact",
           "step_size_schedule"]
