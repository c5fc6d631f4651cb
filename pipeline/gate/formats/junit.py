"""JUnit XML: one ``testsuite`` per gate suite, one ``testcase`` per check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pipeline.gate.formats.common import revision_text
from pipeline.gate.models import GateCase, GateReport, Severity, Status

_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Drop characters XML 1.0 cannot hold (control characters, lone surrogates)."""
    return _XML_INVALID.sub("\ufffd", text)


def _finding_lines(case: GateCase, severities: set[Severity]) -> str:
    return "\n".join(
        (f"{f.location}: " if f.location else "") + f.message
        for f in case.findings
        if f.severity in severities
    )


def _testcase(parent: ET.Element, case: GateCase) -> None:
    element = ET.SubElement(
        parent,
        "testcase",
        {
            "classname": f"sequent.gate.{case.suite}",
            "name": xml_text(case.name),
            "time": f"{case.elapsed_s:.3f}",
        },
    )
    if case.status is Status.failed:
        errors = [f for f in case.findings if f.severity is Severity.error]
        failure = ET.SubElement(
            element, "failure", {"message": xml_text(errors[0].message), "type": case.check}
        )
        failure.text = xml_text(_finding_lines(case, {Severity.error}))
    elif case.status is Status.skipped:
        ET.SubElement(element, "skipped", {"message": xml_text(case.skipped or "")})
    others = _finding_lines(case, {Severity.warning, Severity.notice})
    if others:
        ET.SubElement(element, "system-out").text = xml_text(others)


def junit_xml(report: GateReport) -> str:
    root = ET.Element(
        "testsuites",
        {
            "name": "sequent gate",
            "tests": str(len(report.cases)),
            "failures": str(report.count(Status.failed)),
            "errors": "0",
            "skipped": str(report.count(Status.skipped)),
            "time": f"{report.elapsed_s:.3f}",
        },
    )
    suites: dict[str, list[GateCase]] = {}
    for case in report.cases:
        suites.setdefault(case.suite, []).append(case)
    for suite, cases in suites.items():
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "name": suite,
                "tests": str(len(cases)),
                "failures": str(sum(c.status is Status.failed for c in cases)),
                "errors": "0",
                "skipped": str(sum(c.status is Status.skipped for c in cases)),
                "time": f"{sum(c.elapsed_s for c in cases):.3f}",
            },
        )
        props = ET.SubElement(element, "properties")
        ET.SubElement(props, "property", {"name": "head", "value": xml_text(revision_text(report.head))})
        if report.base is not None:
            ET.SubElement(props, "property", {"name": "base", "value": xml_text(revision_text(report.base))})
        for case in cases:
            _testcase(element, case)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


__all__ = ["junit_xml", "xml_text"]
