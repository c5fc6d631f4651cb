"""The terminal, the one owner of Rich output: toned words keep their text as written, and a
document (the gate's human summary) draws as plain text for a file."""

from __future__ import annotations

import pytest

from pipeline.commands.terminal import TONE_STYLE, Terminal, styled
from pipeline.gate.formats.human import Grid, Line, Span


def test_a_toned_word_prints_its_text_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    Terminal().print(f"{styled('[bold]h_x[/] @[simp]', 'bad')} rest")
    assert capsys.readouterr().out == "[bold]h_x[/] @[simp] rest\n"  # not read as markup


def test_every_tone_has_a_style() -> None:
    from typing import get_args

    from pipeline.gate.formats.human import Tone

    assert set(get_args(Tone)) == set(TONE_STYLE)


def test_a_document_draws_as_plain_text_for_a_file() -> None:
    document = (Line((Span("1 finding: "), Span("[x] broken", "bad")), "strong"),
                Grid("Checks", ("Check", "Details"), ((Span("a"), Span("[red]b[/]", "alarm")),)))
    text = Terminal.document_text(document, width=60)
    assert text.splitlines()[0] == "1 finding: [x] broken"
    assert "Checks" in text and "│ a     │ [red]b[/] │" in text
    assert "\x1b[" not in text  # no colour in a file
