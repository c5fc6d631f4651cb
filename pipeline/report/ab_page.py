"""The report's A/B page: every A/B run's comparison (per-variant table, paired effects with
intervals, per-task outcome matrix) and one chart per run, rendered with the Agg canvas."""

from __future__ import annotations

from pipeline.ab import store
from pipeline.ab.compare import Comparison, compare
from pipeline.report import paths
from pipeline.store.db import Database

AB_PAGE = "ab.html"


def ab_plot(run_id: str) -> str:
    return f"ab/{paths.slug(run_id)}.png"


def comparisons(db: Database) -> tuple[Comparison, ...]:
    """The comparison of every A/B run in the database, oldest first."""
    return tuple(compare(info, store.trials(db, info.id)) for info in store.list_runs(db))


def ab_chart(result: Comparison) -> bytes:
    """Left: each variant's success rate; right: each pair's difference (B − A) with its
    exact 95 % interval, zero marked."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported on use
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 0.8 + 0.45 * max(len(result.variants), len(result.pairs), 1)),
                 dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    names = [v.name for v in result.variants]
    rates = [v.success_rate or 0.0 for v in result.variants]
    left.barh(range(len(names)), rates, color="#0969da")
    left.set_yticks(range(len(names)), names, fontsize=8)
    left.set_xlim(0, 1)
    left.invert_yaxis()
    left.set_title("success rate", fontsize=9, loc="left")
    for y, pair in enumerate(result.pairs):
        lo, hi = pair.test.difference_ci
        colour = "#1a7f37" if pair.significant else "#8c959f"
        right.hlines(y, lo, hi, colors=colour, linewidth=3, alpha=0.6)
        right.plot([pair.test.difference], [y], "o", color=colour)
    right.axvline(0, color="#24292f", linewidth=1)
    right.set_yticks(range(len(result.pairs)), [f"{p.b} − {p.a}" for p in result.pairs], fontsize=8)
    right.set_xlim(-1, 1)
    right.invert_yaxis()
    right.set_title("difference, exact 95 % interval", fontsize=9, loc="left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


__all__ = ["AB_PAGE", "ab_chart", "ab_plot", "comparisons"]
