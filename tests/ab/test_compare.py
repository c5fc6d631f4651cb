"""The comparison of stored trials (real SQLite), and the report's A/B page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.ab import store
from pipeline.ab.compare import compare
from pipeline.ab.models import Suite, Task, TrialRecord, Variant
from pipeline.report.ab_page import AB_PAGE, ab_plot, comparisons
from pipeline.report.models import ReportData
from pipeline.report.site import Site
from pipeline.store.db import Database

TASKS = tuple(Task(id=f"core:t{i}", kind="core", module="Init", declaration=f"t{i}",
                   statement="True", reference_proof="trivial") for i in range(12))


def _fill(db: Database, outcomes: dict[str, list[bool | None]]) -> str:
    variants = [Variant(name=n, recordings_dir="x") for n in outcomes]
    store.create_run(db, "run1", Suite(name="s", version="1", tasks=TASKS), variants, 1)
    for name, results in outcomes.items():
        for task, ok in zip(TASKS, results, strict=True):
            store.record_trial(db, TrialRecord(
                run_id="run1", task_id=task.id, variant=name, seed=0,
                verdict="error" if ok is None else "accepted" if ok else "exhausted",
                success=bool(ok), attempts=1 if ok else 0 if ok is None else 3,
                lean_s=1.0, wall_s=2.0 if name == "a" else 3.0, cost_usd=0.01,
                error="boom" if ok is None else None))
    return "run1"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'ab.db'}")


def test_three_variants_holm_errors_excluded_and_intervals(db: Database) -> None:
    run = _fill(db, {"a": [False] * 12, "b": [True] * 11 + [None], "c": [False] * 12})
    result = compare(store.get_run(db, run), store.trials(db, run))
    ab = next(p for p in result.pairs if (p.a, p.b) == ("a", "b"))
    assert ab.excluded_pairs == 1 and ab.test.n_pairs == 11 and ab.test.b_only == 11
    assert ab.test.p_value == pytest.approx(2 * 0.5 ** 11)
    assert ab.p_holm == pytest.approx(min(1.0, 3 * ab.test.p_value))  # smallest of three
    assert ab.significant and ab.significant_sequential  # e = 2^11/12 ≈ 171 ≥ 3/0.05
    ac = next(p for p in result.pairs if (p.a, p.b) == ("a", "c"))
    assert ac.test.p_value == 1.0 and not ac.significant
    assert ab.wall_s is not None and ab.wall_s.estimate == pytest.approx(1.0)
    summary = {v.name: v for v in result.variants}
    assert summary["b"].errors == 1 and summary["b"].success_rate == 1.0
    assert result.outcomes["core:t11"]["b"] == "!"


def test_a_changed_variant_is_refused_on_read(db: Database) -> None:
    from sqlalchemy import update

    from pipeline.ab.tables import ABRunRow
    from pipeline.errors import InputError

    run = _fill(db, {"a": [True] * 12, "b": [True] * 12})
    with db.session() as s:
        row = s.get(ABRunRow, run)
        assert row is not None
        forged = [dict(v) for v in row.variants]
        forged[0]["rounds"] = 9
        s.execute(update(ABRunRow).where(ABRunRow.id == run).values(variants=forged))
    with pytest.raises(InputError, match="digest"):
        store.get_run(db, run)


def test_the_report_has_an_ab_page_with_table_matrix_and_plot(db: Database) -> None:
    _fill(db, {"a": [True, False] * 6, "b": [True] * 12})
    data = ReportData(project="p", generated_at=datetime.now(UTC), claims=(), ab=comparisons(db))
    site = Site(data)
    assert AB_PAGE in site.paths() and ab_plot("run1") in site.paths()
    page = site.render(AB_PAGE).decode()
    assert "run1" in page and "core:t0" in page and "inconclusive" not in page.split("ab-pairs")[0]
    assert site.render(ab_plot("run1")).startswith(b"\x89PNG")
    index = site.render("index.html").decode()
    assert "ab.html" in index
    empty = Site(ReportData(project="p", generated_at=datetime.now(UTC), claims=()))
    assert AB_PAGE not in empty.paths()


def test_early_stopping_decides_only_on_strong_evidence() -> None:
    """The run's stopping rule is the compare's sequential verdict (Bonferroni over pairs)."""
    from pipeline.ab.run import _decided

    variants = [Variant(name="a", recordings_dir="x"), Variant(name="b", recordings_dir="x")]

    def records(n: int, b_wins: int) -> list[TrialRecord]:
        out = []
        for i in range(n):
            for name, ok in (("a", i >= b_wins), ("b", True)):
                out.append(TrialRecord(run_id="r", task_id=f"t{i}", variant=name, seed=0,
                                       verdict="accepted" if ok else "exhausted", success=ok,
                                       attempts=1, lean_s=0.0, wall_s=0.0))
        return out

    assert not _decided(records(6, 6), variants, 0.05)  # e = 2^6/7 ≈ 9 < 20
    assert _decided(records(8, 8), variants, 0.05)      # e = 2^8/9 ≈ 28 ≥ 20
    assert not _decided(records(40, 0), variants, 0.05)  # no discordant pair
    three = [*variants, Variant(name="c", recordings_dir="x")]
    assert not _decided(records(8, 8), three, 0.05)  # 28 < 3/0.05 = 60
