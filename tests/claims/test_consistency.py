"""Attributing Lean's messages on a claim's check file to the registry's fields (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.claims.assemble import statement_check
from pipeline.claims.consistency import statement_issues
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.lean.models import CheckResult, Message, Reason, Verdict
from pipeline.settings import Settings
from tests.conftest import REPO


@pytest.fixture(scope="module")
def claim() -> Claim:
    return load_registry(Settings.load(REPO, state_dir=Path("/nonexistent"))).get("bayes_surprise")


def result(*messages: tuple[int, str], reasons: tuple[Reason, ...] = (Reason.error,),
           kind: str | None = None) -> CheckResult:
    return CheckResult(
        verdict=Verdict.rejected, reasons=reasons, backend="embedded", lean_version="4.28.0",
        elapsed_s=1.0, cache_key="k",
        messages=tuple(Message.model_validate({"severity": "error", "data": text,
                                               "pos": {"line": line, "column": 0} if line else None,
                                               "kind": kind})
                       for line, text in messages))


def test_errors_are_attributed_by_line(claim: Claim) -> None:
    _, where = statement_check(claim)
    cases = [
        (where.statement_start + 1, "lean.statement", "does not elaborate (its line 2)", (False, False, True)),
        (where.declaration_line, "lean.statement", "does not prove the pinned statement", (True, False, True)),
        (where.witness_line, "lean.witness", "Lean does not accept the witness", (True, True, False)),
        (1, "lean.module", "cannot import Formal.Bayes", (False, False, False)),
    ]
    for line, field, text, verdict in cases:
        issues, got = statement_issues(claim, "claims/bayes_surprise.toml", result((line, "Type mismatch")), where)
        assert [i.field for i in issues] == [field] and text in issues[0].message, (line, issues)
        assert (got.stated, got.proves, got.witness) == verdict, line
    issues, got = statement_issues(claim, "f", result((where.declaration_line, "Unknown identifier `x`")), where)
    assert issues[0].field == "lean.declaration" and not got.proves


def test_an_unfinished_check_says_so(claim: Claim) -> None:
    _, where = statement_check(claim)
    issues, got = statement_issues(claim, "f", result((0, "Lean crashed: killed"),
                                                      reasons=(Reason.crash,), kind="crash"), where)
    assert [str(i) for i in issues] == [("f: lean.statement: Lean did not finish the claim's check (crash): "
                                        "Lean crashed: killed")]
    assert not (got.stated or got.proves or got.witness)
    issues, _ = statement_issues(claim, "f", result(reasons=(Reason.timeout,)), where)
    assert "did not finish the claim's check (timeout)" in issues[0].message
