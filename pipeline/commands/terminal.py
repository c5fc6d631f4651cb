"""All Rich output goes through :class:`Terminal`, the one module that imports Rich (a test
holds this): commands hand it text, tables, toned words (:func:`styled`) and documents
(the gate's human summary); it is quiet when output is not a TTY."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from pipeline.gate.formats.human import Document, Line, Tone

TONE_STYLE: dict[Tone, str] = {
    "good": "green",
    "bad": "red",
    "alarm": "bold red",
    "warn": "yellow",
    "notice": "cyan",
    "muted": "dim",
    "strong": "bold",
}
"""How each tone looks on a terminal (elsewhere the text stays, the colour goes)."""


def styled(text: str, tone: Tone) -> str:
    """``text`` in ``tone``, for :meth:`Terminal.print` (the text is never read as markup)."""
    return f"[{TONE_STYLE[tone]}]{escape(text)}[/]"


def _renderable(document: Document) -> RenderableType:
    parts: list[RenderableType] = []
    for block in document:
        if isinstance(block, Line):
            line = Text(style=TONE_STYLE[block.tone] if block.tone else "")
            for span in block.spans:
                line.append(span.text, style=TONE_STYLE[span.tone] if span.tone else None)
            parts.append(line)
            continue
        table = Table(title=block.title, title_justify="left", show_lines=False)
        for col in block.columns:
            table.add_column(col, overflow="fold")
        for row in block.rows:
            table.add_row(*(Text(c.text, style=TONE_STYLE[c.tone] if c.tone else "") for c in row))
        parts.append(table)
    return Group(*parts)


class Terminal:
    def __init__(self) -> None:
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @property
    def interactive(self) -> bool:
        return self.err.is_terminal

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]error:[/] {escape(message)}")

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {escape(message)}")

    def info(self, message: str) -> None:
        self.err.print(message, markup=False)

    def print(self, *objects: Any) -> None:
        self.out.print(*objects)

    def text(self, text: str) -> None:
        """Plain text on stdout: Lean messages like `simp [foo]` are not Rich markup."""
        self.out.print(text, markup=False, highlight=False)

    def table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        """A table on a terminal (long cells wrap, nothing is cut); elsewhere (a pipe, a file)
        tab-separated lines under a header line, every cell in full."""
        if not self.out.is_terminal:
            def cell(text: str) -> str:  # the cell as it would read: markup applied, escapes gone
                return Text.from_markup(text).plain.replace("\t", " ").replace("\n", " ")

            self.info(title)  # the title for a reader, on stderr; stdout holds only the rows
            lines = ["\t".join(cell(c) for c in columns), *("\t".join(cell(c) for c in row) for row in rows)]
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
            return
        table = Table(title=title)
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.out.print(table)

    def rule(self, title: str) -> None:
        """A section heading: a rule with ``title`` at its left."""
        self.out.print(Rule(title, align="left"))

    def markdown(self, text: str) -> None:
        """Markdown prose (a claim's statement and argument), laid out."""
        self.out.print(Markdown(text))

    def document(self, document: Document) -> None:
        """A document of toned lines and tables (the gate's human summary)."""
        self.out.print(_renderable(document))

    @staticmethod
    def document_text(document: Document, width: int = 120) -> str:
        """The document as plain text, ``width`` columns wide (for a file)."""
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None, highlight=False, soft_wrap=False)
        console.print(_renderable(document))
        return buffer.getvalue()

    def json(self, payload: Any) -> None:
        """Machine-readable output on stdout, unstyled."""
        if isinstance(payload, BaseModel):
            text = payload.model_dump_json(indent=2, by_alias=False)
        else:
            text = json.dumps(_jsonable(payload), indent=2, ensure_ascii=False)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def raw(self, text: str) -> None:
        """Machine-readable text (XML, workflow commands, Markdown) on stdout, unstyled."""
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Step]:
        """A progress bar on stderr (silent when not interactive)."""
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            disable=not self.interactive,
            transient=False,
        )
        with progress:
            task = progress.add_task(description, total=total)
            yield Step(progress, task)


class Step:
    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1, description: str | None = None) -> None:
        kwargs: dict[str, Any] = {"advance": n}
        if description:
            kwargs["description"] = description
        self._progress.update(self._task, **kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


__all__ = ["TONE_STYLE", "Step", "Terminal", "Tone", "escape", "styled"]
