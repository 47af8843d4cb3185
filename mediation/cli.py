"""The ``mediation`` command line: the terminal edge of the library (reads files, prints).

Exit codes: 0 success, 2 invalid input (case, policy or command line), 1 internal or solver error.
Heavy modules are imported inside the commands so that ``mediation --help`` starts fast.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from .case import Case

__all__ = ["app", "main"]

app = typer.Typer(
    name="mediation",
    help="Settle multi-party disputes fairly: validate a case, analyse its stakeholder graph, "
    "settle it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CaseArg = Annotated[str, typer.Argument(help="Case file (YAML or JSON), or - for standard input.")]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _read_case(path: str) -> Case:
    from .documents import guess_format, load_case
    from .errors import CaseError

    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except IsADirectoryError:
        _fail(f"{path}: is a directory, not a case file")
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
    try:
        return load_case(data, format=guess_format(path))
    except CaseError as exc:
        _fail(f"{path}: {exc}")


@app.command()
def validate(case: CaseArg) -> None:
    """Check a case file; exit 0 when valid, 2 with every problem listed when not."""
    loaded = _read_case(case)
    typer.echo(
        f"{case}: valid case '{loaded.id}' ({len(loaded.stakeholders)} stakeholders, "
        f"{len(loaded.issues)} issues, {len(loaded.interests)} interests, "
        f"{len(loaded.relations)} relations)"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of the case format."""
    from .case import case_json_schema

    typer.echo(json.dumps(case_json_schema(), ensure_ascii=False, indent=2))


def main() -> None:
    """Entry point of the console script."""
    app()
