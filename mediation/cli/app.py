"""The typer app of the command line, the helpers its commands share, and its entry point.

The commands are not listed here: each is a function in the entry-point group
``mediation.commands`` (see :data:`COMMANDS`), added to the app by :func:`add_commands`, so that
another package installed beside the library (the service's ``serve`` and ``keys``) adds its
own commands without the library importing it. A command module imports little more than
typer at its top and its heavy modules inside the command, so that ``mediation --help`` starts
fast.

Exit codes: 0 success, 2 invalid input (case, policy or command line), 1 internal or solver error.

With ``--format json`` a command that fails prints a JSON error object on standard output
instead of a message on standard error (the exit code is the same), made in one place,
:func:`error_json`::

    {"error": {"kind": "case_error", "exit_code": 2, "case": "hall.yaml",
               "message": "hall.yaml: 1 problem in the case: ...",
               "problems": [{"path": "interests[1].stakeholder",
                             "code": "unknown_stakeholder", "message": "..."}]}}

``kind`` is one of :data:`ERROR_KINDS`.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import signal
import sys
from collections.abc import Iterable
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, NoReturn

import typer

if TYPE_CHECKING:
    from ..case import Case
    from ..errors import MediationError, Problem

__all__ = [
    "COMMANDS",
    "ERROR_KINDS",
    "CaseArg",
    "Language",
    "OutputFormat",
    "WidthOption",
    "add_commands",
    "app",
    "error_json",
    "fail",
    "fail_on",
    "main",
    "print_json",
    "problem_json",
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
    # click's plain help: rich's option tables cut long option names and help words with "…"
    # on an 80-column terminal; click's wraps every text in full
    rich_markup_mode=None,
)

CaseArg = Annotated[str, typer.Argument(help="Case file (YAML or JSON), or - for standard input.")]

#: ``--width N`` of the commands that print tables.
WidthOption = Annotated[
    int | None,
    typer.Option(
        min=20,
        help="Columns the tables may use (default: the terminal's width, or $COLUMNS).",
        show_default=False,
    ),
]


class OutputFormat(StrEnum):
    """What ``--format`` asks for: readable tables or JSON data."""

    table = "table"
    json = "json"


class Language(StrEnum):
    """What ``--lang`` asks for: English or Chinese words."""

    en = "en"
    zh = "zh"


#: The ``kind`` of a JSON error object: what could not be done.
ERROR_KINDS: tuple[str, ...] = (
    "read_error",  # the file cannot be read, or is not a YAML/JSON document (too large, not UTF-8)
    "case_error",  # the document is not a valid case
    "policy_error",  # the policy (or an option given on the command line) cannot apply
    "graph_error",  # the graph analysis cannot run
    "render_error",  # the result cannot be shown as asked
    "sweep_error",  # the sweep file is not valid, or does not fit the case, or needs an extra
    "interrupted",  # a sweep stopped by Ctrl-C (its results file keeps what was settled)
)


def problem_json(problem: Problem) -> dict[str, str]:
    """Return a problem as JSON data: its ``path``, ``code`` and ``message``."""
    return {"path": problem.path, "code": problem.code, "message": problem.message}


def error_json(
    kind: str,
    message: str,
    *,
    exit_code: int = 2,
    case: str | None = None,
    problems: Iterable[Problem] = (),
) -> dict[str, Any]:
    """Return the JSON error object a command prints with ``--format json`` when it fails.

    Parameters
    ----------
    kind
        One of :data:`ERROR_KINDS`.
    message
        What the text mode prints on standard error (after ``error:``).
    exit_code
        The command's exit code: 2 for invalid input, 1 for a solver or internal error.
    case
        The case file the command was given, if any.
    problems
        Every problem found, each with its path and code.
    """
    body: dict[str, Any] = {"kind": kind, "exit_code": exit_code}
    if case is not None:
        body["case"] = case
    body["message"] = message
    body["problems"] = [problem_json(p) for p in problems]
    return {"error": body}


def print_json(data: object) -> None:
    """Print data as indented JSON on standard output, Chinese kept as it is."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def fail(
    message: str,
    code: int = 2,
    *,
    fmt: OutputFormat = OutputFormat.table,
    kind: str = "case_error",
    case: str | None = None,
    problems: Iterable[Problem] = (),
    verdict: bool = False,
) -> NoReturn:
    """Report a failure and exit with ``code`` (2: invalid input).

    In table mode print ``error: message`` on standard error; with ``fmt`` json print
    :func:`error_json` on standard output instead. ``verdict`` (``mediation validate``) adds
    ``"valid": false``, ``case`` and ``problems`` at the top of the JSON object.
    """
    if fmt != OutputFormat.json:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(code)
    document = error_json(kind, message, exit_code=code, case=case, problems=problems)
    if verdict:
        document = {
            "valid": False,
            "case": case,
            "problems": document["error"]["problems"],
            **document,
        }
    print_json(document)
    raise typer.Exit(code)


