"""How the benchmark's tables print a time and a ratio (one format for every section)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["markdown_table", "ratio", "seconds"]


def seconds(value: float | None) -> str:
    """Seconds to 3 significant figures, or milliseconds below 0.1 s."""
    if value is None:
        return "—"
    if value < 0.1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def ratio(top: float | None, bottom: float | None) -> str:
    """``top ÷ bottom`` as ``1.6×`` (2 significant figures), ``—`` when it has no value."""
    if top is None or bottom is None or bottom <= 0:
        return "—"
    return f"{top / bottom:.2g}×" if top / bottom < 10 else f"{top / bottom:,.0f}×"


def markdown_table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    """Return the lines of a Markdown table: the head, its rule, a line per row."""
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(" --- " for _ in head) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
