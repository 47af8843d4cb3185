"""``mediation schema``: print the JSON Schema of the case format or of a result contract."""

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
    evaluation: Annotated[
        bool,
        typer.Option(
            "--evaluation",
            help="Print the schema of a what-if's evaluation (evaluate --format json) instead.",
        ),
    ] = False,
    comparison: Annotated[
        bool,
        typer.Option(
            "--comparison",
            help="Print the schema of a comparison of rules (compare --format json) instead.",
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of the case format, or of a settlement, evaluation or comparison."""
    if comparison:
        from ..comparison import comparison_json_schema

        print_json(comparison_json_schema())
        return
    if evaluation:
        from ..evaluation import evaluation_json_schema

        print_json(evaluation_json_schema())
        return
    if settlement:
        from ..settlement import settlement_json_schema

        print_json(settlement_json_schema())
        return
    from ..case import case_json_schema

    print_json(case_json_schema())
