"""What a claim certifies, how each change of it is classified, and ``claims approve``'s file
edit (pure: no Lean; the gate end to end is tests/gate/test_gate_weakening.py)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline.claims.approval import (
    approve_claim,
    certified_changes,
    certified_content,
    certified_digest,
)
from pipeline.claims.models import Claim
from pipeline.claims.registry import load_registry
from pipeline.errors import ClaimError, NotFoundError
from tests.conftest import make_settings

BASE: dict[str, Any] = {
    "id": "c", "title": "t", "statement": "s", "argument": "a", "source": "src",
    "path": Path("claims/c.toml"),
    "lean": {"module": "Formal.X", "declaration": "Formal.X.thm", "witness": "Formal.X.w",
             "statement": "∀ (n : Nat) (h_a : n < 3) (h_b : n < 5), n < 5",
             "meaning": {"(statement)": "a" * 40, "Formal.X.f": "b" * 64}},
    "hypotheses": [
        {"binder": "h_a", "meaning": "m", "check": "pkg.mod:check_a", "settings": {"tol": 0.1}},
        {"binder": "h_b", "meaning": "m", "assumed": True, "justification": "j"},
    ],
    "parameters": {"n": 3.0},
    "conclusions": [{"name": "small", "meaning": "m", "check": "pkg.mod:concl"}],
    "reference_runs": ["runs/a", "runs/b"],
    "depends_on": ["other", "third"],
}


def claim(**changes: Any) -> Claim:
    data = {**BASE, **changes}
    return Claim.model_validate(data)


def changes(**edits: Any) -> list[tuple[str, str, str]]:
    found = certified_changes(certified_content(claim()), certified_content(claim(**edits)))
    return [(c.field, c.effect, f"{c.old} -> {c.new}") for c in found]


def test_a_checked_hypothesis_made_assumed_weakens() -> None:
    hyps = [{"binder": "h_a", "meaning": "m", "assumed": True, "justification": "trust me"},
            BASE["hypotheses"][1]]
    assert changes(hypotheses=hyps) == [
        ("hypotheses.h_a", "weakens", "checked by pkg.mod:check_a -> assumed")]


def test_an_assumed_hypothesis_made_checked_strengthens() -> None:
    hyps = [BASE["hypotheses"][0], {"binder": "h_b", "meaning": "m", "check": "pkg.mod:check_b"}]
    assert changes(hypotheses=hyps) == [
        ("hypotheses.h_b", "strengthens", "assumed -> checked by pkg.mod:check_b")]


def test_a_check_setting_or_another_check_is_a_change_that_needs_approval() -> None:
    looser = [{**BASE["hypotheses"][0], "settings": {"tol": 0.5}}, BASE["hypotheses"][1]]
    assert changes(hypotheses=looser) == [
        ("hypotheses.h_a.settings", "changes", '{"tol": 0.1} -> {"tol": 0.5}')]
    other = [{**BASE["hypotheses"][0], "check": "pkg.mod:always_holds"}, BASE["hypotheses"][1]]
    assert changes(hypotheses=other) == [
        ("hypotheses.h_a.check", "changes", "pkg.mod:check_a -> pkg.mod:always_holds")]


def test_a_dropped_hypothesis_entry_weakens() -> None:
    assert changes(hypotheses=[BASE["hypotheses"][1]]) == [
        ("hypotheses.h_a", "weakens", "checked by pkg.mod:check_a -> absent")]


def test_conclusions_removed_weaken_added_strengthen_changed_need_approval() -> None:
    assert changes(conclusions=[]) == [
        ("conclusions.small", "weakens", '{"check": "pkg.mod:concl"} -> absent')]
    more = [*BASE["conclusions"], {"name": "large", "meaning": "m", "check": "pkg.mod:c2"}]
    assert [c[:2] for c in changes(conclusions=more)] == [("conclusions.large", "strengthens")]
    other = [{"name": "small", "meaning": "m", "check": "pkg.mod:weaker"}]
    assert [c[:2] for c in changes(conclusions=other)] == [("conclusions.small", "changes")]


def test_parameters_any_change_needs_approval() -> None:
    assert changes(parameters={"n": 4.0}) == [("parameters.n", "changes", "3.0 -> 4.0")]
    assert [c[:2] for c in changes(parameters={})] == [("parameters.n", "weakens")]
    added = changes(parameters={"n": 3.0, "m": 1.0})
    assert [c[:2] for c in added] == [("parameters.m", "changes")]


def test_parameters_are_compared_by_content_whatever_their_kind() -> None:
    """A parameter table entry (an estimate, a derived formula, a binding kind another version
    adds) is compared as its content, not by a list of known fields."""
    base = {"parameters": {"n": 3.0, "k": {"kind": "x"}}}
    head = {"parameters": {"n": 3.0, "k": {"kind": "y"}}}
    (change,) = certified_changes(base, head)
    assert (change.field, change.effect) == ("parameters.k", "changes")
    assert (change.old, change.new) == ('{"kind": "x"}', '{"kind": "y"}')
    (other,) = certified_changes({"evidence": {"seeds": [1, 2]}}, {"evidence": {"seeds": [1]}})
    assert (other.field, other.effect) == ("evidence.seeds", "changes")


def test_reference_runs_and_dependencies_removed_weaken_added_strengthen() -> None:
    assert changes(reference_runs=["runs/a"]) == [("reference_runs", "weakens", "runs/b -> absent")]
    assert changes(depends_on=["other"]) == [("depends_on", "weakens", "third -> absent")]
    assert changes(reference_runs=["runs/a", "runs/b", "runs/c"]) == [
        ("reference_runs", "strengthens", "absent -> runs/c")]
    assert changes(depends_on=["third", "other"]) == []  # order is not content


def test_the_statement_is_compared_by_meaning_not_text() -> None:
    lean = dict(BASE["lean"])
    spaced = {**lean, "statement": lean["statement"] + " ", "open": ["Formal"]}
    assert changes(lean=spaced) == []  # text-only: the same Expr, the same meaning pin
    hijacked = {**spaced, "meaning": {**lean["meaning"], "(statement)": "c" * 40}}
    (change,) = certified_changes(certified_content(claim()), certified_content(claim(lean=hijacked)))
    assert (change.field, change.effect) == ("lean.meaning", "changes")
    assert "the statement itself" in change.what and change.old.startswith("aaaaaaaaaaaa")
    other = {**lean, "declaration": "Formal.X.weaker"}
    assert [c[:2] for c in changes(lean=other)] == [("lean.declaration", "changes")]


def test_informal_text_is_not_certified_content() -> None:
    hyps = [{**BASE["hypotheses"][0], "meaning": "reworded"}, BASE["hypotheses"][1]]
    assert changes(title="new", statement="new", argument="new", source="new", hypotheses=hyps) == []


def test_without_a_meaning_pin_the_text_counts_white_space_folded() -> None:
    lean = {k: v for k, v in BASE["lean"].items() if k != "meaning"}
    base = certified_content(claim(lean=lean))
    spaced = certified_content(claim(lean={**lean, "statement": "  " + lean["statement"] + "\n"}))
    assert certified_changes(base, spaced) == []
    other = certified_content(claim(lean={**lean, "statement": lean["statement"].replace("5", "6")}))
    assert [c.field for c in certified_changes(base, other)] == ["lean.text"]


def test_the_digest_names_the_content_exactly() -> None:
    a, b = certified_content(claim()), certified_content(claim(parameters={"n": 3.5}))
    assert certified_digest(a) == certified_digest(certified_content(claim(title="other")))
    assert certified_digest(a) != certified_digest(b)
    assert len(certified_digest(a)) == 64
    # a field with an empty default (one a later version may add) leaves the digest alone
    widened = {**a, "hypotheses": {b: {**h, "new_field": None, "new_table": {}}
                                   for b, h in a["hypotheses"].items()}, "evidence": []}
    assert certified_content(claim()) == a
    assert certified_digest(a) == certified_digest(_pruned(widened))


def _pruned(content: dict[str, Any]) -> dict[str, Any]:
    from pipeline.claims.approval import _json

    pruned: dict[str, Any] = _json(content)
    return pruned


CLAIM_TOML = '''id = "c"
title = "t"
source = "s"
statement = "x"
argument = "y"

[lean]
module = "Formal.X"
declaration = "Formal.X.thm"
witness = "Formal.X.w"
statement = "∀ (n : Nat) (h_a : n < 3), n < 5"

[[hypotheses]]
binder = "h_a"
meaning = "m"
assumed = true
justification = "j"
'''


def test_approve_writes_the_digest_and_replaces_an_earlier_approval(tmp_path: Path) -> None:
    (tmp_path / "claims").mkdir()
    path = tmp_path / "claims" / "c.toml"
    path.write_text(CLAIM_TOML, encoding="utf-8")
    settings = make_settings(tmp_path)
    first = approve_claim(settings, "c", by="Ada", reason='weaker, "on purpose"\nsee #12',
                          now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    table = tomllib.loads(path.read_text(encoding="utf-8"))["approval"]
    content = certified_content(load_registry(settings).get("c"))
    assert table == {"digest": certified_digest(content), "by": "Ada",
                     "reason": 'weaker, "on purpose"\nsee #12', "at": "2026-01-02T03:04:05Z"}
    assert first.previous is None and first.file == "claims/c.toml"
    assert path.read_text(encoding="utf-8").startswith(CLAIM_TOML)  # the rest kept byte for byte

    path.write_text(path.read_text(encoding="utf-8").replace('"Formal.X.thm"', '"Formal.X.thm2"'))
    second = approve_claim(settings, "c")
    text = path.read_text(encoding="utf-8")
    assert text.count("[approval]") == 1 and "Ada" not in text
    assert second.previous == first.approval.digest != second.approval.digest


def test_approve_refuses_an_unknown_claim_and_an_inline_approval(tmp_path: Path) -> None:
    (tmp_path / "claims").mkdir()
    path = tmp_path / "claims" / "c.toml"
    path.write_text(CLAIM_TOML.replace('argument = "y"\n', 'argument = "y"\napproval = { digest = "'
                                       + "0" * 64 + '" }\n'), encoding="utf-8")
    settings = make_settings(tmp_path)
    with pytest.raises(ClaimError, match="could not write the approval"):
        approve_claim(settings, "c")
    assert "[approval]" not in path.read_text(encoding="utf-8")
    with pytest.raises(NotFoundError, match="unknown claim"):
        approve_claim(settings, "nope")
