"""The report's own chart: each hypothesis statistic per run with its confidence interval and
threshold, so thin evidence is visible at a glance. Rendered to PNG bytes with the Agg
canvas (no pyplot global state, safe in a server thread)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from pipeline.report.models import RunEvidence

COLOURS = {"holds": "#1a7f37", "fails": "#cf222e", "inconclusive": "#8c959f",
           "error": "#8250df"}


def has_intervals(runs: Sequence[RunEvidence]) -> bool:
    """Whether any verdict has a value to draw."""
    return any(row.verdict.value is not None for r in runs for row in r.rows)


def interval_chart(runs: Sequence[RunEvidence], *, title: str = "",
                   labels: Mapping[str, str] | None = None) -> bytes:
    """One panel per hypothesis: its statistic on each run (named by ``labels``, default the
    run id), confidence interval as a bar, threshold as a tick."""
    labels = labels or {}
    panels: dict[str, list[tuple[str, float, float | None, float | None, float | None, str]]] = {}
    statistic: dict[str, str] = {}
    for r in runs:
        for row in r.rows:
            v = row.verdict
            if v.value is None:
                continue
            lo = v.ci.low if v.ci else None
            hi = v.ci.high if v.ci else None
            panels.setdefault(v.binder, []).append(
                (labels.get(r.run_id, r.run_id), v.value, lo, hi, v.threshold, v.outcome)
            )
            statistic[v.binder] = v.statistic
    if not panels:
        raise ValueError("no verdict has a value to draw")
    heights = [0.6 + 0.35 * len(items) for items in panels.values()]
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported on use (~0.5 s)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, sum(heights) + 0.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (binder, items) in zip(axes, panels.items()):
        for y, (_run, value, lo, hi, threshold, outcome) in enumerate(items):
            colour = COLOURS.get(outcome, "#57606a")
            if lo is not None and hi is not None:
                ax.hlines(y, lo, hi, colors=colour, linewidth=3, alpha=0.6)
            ax.plot([value], [y], "o", color=colour, markersize=6)
            if threshold is not None:
                ax.plot([threshold], [y], "|", color="#24292f", markersize=16, markeredgewidth=2)
        ax.set_yticks(range(len(items)), [i[0] for i in items], fontsize=8)
        ax.set_ylim(-0.7, len(items) - 0.3)
        ax.invert_yaxis()
        ax.set_title(f"{binder}: {statistic[binder]}", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


__all__ = ["COLOURS", "has_intervals", "interval_chart"]
