"""Renderings of a :class:`~pipeline.gate.models.GateReport`; each is a pure function of it.

``human`` (Rich renderables), ``markdown`` (CI step summary), ``annotations`` (GitHub
workflow commands) and ``junit`` (JUnit XML).
"""

from __future__ import annotations

from typing import Literal

from pipeline.gate.formats.annotations import github_annotations
from pipeline.gate.formats.human import human_text
from pipeline.gate.formats.junit import junit_xml
from pipeline.gate.formats.markdown import markdown_summary
from pipeline.gate.models import GateReport

FormatName = Literal["human", "markdown", "github", "junit"]


def render(report: GateReport, fmt: FormatName) -> str:
    """The report as text in ``fmt`` (``human`` without colours, for a file)."""
    if fmt == "markdown":
        return markdown_summary(report)
    if fmt == "github":
        return github_annotations(report)
    if fmt == "junit":
        return junit_xml(report)
    return human_text(report)


__all__ = ["FormatName", "github_annotations", "human_text", "junit_xml", "markdown_summary", "render"]
