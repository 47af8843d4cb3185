"""``mediation schema``: print the JSON Schema of the case format, or of the settlement."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import print_json

__all__ = ["command"]


def command(
    settlement: Annotated[
        bool,
        typer.Option(
            "--settlement",
            help="Print the schema of the settlement (what settle --format json prints) instead.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of the case format (or, with --settlement, of the settlement)."""
    if settlement:
        from ..settlement import settlement_json_schema

        print_json(settlement_json_schema())
        return
    from ..case import case_json_schema

    print_json(case_json_schema())
