"""Building report inputs from the real wire models (no fakes: these are plain values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipeline.evidence.models import ConfidenceInterval, HypothesisVerdict, Outcome

if TYPE_CHECKING:
    from pathlib import Path

    from pipeline.report.models import ReportData

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def verdict(
    binder: str,
    run_id: str,
    outcome: Outcome = "holds",
    *,
    claim_id: str = "c",
    value: float | None = 0.93,
    threshold: float | None = 0.9,
    ci: tuple[float, float] | None = (0.91, 0.95),
    n: int = 500,
    minutes: int = 0,
    plot: str | None = None,
) -> HypothesisVerdict:
    return HypothesisVerdict(
        claim_id=claim_id, binder=binder, check=f"pipeline.evidence.checks.x:{binder}",
        run_id=run_id, outcome=outcome, statistic=f"{binder} statistic", value=value,
        threshold=threshold,
        ci=ConfidenceInterval(low=ci[0], high=ci[1], method="wilson") if ci else None,
        n=n, reason=f"{binder} {outcome} on {run_id}", plot=plot,
        recorded_at=T0 + timedelta(minutes=minutes),
    )


def sample_data(tmp: Path) -> ReportData:
    """A report of four claims, two runs (one plot drawn by the evidence renderer), one
    drafting session with attempts and a review: every section of every page has content."""
    from pathlib import Path

    from pipeline.agents.models import Attempt, ClaimReview, Discrepancy, ReviewJudgement
    from pipeline.agents.store import DraftSession
    from pipeline.claims.models import HypothesisSummary
    from pipeline.evidence.models import PlotData, PlotSeries
    from pipeline.evidence.plots import render
    from pipeline.lean.models import CheckResult, Message, Position, Reason, Severity, Verdict
    from pipeline.report import paths
    from pipeline.report.models import (
        ClaimEntry,
        PlotRef,
        ReportData,
        RunInfo,
        SubmissionRef,
    )
    from pipeline.report.node_status import node_status, run_evidence

    png = render(
        PlotData(title="leaf accuracy", xlabel="n", ylabel="acc",
                 series=(PlotSeries(label="acc", x=(1.0, 2.0, 3.0), y=(0.9, 0.92, 0.95)),),
                 hlines=(("threshold", 0.9),)),
        Path(tmp) / "evidence" / "leaf.png",
    )
    accepted = CheckResult(verdict=Verdict.accepted, backend="embedded", lean_version="4.28.0",
                           elapsed_s=3.2, cache_key="k1")
    rejected = CheckResult(
        verdict=Verdict.rejected, reasons=(Reason.error,), backend="embedded",
        lean_version="4.28.0", elapsed_s=2.5, cache_key="k2", file_name="Submission.lean",
        messages=(Message(severity=Severity.error, data="unsolved goals\n⊢ n + 0 = n",
                          pos=Position(line=3, column=2)),),
    )
    hyps = (
        HypothesisSummary(binder="h_judge_leaf", meaning="The judge is right at leaves.",
                      check="pipeline.evidence.checks.debate:judge_leaf_accuracy"),
        HypothesisSummary(binder="h_honest", meaning="Honest debater wins.",
                      check="pipeline.evidence.checks.debate:honest_win_rate"),
        HypothesisSummary(binder="h_depth", meaning="Finite depth.", assumed=True,
                      justification="by construction"),
    )
    plot_name = paths.evidence_plot("debate_tree", "run-a", "h_judge_leaf")
    per_run = {
        "run-a": [verdict("h_judge_leaf", "run-a", claim_id="debate_tree", plot=str(png)),
                  verdict("h_honest", "run-a", claim_id="debate_tree")],
        "run-b": [verdict("h_judge_leaf", "run-b", "fails", claim_id="debate_tree",
                          value=0.7, ci=(0.6, 0.8), n=12)],
        "run-c": [verdict("h_judge_leaf", "run-c", "inconclusive", claim_id="debate_tree",
                          value=None, ci=None, n=0)],
    }
    runs = run_evidence(hyps, per_run, proved=True, plots={("run-a", "h_judge_leaf"): plot_name})
    t = T0
    session = DraftSession(id="s" * 32, claim_id="debate_tree", provider="replay",
                           family="anthropic", model="claude-x", rounds=4, status="accepted",
                           error=None, argument="By induction.", input_tokens=10,
                           output_tokens=20, cost_usd=0.0, started_at=t, finished_at=t)
    common: dict[str, Any] = {
        "session_id": session.id, "claim_id": "debate_tree", "provider": "replay",
        "family": "anthropic", "model": "claude-x", "prompt_hash": "p", "created_at": t,
    }
    attempts = (
        Attempt(index=0, kind="argument", output="By *induction* on depth.", outcome="informal",
                **common),  # type: ignore[arg-type]
        Attempt(index=1, kind="proof", output="by simp", proof="by simp", outcome="rejected",
                check=rejected, **common),  # type: ignore[arg-type]
        Attempt(index=2, kind="repair", output="by omega", proof="by omega",
                diff="-by simp\n+by omega", outcome="accepted", check=accepted,
                **common),  # type: ignore[arg-type]
    )
    review = ClaimReview(
        claim_id="debate_tree", session_id=session.id, statement="∀ d : Nat, d + 0 = d",
        judgement=ReviewJudgement(verdict="uncertain", summary="Mostly faithful.",
                                  discrepancies=[Discrepancy(element="h_depth",
                                                             problem="depth bound is implicit")]),
        reviewer_provider="replay", reviewer_family="openai", reviewer_model="gpt-x",
        drafter_family="anthropic", created_at=t,
    )
    claims = (
        ClaimEntry(id="debate_tree", title="Debate on trees",
                   statement="Honest play **wins** <script>alert(1)</script>",
                   argument="Backward induction.", module="Formal.Debate",
                   declaration="Debate.tree_honest", lean_statement="∀ d : Nat, d + 0 = d",
                   lean_text="theorem tree_honest : ∀ d : Nat, d + 0 = d := by simp",
                   witness="Debate.tree_witness", hypotheses=hyps,
                   status=node_status(pinned=True, proved=True, fully_proved=True,
                                      hypotheses=hyps, runs=runs),
                   check=accepted, witness_check=accepted, runs=tuple(runs),
                   sessions=(session,), attempts=attempts, review=review,
                   submissions=(SubmissionRef(id="0190a1b2c3d4e5f60718293a4b5c", agent="claude-agent",
                                              channel="mcp", status="accepted",
                                              created_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
                                              finished_at=datetime(2026, 12, 1, 9, 31, tzinfo=UTC)),)),
        ClaimEntry(id="debate_equilibrium", title="Equilibrium", statement="s", argument="a",
                   depends_on=("debate_tree",),
                   status=node_status(pinned=True, proved=False, fully_proved=False,
                                      hypotheses=(), runs=()), check=rejected),
        ClaimEntry(id="mentor_queries", title="Mentor", statement="s", argument="",
                   depends_on=("debate_equilibrium", "debate_tree", "ghost"),
                   status=node_status(pinned=False, proved=False, fully_proved=False,
                                      hypotheses=(), runs=()),
                   issues=("claims/mentor_queries.toml: lean.statement: not pinned",)),
        ClaimEntry(id="sgd_chung", title="SGD", statement="s", argument="",
                   status=node_status(pinned=True, proved=True, fully_proved=True,
                                      hypotheses=(), runs=()), check=accepted),
    )
    return ReportData(project="sample", generated_at=t, git_commit="0123456789abcdef",
                      claims=claims, runs=(RunInfo(id="run-a", kind="debate", source="experiment:debate"),
                            RunInfo(id="run-b"), RunInfo(id="run-c", kind="sgd")),
                      plots=(PlotRef(name=plot_name, source=png),),
                      issues=("claims/ghost.toml: missing",))
