"""The typer app of the command line, the helpers its commands share, and its entry point.

The commands are not listed here: each is a function in the entry-point group
``mediation.commands`` (see :data:`COMMANDS`), added to the app by :func:`add_commands`, so that
another package installed beside the library (the service's ``serve`` and ``keys``) adds its
own commands without the library importing it. A command module imports little more than
typer at its top and its heavy modules inside the command, so that ``mediation --help`` starts
fast.

Exit codes: 0 success, 2 invalid input (case, policy or command line), 1 internal or solver error.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

import typer

if TYPE_CHECKING:
    from ..case import Case

__all__ = [
    "COMMANDS",
    "CaseArg",
    "OutputFormat",
    "add_commands",
    "app",
    "fail",
    "main",
    "read_case",
]

#: The entry-point group of the commands: each entry point names a typer command function,
#: registered under the entry point's name, e.g. ``validate = "mediation.cli.validate:command"``.
COMMANDS = "mediation.commands"

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
    """What ``--format`` asks for: readable tables or JSON data."""

    table = "table"
    json = "json"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on standard error and exit with ``code`` (2: invalid input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_case(path: str) -> Case:
    """Return the case in the file at ``path`` (``-``: standard input), read within the size limit.

    Exit with 2 and the problems when it cannot be read or is not a valid case.
    """
    from ..case import guess_format, load_case
    from ..case.limits import MAX_DOCUMENT_BYTES
    from ..errors import CaseError

    try:
        if path == "-":
            data = _read_at_most(sys.stdin.buffer, MAX_DOCUMENT_BYTES)
        else:
            with Path(path).open("rb") as file:
                data = _read_at_most(file, MAX_DOCUMENT_BYTES)
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except IsADirectoryError:
        fail(f"{path}: is a directory, not a case file")
    except OSError as exc:
        fail(f"{path}: cannot read ({exc.strerror})")
    if data is None:
        fail(f"{path}: the document is larger than the limit of {MAX_DOCUMENT_BYTES} bytes")
    try:
        return load_case(data, format=guess_format(path))
    except CaseError as exc:
        fail(f"{path}: {exc}")


#: Bytes read at a time: small enough that a stream far over the limit costs no more memory
#: than the limit itself.
_CHUNK = 1 << 20


def _read_at_most(stream: BinaryIO, limit: int) -> bytes | None:
    """Return the whole of ``stream`` when it holds at most ``limit`` bytes, else ``None``.

    Reads at most ``limit + 1`` bytes, so that an endless stream (``/dev/zero``, a pipe that
    never closes its end) is refused instead of filling memory.
    """
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        size = 0  # not a file: a pipe, a terminal, a test's stream
    if size > limit:
        return None  # a regular file over the limit: no need to read it
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = stream.read(min(left, _CHUNK))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        left -= len(chunk)
    return None


#: The library's own commands, in the order the help lists them; other commands follow by name.
#: The library's own commands, in the help's order: registered even when the package's
#: entry points are not installed (running from a source tree).
BUILT_IN = ("validate", "schema", "settle", "graph")


def add_commands(app: typer.Typer) -> None:
    """Add the built-in commands, then every other command of the entry-point group, by name.

    The group is :data:`COMMANDS`; its other commands are another package's, e.g. the
    service's ``serve``.
    """
    from importlib import import_module

    for name in BUILT_IN:
        app.command(name=name)(import_module(f"mediation.cli.{name}").command)
    others = sorted(
        (e for e in entry_points(group=COMMANDS) if e.name not in BUILT_IN), key=lambda e: e.name
    )
    for entry in others:
        app.command(name=entry.name)(entry.load())


def _exit_on_signal(signum: int, _frame: object) -> None:
    # unwinding (instead of dying) lets every `finally` run: a CBC solve stops its
    # watchdog, which kills CBC and removes the solve's files
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the console script."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    app()
