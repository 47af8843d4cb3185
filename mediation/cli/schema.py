"""``mediation schema``: print the JSON Schema of the case format."""

from __future__ import annotations

import json

import typer

__all__ = ["command"]


def command() -> None:
    """Print the JSON Schema of the case format."""
    from ..case import case_json_schema

    typer.echo(json.dumps(case_json_schema(), ensure_ascii=False, indent=2))