def fail_on(
    exc: MediationError,
    case: str,
    fmt: OutputFormat = OutputFormat.table,
    *,
    kind: str | None = None,
    verdict: bool = False,
) -> NoReturn:
    """Report a library error about the file ``case`` (see :func:`fail`) and exit with 2.

    The error's kind follows its type (a :class:`~mediation.errors.CaseError` is a
    ``case_error``, ...) unless ``kind`` is given; the problems of a case or policy error
    are listed.
    """
    from ..errors import CaseError, GraphError, PolicyError, RenderError

    if kind is None:
        kinds: list[tuple[type[Exception], str]] = [
            (CaseError, "case_error"),
            (PolicyError, "policy_error"),
            (GraphError, "graph_error"),
            (RenderError, "render_error"),
        ]
        kind = next((name for type_, name in kinds if isinstance(exc, type_)), "case_error")
    problems: tuple[Problem, ...] = getattr(exc, "problems", ())
    fail(f"{case}: {exc}", fmt=fmt, kind=kind, case=case, problems=problems, verdict=verdict)


def read_input(
    path: str,
    fmt: OutputFormat = OutputFormat.table,
    *,
    what: str = "case file",
    verdict: bool = False,
) -> bytes:
    """Return the bytes of the file at ``path`` (``-``: standard input), within the size limit.

    Exit with 2 and a ``read_error`` when it cannot be read: missing, a directory, unreadable
    or larger than :data:`~mediation.case.limits.MAX_DOCUMENT_BYTES`. ``what`` names the file
    in the message about a directory (``case file``, ``sweep file``, ``what-if file``).
    """
    from ..case.limits import MAX_DOCUMENT_BYTES
    from ..errors import Problem

    def unreadable(message: str, code: str) -> NoReturn:
        fail(
            f"{path}: {message}",
            fmt=fmt,
            kind="read_error",
            case=path,
            problems=[Problem("", message, code)],
            verdict=verdict,
        )

    try:
        if path == "-":
            data = _read_at_most(sys.stdin.buffer, MAX_DOCUMENT_BYTES)
        else:
            with Path(path).open("rb") as file:
                data = _read_at_most(file, MAX_DOCUMENT_BYTES)
    except FileNotFoundError:
        unreadable("no such file", "not_found")
    except IsADirectoryError:
        unreadable(f"is a directory, not a {what}", "is_a_directory")
    except OSError as exc:
        unreadable(f"cannot read ({exc.strerror})", "unreadable")
    if data is None:
        unreadable(
            f"the document is larger than the limit of {MAX_DOCUMENT_BYTES} bytes", "too_large"
        )
    return data


def read_case(path: str, fmt: OutputFormat = OutputFormat.table, *, verdict: bool = False) -> Case:
    """Return the case in the file at ``path`` (``-``: standard input), read within the size limit.

    Exit with 2 and the problems when it cannot be read (a ``read_error``: missing, a
    directory, too large, not UTF-8, not well-formed YAML or JSON) or is not a valid case
    (a ``case_error``); ``fmt`` and ``verdict`` are passed to :func:`fail`.
    """
    from ..case import guess_format, parse_case, parse_document
    from ..case.gc_pause import paused_gc
    from ..errors import CaseError

    data = read_input(path, fmt, verdict=verdict)
    with paused_gc():  # as load_case: one pause over reading and validating
        try:
            document = parse_document(data, format=guess_format(path))
        except CaseError as exc:
            fail_on(exc, path, fmt, kind="read_error", verdict=verdict)
        try:
            return parse_case(document)
        except CaseError as exc:
            fail_on(exc, path, fmt, verdict=verdict)


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


#: The library's own commands, in the help's order: registered even when the package's
#: entry points are not installed (running from a source tree).
BUILT_IN = ("validate", "schema", "settle", "evaluate", "compare", "sweep", "graph")


def add_commands(app: typer.Typer) -> None:
    """Add the built-in commands, then every other command of the entry-point group, by name.

    The group is :data:`COMMANDS`; its other commands are another package's, e.g. the
    service's ``serve``.
    """
    from importlib import import_module

    for name in BUILT_IN:
        _add(app, name, import_module(f"mediation.cli.{name}").command)
    others = sorted(
        (e for e in entry_points(group=COMMANDS) if e.name not in BUILT_IN), key=lambda e: e.name
    )
    for entry in others:
        _add(app, entry.name, entry.load())


def _add(app: typer.Typer, name: str, command: Any) -> None:
    """Register ``command`` as ``name``, its summary the first paragraph of its docstring.

    Given as the command's short help, the summary is listed in full by ``mediation --help``
    (click cuts the summary it makes itself to fit one line, ending it with "...").
    ``command`` may be a :class:`typer.Typer` of subcommands (the service's ``keys``).
    """
    if isinstance(command, typer.Typer):
        info = command.info
        doc = info.help if isinstance(info.help, str) else ""
        summary = " ".join(doc.split("\n\n")[0].split()) or None
        app.add_typer(command, name=name, short_help=summary)
        return
    doc = inspect.getdoc(command) or ""
    summary = " ".join(doc.split("\n\n")[0].split()) or None
    app.command(name=name, short_help=summary)(command)


def _exit_on_signal(signum: int, _frame: object) -> None:
    # unwinding (instead of dying) lets every `finally` run: a CBC solve stops its
    # watchdog, which kills CBC and removes the solve's files
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the console script."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    app()
