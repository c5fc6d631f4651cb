"""Every output format of a report is well formed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt

from pipeline.gate.formats import render
from pipeline.gate.formats.annotations import escape_data, escape_property
from pipeline.gate.models import (
    ChangeKind,
    ClaimChange,
    DeclarationChange,
    Finding,
    GateCase,
    GateReport,
    Location,
    Revision,
    Severity,
    Status,
)


def _report() -> GateReport:
    where = Location(file="Formal/Basic.lean", line=7, column=3)
    return GateReport(
        project="/tmp/p",
        base=Revision(label="origin/main", sha="a" * 40),
        head=Revision(label="working tree", sha="b" * 40, working_tree=True),
        cases=(
            GateCase(suite="build", name="Formal.Basic", check="build", elapsed_s=1.25, findings=(
                Finding(severity=Severity.error, message="`sorry` leaves the proof | unfinished\nline two",
                        location=where),
                Finding(severity=Severity.warning, message="unused variable `h`\x07", location=where),
            )),
            GateCase(suite="claims", name="doubling: statement", check="statement", claim_id="doubling"),
            GateCase(suite="claims", name="doubling: witness", check="witness", claim_id="doubling",
                     skipped="the module did not build"),
            GateCase(suite="changes", name="new theorems have claims", check="new_theorem", findings=(
                Finding(severity=Severity.warning, message="new theorem x, y has no claim: 100%",
                        location=Location(file="Formal/a,b:c.lean", line=2)),
            )),
        ),
        declaration_changes=(
            DeclarationChange(name="Formal.Basic.x", kind="theorem", change=ChangeKind.added,
                              location=Location(file="Formal/Basic.lean", line=9)),
        ),
        claim_changes=(
            ClaimChange(claim_id="doubling", change=ChangeKind.changed,
                        location=Location(file="claims/doubling.toml"), fields=("lean.statement",)),
        ),
        elapsed_s=3.5,
    )


def test_statuses_and_exit_code() -> None:
    report = _report()
    assert [c.status for c in report.cases] == [Status.failed, Status.passed, Status.skipped, Status.warned]
    assert not report.ok and report.exit_code == 1
    passing = report.model_copy(update={"cases": report.cases[1:]})
    assert passing.ok and passing.exit_code == 0


def test_junit_is_valid_and_structured() -> None:
    root = ET.fromstring(render(_report(), "junit").split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["build", "claims", "changes"]
    total = 0
    for suite in suites.values():
        cases = suite.findall("testcase")
        total += len(cases)
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
        for case in cases:
            assert case.get("name") and case.get("classname", "").startswith("sequent.gate.")
            float(case.get("time", "x"))
    assert total == 4
    (build_case,) = suites["build"].findall("testcase")
    failure = build_case.find("failure")
    assert failure is not None and failure.get("type") == "build"
    assert "Formal/Basic.lean:7:3" in (failure.text or "")
    out = build_case.find("system-out")
    assert out is not None and "unused variable" in (out.text or "")
    assert suites["claims"].findall("testcase")[1].find("skipped") is not None
    assert suites["build"].find("properties/property[@name='base']").get("value").startswith("origin/main")


def test_junit_declares_xml() -> None:
    text = render(_report(), "junit")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    ET.fromstring(text.encode("utf-8"))


def test_markdown_tables_are_well_formed() -> None:
    text = render(_report(), "markdown")
    assert text.startswith("## ❌ Sequent gate failed")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables = [i for i, t in enumerate(tokens) if t.type == "table_open"]
    assert len(tables) == 4  # findings, checks, claim changes, declaration changes
    for start in tables:
        end = next(i for i in range(start, len(tokens)) if tokens[i].type == "table_close")
        rows: list[int] = []
        for tok in tokens[start:end]:
            if tok.type == "tr_open":
                rows.append(0)
            elif tok.type in ("th_open", "td_open"):
                rows[-1] += 1
        assert len(rows) >= 2 and len(set(rows)) == 1, rows
    # the pipe inside a message did not split the cell, the line break did not end the table
    assert "proof \\| unfinished<br>line two" in text
    assert "Formal/Basic.lean:7:3" in text
    assert text.count("<details>") == text.count("</details>") == 1


def test_github_annotations() -> None:
    lines = render(_report(), "github").splitlines()
    assert lines[0].startswith("::error file=Formal/Basic.lean,line=7,col=4,title=")  # GitHub: from 1
    assert lines[0].endswith("::`sorry` leaves the proof | unfinished%0Aline two")
    assert lines[1].startswith("::warning file=Formal/Basic.lean,line=7")
    assert lines[2].startswith("::warning file=Formal/a%2Cb%3Ac.lean,line=2,title=")
    assert lines[2].endswith("has no claim: 100%25")
    assert lines[-1].startswith("Sequent gate failed")
    assert len(lines) == 4
    assert escape_data("a%\r\nb") == "a%25%0D%0Ab"
    assert escape_property("x:y,z") == "x%3Ay%2Cz"


def _human_text(report: GateReport, *, verbose: bool = False) -> str:
    """The human summary as ``--output`` writes it: the gate's document, drawn by the terminal."""
    from pipeline.commands.terminal import Terminal
    from pipeline.gate.formats import human_document

    return Terminal.document_text(human_document(report, verbose=verbose))


def test_human_text_mentions_every_case_and_finding() -> None:
    text = _human_text(_report())
    for needle in ("Formal.Basic", "doubling: witness", "Formal/Basic.lean:7:3", "Sequent gate failed",
                   "Changes against the base", "new theorem x"):
        assert needle in text


def test_human_text_puts_findings_first_and_counts_the_passing_checks() -> None:
    text = _human_text(_report())
    assert text.index("Findings") < text.index("Checks that did not pass")
    assert "doubling: statement" not in text  # the one passing check: counted, not listed
    assert "1 check(s) passed (--verbose lists them)" in text
    full = _human_text(_report(), verbose=True)
    assert "doubling: statement" in full and full.index("Findings") < full.index("Checks")
