"""Tables that fit the terminal: text folds onto more lines, numbers are never cut.

A table's text columns (:func:`text_column`) fold what does not fit: a Chinese name has no
space to wrap at, and ``overflow="fold"`` breaks it where the column ends instead of cutting
it short with "…". Its number columns (:func:`number_column`, cells made by :func:`number`)
are right-aligned and never wrapped. :class:`Fitted` prints a table as it is when the
console is wide enough, and otherwise first narrows each number column to its widest number
(its heading then wraps), so that the text columns give way and the numbers stay whole.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

__all__ = ["Fitted", "number", "number_column", "text_column"]

#: Wide enough to measure a table at its natural width, every cell on one line.
_UNLIMITED = 100_000


def text_column(header: str) -> Column:
    """Return a column of text that folds what does not fit instead of cutting it."""
    return Column(header, overflow="fold")


def number_column(header: str) -> Column:
    """Return a right-aligned column for the cells made by :func:`number`."""
    return Column(header, justify="right", overflow="fold")


def number(text: str) -> Text:
    """Return the cell of a number (and its unit): one line, never wrapped nor cut."""
    return Text(text, no_wrap=True, overflow="fold")


class Fitted:
    """A table printed at its natural width when that fits, with narrow number columns if not.

    Narrowed, a number column of ``table`` (a right-aligned one, made by
    :func:`number_column`) is as wide as its widest cell and the longest word of its heading,
    and no narrower than that: rich folds the text columns to make room.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """Measure the table."""
        return Measurement.get(console, options, self.table)

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        """Yield the table, its number columns narrowed while it is printed when it is too wide."""
        table = self.table
        natural = Measurement.get(console, options.update_width(_UNLIMITED), table).maximum
        if natural <= options.max_width:
            yield table
            return
        numbers = [c for c in table.columns if c.justify == "right"]
        widths = [c.width for c in numbers]
        for column in numbers:
            column.width = _least_width(column)
        try:
            yield table  # rendered in full before this generator resumes
        finally:
            for column, width in zip(numbers, widths, strict=True):
                column.width = width


def _least_width(column: Column) -> int:
    """Return the width of a column's widest unbreakable part: a number, a heading's word."""
    parts: list[int] = [cell_len(word) for word in str(column.header).split()]
    for cell in column.cells:
        if isinstance(cell, Text) and cell.no_wrap:
            parts.extend(cell_len(line) for line in cell.plain.splitlines())
        else:
            parts.extend(cell_len(word) for word in str(cell).split())
    return max(parts, default=1)
