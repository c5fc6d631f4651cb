"""Rendering a check's :class:`PlotData` to a PNG (matplotlib, Agg, no pyplot state)."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import EvidenceError
from pipeline.evidence.models import PlotData


def render(plot: PlotData, path: Path, *, subtitle: str = "") -> Path:
    """Draw ``plot`` into ``path`` (PNG); returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported on use (~0.5 s)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for s in plot.series:
        if s.style == "scatter":
            ax.scatter(s.x, s.y, s=6, alpha=0.6, label=s.label)
        elif s.style == "step":
            ax.step(s.x, s.y, where="mid", label=s.label)
        elif s.style == "hist":
            ax.hist(s.y, bins=40, alpha=0.6, label=s.label)
        else:
            ax.plot(s.x, s.y, label=s.label)
    for label, y in plot.hlines:
        ax.axhline(y, color="crimson", linestyle="--", linewidth=1, label=label)
    positive = lambda axis: all(v > 0 for s in plot.series for v in getattr(s, axis))
    if plot.logx and positive("x"):
        ax.set_xscale("log")
    if plot.logy and positive("y"):
        ax.set_yscale("log")
    ax.set_xlabel(plot.xlabel)
    ax.set_ylabel(plot.ylabel)
    ax.set_title(plot.title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    if plot.series or plot.hlines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    except OSError as exc:
        raise EvidenceError(f"cannot write plot {path}: {exc.strerror or exc}") from exc
    return path


__all__ = ["render"]
