"""The ``mediation`` command line: the terminal edge of the library (reads files, prints).

Exit codes: 0 success, 2 invalid input (case, policy or command line), 1 internal or solver error.
Heavy modules are imported inside the commands so that ``mediation --help`` starts fast.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, NoReturn

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
    from .case import guess_format, load_case
    from .case.limits import MAX_DOCUMENT_BYTES
    from .errors import CaseError

    try:
        if path == "-":
            data = _read_at_most(sys.stdin.buffer, MAX_DOCUMENT_BYTES)
        else:
            with Path(path).open("rb") as file:
                data = _read_at_most(file, MAX_DOCUMENT_BYTES)
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except IsADirectoryError:
        _fail(f"{path}: is a directory, not a case file")
    except OSError as exc:
        _fail(f"{path}: cannot read ({exc.strerror})")
    if data is None:
        _fail(f"{path}: the document is larger than the limit of {MAX_DOCUMENT_BYTES} bytes")
    try:
        return load_case(data, format=guess_format(path))
    except CaseError as exc:
        _fail(f"{path}: {exc}")


#: Bytes read at a time: small enough that a stream far over the limit costs no more memory
#: than the limit itself.
_CHUNK = 1 << 20


def _read_at_most(stream: BinaryIO, limit: int) -> bytes | None:
    """The whole of ``stream`` when it holds at most ``limit`` bytes, else ``None``.

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


@app.command()
def validate(case: CaseArg) -> None:
    """Check a case file (and that its policy can apply); exit 0 when valid, 2 when not."""
    from .errors import PolicyError
    from .rules import policy_problems

    loaded = _read_case(case)
    problems = policy_problems(loaded, loaded.policy)
    if problems:
        _fail(f"{case}: {PolicyError(problems)}")
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


class Scale(StrEnum):
    raw = "raw"
    normalized = "normalized"


class Language(StrEnum):
    en = "en"
    zh = "zh"


class Solver(StrEnum):
    highs = "highs"
    cbc = "cbc"


RULE_HELP = (
    "Fair-division rule: utilitarian, maximin, leximin, nash, kalai_smorodinsky, "
    "adjusted_winner or claims (default: the case's policy)."
)


@app.command()
def settle(
    case: CaseArg,
    rule: Annotated[str | None, typer.Option(help=RULE_HELP)] = None,
    scale: Annotated[Scale | None, typer.Option(help="Compare raw or normalized gains.")] = None,
    method: Annotated[
        str | None,
        typer.Option(
            help="Claims method: proportional, constrained_equal_awards, "
            "constrained_equal_losses or talmud."
        ),
    ] = None,
    individually_rational: Annotated[
        bool | None,
        typer.Option(
            "--individually-rational/--no-individually-rational",
            help="Keep every party at or above its no-deal outcome.",
        ),
    ] = None,
    envy_free: Annotated[
        bool | None, typer.Option("--envy-free/--no-envy-free", help="Forbid envy over resources.")
    ] = None,
    proportional: Annotated[
        bool | None,
        typer.Option(
            "--proportional/--no-proportional",
            help="Give each party its proportional share of resources.",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table: readable; json: the settlement.")
    ] = OutputFormat.table,
    lang: Annotated[Language, typer.Option(help="Language of the explanation.")] = Language.en,
    solver: Annotated[Solver, typer.Option(help="LP/MIP solver.")] = Solver.highs,
    time_limit: Annotated[
        float, typer.Option(min=0.001, help="Seconds allowed for the whole settlement.")
    ] = 60.0,
) -> None:
    """Propose a settlement, with its reasons; diagnose why when no deal is possible.

    Exit 0 when a settlement is printed (an infeasible one with its diagnosis included),
    2 for invalid input, 1 for a solver or internal error.
    """
    from .engine import settle as settle_case
    from .errors import CaseError, PolicyError

    started = time.perf_counter()
    loaded = _read_case(case)
    if time_limit > 0:  # the limit counts from here: reading a large case takes seconds
        time_limit = max(time_limit - (time.perf_counter() - started), 1e-3)
    try:
        result = settle_case(
            loaded,
            rule=rule,
            scale=scale.value if scale else None,
            method=method,
            individually_rational=individually_rational,
            envy_free=envy_free,
            proportional=proportional,
            solver=solver.value,
            time_limit=time_limit,
        )
    except (CaseError, PolicyError) as exc:
        _fail(f"{case}: {exc}")
    if fmt == OutputFormat.json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from rich.console import Console

        from .settlement_tables import settlement_tables

        console = Console()
        for part in settlement_tables(result, loaded, lang=lang.value):
            console.print(part)
    if result.status == "error":
        raise typer.Exit(1)


class GraphExport(StrEnum):
    node_link = "node-link"
    graphml = "graphml"


@app.command()
def graph(
    case: CaseArg,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="table: readable tables; json: the analysis as data."),
    ] = OutputFormat.table,
    export: Annotated[
        GraphExport | None, typer.Option(help="Print the case's graph instead of its analysis.")
    ] = None,
) -> None:
    """Analyse the stakeholder graph: contests, coalitions, power, brokers, missing dialogue."""
    from rich.console import Console

    from .graph_tables import graph_command_output

    output = graph_command_output(
        _read_case(case), fmt=fmt.value, export=export.value if export else None
    )
    if isinstance(output, str):
        typer.echo(output)
        return
    console = Console()
    for part in output:  # one print each: a one-line section must keep its own line
        console.print(part)


def _exit_on_signal(signum: int, _frame: object) -> None:
    # unwinding (instead of dying) lets every `finally` run: a CBC solve stops its
    # watchdog, which kills CBC and removes the solve's files
    raise SystemExit(128 + signum)


def main() -> None:
    """Entry point of the console script."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    app()
