"""The registry's pydantic models: what a valid hypothesis and Lean reference look like."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.claims.models import Claim, Hypothesis, Issue, LeanRef

DIGEST = "a" * 64


def test_a_hypothesis_has_a_check_or_a_justified_assumption() -> None:
    checked = Hypothesis(binder="h_x", meaning="x", check="pipeline.evidence.checks.sgd:strong_convexity")
    assert (checked.module, checked.function) == ("pipeline.evidence.checks.sgd", "strong_convexity")
    assumed = Hypothesis(binder="h_y", meaning="y", assumed=True, justification="by design")
    assert assumed.check is None and assumed.module is None
    with pytest.raises(ValidationError, match="give the empirical `check`"):
        Hypothesis(binder="h_z", meaning="z")
    with pytest.raises(ValidationError, match="not both"):
        Hypothesis(binder="h_z", meaning="z", check="a.b:c", assumed=True, justification="j")
    with pytest.raises(ValidationError, match="needs a written `justification`"):
        Hypothesis(binder="h_z", meaning="z", assumed=True, justification="  ")


@pytest.mark.parametrize("binder", ["x", "hx", "h_", "h x", "h_a.b"])
def test_binders_are_lean_h_names(binder: str) -> None:
    with pytest.raises(ValidationError):
        Hypothesis(binder=binder, meaning="m", assumed=True, justification="j")


@pytest.mark.parametrize("check", ["nocolon", "a.b:", ":f", "a b:c", "os:system; rm"])
def test_checks_are_module_colon_function(check: str) -> None:
    with pytest.raises(ValidationError):
        Hypothesis(binder="h_a", meaning="m", check=check)


def test_lean_ref_reads_open_and_validates_pins() -> None:
    ref = LeanRef.model_validate({"module": "Formal.X", "declaration": "Formal.X.t", "statement": "True",
                                  "witness": "Formal.X.w", "open": ["Formal.X"],
                                  "definitions": {"Formal.X.d": DIGEST}})
    assert ref.opens == ("Formal.X",)
    with pytest.raises(ValidationError, match="not a SHA-256"):
        LeanRef(module="Formal.X", declaration="Formal.X.t", statement="True", witness="Formal.X.w",
                definitions={"Formal.X.d": "abc"})
    with pytest.raises(ValidationError, match="must not be empty"):
        LeanRef(module="Formal.X", declaration="Formal.X.t", statement=" \n", witness="Formal.X.w")


def test_status_cannot_be_entered_by_hand() -> None:
    data = {"id": "c", "title": "t", "statement": "s", "argument": "a", "source": "src",
            "lean": {"module": "Formal.X", "declaration": "Formal.X.t", "statement": "True",
                     "witness": "Formal.X.w"}, "path": Path("claims/c.toml")}
    assert Claim.model_validate(data).id == "c"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Claim.model_validate({**data, "proved": True})


def test_an_issue_names_file_and_field() -> None:
    issue = Issue(file="claims/c.toml", field="lean.statement", message="broken")
    assert str(issue) == "claims/c.toml: lean.statement: broken"
    assert str(issue.model_copy(update={"severity": "warning"})).endswith("warning: broken")
