"""``mediation graph``: analyse a case's stakeholder graph, or export the graph itself."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from .app import CaseArg, Language, OutputFormat, WidthOption, fail_on, read_case

__all__ = ["command"]


class GraphExport(StrEnum):
    node_link = "node-link"
    graphml = "graphml"


def command(
    case: CaseArg,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="table: readable tables; json: the analysis as data."),
    ] = OutputFormat.table,
    export: Annotated[
        GraphExport | None, typer.Option(help="Print the case's graph instead of its analysis.")
    ] = None,
    lang: Annotated[
        Language | None,
        typer.Option(
            help="Language of the tables, and of the names when the case translates them "
            "(default: English words, the case's own names); JSON is data, the same in both.",
            show_default=False,
        ),
    ] = None,
    width: WidthOption = None,
) -> None:
    """Analyse the stakeholder graph: contests, coalitions, power, brokers, missing dialogue."""
    from rich.console import Console

    from ..errors import GraphError, RenderError
    from ..rendering.graph_tables import graph_command_output

    loaded = read_case(case, fmt)
    try:
        output = graph_command_output(
            loaded,
            fmt=fmt.value,
            export=export.value if export else None,
            lang=lang.value if lang else None,
        )
    except (GraphError, RenderError) as exc:
        fail_on(exc, case, fmt)
    if isinstance(output, str):
        typer.echo(output)
        return
    console = Console(width=width)
    for part in output:  # one print each: a one-line section must keep its own line
        console.print(part, crop=False)  # too wide shows, never cut
