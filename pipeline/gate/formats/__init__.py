"""Renderings of a :class:`~pipeline.gate.models.GateReport`; each is a pure function of it.

``human`` (plain data the terminal draws: :func:`~pipeline.gate.formats.human.human_document`),
and the text formats :func:`render` writes: ``markdown`` (CI step summary), ``github`` (GitHub
workflow commands) and ``junit`` (JUnit XML).
"""

from __future__ import annotations

from typing import Literal

from pipeline.errors import InputError
from pipeline.gate.formats.annotations import github_annotations
from pipeline.gate.formats.human import Document, human_document
from pipeline.gate.formats.junit import junit_xml
from pipeline.gate.formats.markdown import markdown_summary
from pipeline.gate.models import GateReport

TextFormat = Literal["markdown", "github", "junit"]
FormatName = Literal["human", TextFormat]


def render(report: GateReport, fmt: TextFormat) -> str:
    """The report as text in ``fmt``."""
    if fmt == "markdown":
        return markdown_summary(report)
    if fmt == "github":
        return github_annotations(report)
    if fmt == "junit":
        return junit_xml(report)
    raise InputError(f"no text format {fmt!r}: give markdown, github or junit (the terminal draws "
                     "the human summary)")


__all__ = ["Document", "FormatName", "TextFormat", "github_annotations", "human_document", "junit_xml",
           "markdown_summary", "render"]
