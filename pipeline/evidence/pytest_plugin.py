"""pytest plugin ``sequent`` (entry point ``pytest11``): hypothesis checks as tests.

    @pytest.mark.hypothesis_check("sgd_chung", "h_step_size")
    def test_step_sizes(run):            # ``run``: the Run given with --sequent-run
        assert run.metrics["lr"][-1] < run.metrics["lr"][0]

``pytest --sequent-run RUN_DIR`` records each marked test's outcome as the verdict of that
hypothesis on that run (passed → holds, failed → fails, skipped → inconclusive, errored →
error: a broken test is a defect, not a verdict), in the database ``sequent hypotheses check``
uses, beside the statistical verdicts (both are kept; "applies" needs both). Without ``--sequent-run`` the plugin only
registers its marker; the ``run`` fixture skips.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

_STATE = pytest.StashKey[dict[str, Any]]()
MARKER = "hypothesis_check"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sequent")
    group.addoption("--sequent-run", action="store", default=None, metavar="RUN_DIR",
                    help="record hypothesis_check tests as verdicts on this run")
    group.addoption("--sequent-project", action="store", default=None, metavar="DIR",
                    help="project root whose database receives the verdicts (default: cwd)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(claim_id, binder): this test decides a claim's hypothesis "
        "on the run given with --sequent-run")
    run_dir = config.getoption("--sequent-run")
    if run_dir is None:
        return
    from pipeline.errors import SequentError
    from pipeline.evidence.runs import load_run

    try:
        run = load_run(run_dir)
    except SequentError as exc:
        raise pytest.UsageError(f"--sequent-run: {exc}") from exc
    config.stash[_STATE] = {"run": run, "verdicts": {}}


@pytest.fixture
def run(request: pytest.FixtureRequest) -> Any:
    """The :class:`pipeline.evidence.models.Run` given with ``--sequent-run``."""
    state = request.config.stash.get(_STATE, None)
    if state is None:
        pytest.skip("no --sequent-run RUN_DIR given")
    return state["run"]


def _target(item: pytest.Item) -> tuple[str, str] | None:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    if len(marker.args) != 2 or not all(isinstance(a, str) and a for a in marker.args):
        raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.{MARKER}(\"claim_id\", "
                                "\"binder\")")
    return marker.args[0], marker.args[1]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    state = item.config.stash.get(_STATE, None)
    if state is None:
        return
    target = _target(item)
    if target is None:
        return
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            verdict, reason = "holds", f"test {item.nodeid} passed"
        elif report.skipped:
            detail = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            verdict, reason = "inconclusive", f"test {item.nodeid} skipped: {detail}"
        elif report.when == "call" and not hasattr(report, "wasxfail"):
            verdict, reason = "fails", f"test {item.nodeid} failed: {_first_line(report)}"
        else:
            verdict, reason = "error", f"test {item.nodeid} errored: {_first_line(report)}"
        state["verdicts"][(target, item.nodeid)] = (verdict, reason)


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0] if text.strip() else "no message"


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if not state or not state["verdicts"]:
        return
    from pipeline.evidence.recording import store, test_verdict
    from pipeline.settings import Settings

    project = session.config.getoption("--sequent-project")
    settings = Settings.load(project)
    verdicts = [test_verdict(claim_id=c, binder=b, run=state["run"], outcome=o, reason=r,
                             nodeid=nodeid)
                for ((c, b), nodeid), (o, r) in state["verdicts"].items()]
    stored = store(settings, state["run"], verdicts)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"sequent: recorded {len(stored)} hypothesis verdicts on run "
                            f"{state['run'].id} in {settings.db_url}")
