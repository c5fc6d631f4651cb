"""The plain SGD update wₜ₊₁ = wₜ − ηₜgₜ (``h_update``), read from the tracker's probes."""

from __future__ import annotations

import numpy as np

from pipeline.evidence import stats
from pipeline.evidence.checks import Context, NotApplicable, Setting, hypothesis_check, need
from pipeline.evidence.models import CheckOutcome, ConfidenceInterval, FloatArray, Run

CLIP_BAND = 1e-5
"""Logged gradient norms within this relative distance of their maximum count as one cap."""


def _optimizer_names(run: Run) -> str:
    names = {note.split(": ", 1)[1].split(" (", 1)[0]
             for member in (run.members or (run,)) for note in member.provenance.notes
             if note.startswith("optimizer: ")}
    return ", ".join(sorted(names)) or "an optimiser other than torch.optim.SGD"


@hypothesis_check(
    module=__package__,
    statistic="largest ‖Δw + ηₜgₜ‖/‖ηₜgₜ‖ at the tracker's update probes (beyond rounding); "
              "the optimiser, momentum and weight decay the tracker saw; a cap on ‖gₜ‖",
    needs="the Tracker's update probes (samples update_probe_step, update_residual, "
          "update_rounding, update_plain_sgd, update_momentum, update_weight_decay)",
    settings={"update_tolerance": Setting(1e-6, 0.0, 0.5, "relative residual of the update "
                                          "beyond rounding accepted as −ηₜgₜ")},
    kind="proxy",
    not_covered="the update is compared with −ηₜgₜ at the probe steps only (every "
                "update_check_every steps); between probes the optimiser's class and settings "
                "are the evidence",
)
def plain_update(run: Run, ctx: Context) -> CheckOutcome:
    """h_update: the run is plain SGD, wₜ₊₁ = wₜ − ηₜgₜ with the gradient the tracker logged,
    so the expansion of eₜ₊₁ holds. Read from what the tracker saw, not from the config: the
    optimiser's class (Adam fails), momentum, weight decay, and the update itself against
    −ηₜgₜ (clipping after the hook, or any other rule, fails); a logged ‖gₜ‖ that sits at its
    maximum on several steps is clipping before the hook (fails)."""
    tol = ctx.setting("update_tolerance")
    if run.column("update_residual") is None:
        raise NotApplicable("the run has no update probes: log it with the Tracker "
                            "(update_check_every > 0); a config that says SGD is a declaration, "
                            "not a log of the update")
    residual = need(run, "update_residual", finite=False)
    probe_t = need(run, "update_probe_step")
    plain = need(run, "update_plain_sgd")
    momentum = need(run, "update_momentum")
    decay = need(run, "update_weight_decay")
    rounding = run.column("update_rounding")
    slack = np.nan_to_num(rounding, nan=0.0) if rounding is not None \
        and rounding.shape == residual.shape else np.zeros_like(residual)
    n = int(residual.shape[0])
    statistic = "max relative update residual beyond rounding"
    excess = np.where(np.isfinite(residual), residual - slack, 0.0)
    k = int(np.argmax(excess)) if n else 0
    value = max(float(excess[k]), 0.0) if n else 0.0
    ci = ConfidenceInterval(low=value, high=value, method="exact")
    common = {"statistic": statistic, "threshold": tol, "n": n, "ci": ci, "value": value,
              "details": {"probes": n, "worst_probe_step": int(probe_t[k]) if n else 0}}
    declared = run.config.get("optimizer")
    label = f" (the config declares {declared!r})" if declared is not None else ""
    why = _not_plain_sgd(run, probe_t, (plain, momentum, decay), label)
    if why is None and n and value > tol + stats.numeric_tolerance(tol):
        why = (f"at step {int(probe_t[k])} the update differs from −ηₜgₜ "
               f"by {float(residual[k]):.3g} of ‖ηₜgₜ‖ (rounding allows "
               f"{float(slack[k]):.2g}): the optimiser did not take the "
               "plain SGD step on the gradient the tracker logged "
               f"(clipping after the hook, or another rule){label}")
    if why is None:
        why = _clipped_before_hook(run)
    if why is not None:
        return CheckOutcome(outcome="fails", **common, reason=why)
    if n == 0 or not np.isfinite(residual).any():
        raise NotApplicable("no update probe saw a non-zero gradient")
    return CheckOutcome(
        outcome="holds", **common,
        reason=f"plain SGD at all {n} probes: torch.optim.SGD without momentum or weight "
               "decay, and the update equals −ηₜgₜ (largest residual "
               f"{float(np.nanmax(residual)):.2g} of ‖ηₜgₜ‖, rounding allows "
               f"{float(slack[k]):.2g}); steps between probes are not compared")


def _not_plain_sgd(run: Run, probe_t: FloatArray,
                   seen: tuple[FloatArray, FloatArray, FloatArray],
                   label: str) -> str | None:
    """Why the optimiser the tracker saw (``seen``: plain SGD 0/1, momentum, weight decay at
    each probe) is not plain SGD, or ``None``."""
    plain, momentum, decay = seen
    if (plain < 1).any():
        i = int(np.argmax(plain < 1))
        return (f"the tracker saw {_optimizer_names(run)} at step "
                f"{int(probe_t[i])}, not plain SGD{label}")
    if (momentum > 0).any():
        i = int(np.argmax(momentum))
        return (f"SGD with momentum {float(momentum[i]):g} (step "
                f"{int(probe_t[i])}): not the plain update{label}")
    if (decay > 0).any():
        i = int(np.argmax(decay))
        return (f"SGD with weight decay {float(decay[i]):g} (step "
                f"{int(probe_t[i])}): the update is not −ηₜgₜ{label}")
    return None


def _clipped_before_hook(run: Run) -> str | None:
    """Why a member's logged ‖gₜ‖ is clipped before the hook (it sits at its maximum on
    several steps), or ``None``."""
    for member in run.members or (run,):
        g = member.column("grad_norm")
        if g is None or g.shape[0] < 3 or not np.isfinite(g).any():
            continue
        top = float(np.nanmax(g))
        capped = int(np.sum(np.abs(g - top) <= CLIP_BAND * top))
        if top > 0 and capped >= 3:
            return (f"the logged ‖gₜ‖ sits at its maximum {top:.6g} on "
                    f"{capped} steps of run {member.id}: the gradient is "
                    "clipped before the hook, not the plain SGD gradient")
    return None


__all__ = ["CLIP_BAND", "plain_update"]
