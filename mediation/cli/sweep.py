"""``mediation sweep``: settle a case over the scenarios of a sweep file and summarise them.

The scenarios run on a local process pool by default (one worker per core, started with
``spawn``), on one process with ``--serial``, or on a Dask cluster with ``--scheduler
tcp://HOST:PORT`` (or the address in ``$MEDIATION_DASK_SCHEDULER``), through
``distributed.Client(address).get_executor()``: a :class:`concurrent.futures.Executor` like the
pool. Rows stream to ``-o FILE`` (``.jsonl``, ``.csv`` or ``.parquet``, see
:mod:`mediation.cli.sweep_files`) in scenario order; ``--resume`` continues an interrupted
sweep. Dask and pyarrow are the ``sweep`` extra (``pip install 'mediation[sweep]'``); without
it, asking for them is an error (exit 2) that says how to install them.

Exit codes: 0 done, 2 invalid input (case, sweep file, options, a results file of another
sweep, a missing extra), 1 an internal error, an unreachable cluster or a scenario the engine
could not settle (status error; the summary and the file still hold every row), 130 interrupted (the
rows settled so far are in the file; ``--resume`` goes on).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .app import CaseArg, Language, OutputFormat, WidthOption, fail, fail_on, print_json, read_case

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from rich.progress import Progress

    from ..case import Case
    from ..sweep import SweepSpec, SweepSummary
    from .sweep_files import ResultsFile

__all__ = ["SCHEDULER_ENV", "command"]

#: The environment variable holding the address of the Dask scheduler to use by default.
SCHEDULER_ENV = "MEDIATION_DASK_SCHEDULER"

_EXTRA = "pip install 'mediation[sweep]'"


def _missing(what: str, fmt: OutputFormat) -> NoReturn:
    fail(
        f"{what} needs the sweep extra (Dask distributed and pyarrow): {_EXTRA}",
        fmt=fmt,
        kind="sweep_error",
    )


def _read_sweep(path: str, fmt: OutputFormat) -> SweepSpec:
    """Return the sweep file at ``path``, read within the size limit and validated (else exit 2)."""
    from ..case import guess_format
    from ..errors import SweepError
    from ..sweep import load_sweep
    from .app import read_input

    data = read_input(path, fmt, what="sweep file")
    try:
        return load_sweep(data, format=guess_format(path))
    except SweepError as exc:
        fail_on(exc, path, fmt, kind="sweep_error")


def _quiet_worker() -> None:
    """Leave Ctrl-C to the main process, which stops the sweep and keeps what it wrote."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _executor(
    serial: bool, workers: int | None, scheduler: str | None, fmt: OutputFormat
) -> Iterator[tuple[Executor | None, dict[str, Any]]]:
    """Yield the executor the sweep runs on, and what it is (``kind``, ``workers``, ``address``)."""
    if serial:
        yield None, {"kind": "serial", "workers": 1}
        return
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            from distributed import Client
        except ImportError:
            _missing(f"--scheduler {address}", fmt)
        try:
            client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            fail(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                1,
                fmt=fmt,
                kind="sweep_error",
            )
        with client:
            threads = sum(client.nthreads().values()) or 1  # type: ignore[no-untyped-call]
            executor = client.get_executor(pure=False)  # type: ignore[no-untyped-call]
            yield executor, {"kind": "dask", "workers": threads, "address": address}
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    count = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_quiet_worker,
    ) as pool:
        yield pool, {"kind": "pool", "workers": count}


def command(
    case: CaseArg,
    sweep: Annotated[str, typer.Argument(help="Sweep file (YAML or JSON).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Results file, one row per scenario: .jsonl, .csv or .parquet (streamed as "
            "scenarios finish).",
            dir_okay=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(help="Continue the results file of an interrupted run of the same sweep."),
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing results file.")] = False,
    serial: Annotated[bool, typer.Option(help="Settle in this process, one at a time.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes of the local pool (default: one per core)."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help=f"Dask scheduler to run on, e.g. tcp://10.0.0.5:8786 (default: ${SCHEDULER_ENV})."
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Scenarios per task (default: 50, fewer for small sweeps)."),
    ] = None,
    robust: Annotated[
        bool | None,
        typer.Option(
            "--robust/--no-robust",
            help="Compute one robust split for all the scenarios (default: the sweep file's).",
        ),
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Show a progress bar on standard error (default: when it is a terminal).",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="table: readable tables; json: the summary as JSON."),
    ] = OutputFormat.table,
    lang: Annotated[
        Language, typer.Option(help="Language of the tables (en or zh).")
    ] = Language.en,
    width: WidthOption = None,
) -> None:
    """Settle a case over the scenarios of a sweep file; summarise each party's outcomes.

    Per party: the distribution of its shares, exposure and gain; how often a scenario is
    infeasible and which red lines are blamed; the scenarios worst for each party. Exit 0
    when done, 2 for invalid input, 1 for an internal error or a scenario ending in error,
    130 when interrupted (the
    results file keeps what was settled; run again with --resume).
    """
    from ..errors import PolicyError, SweepError
    from ..sweep import plan_sweep, run_sweep

    loaded = read_case(case, fmt)
    spec = _read_sweep(sweep, fmt)
    try:
        plan = plan_sweep(loaded, spec)
    except SweepError as exc:
        fail_on(exc, sweep, fmt, kind="sweep_error")
    except PolicyError as exc:
        fail_on(exc, sweep, fmt)
    if spec.robust if robust is None else robust:
        from ..sweep.robust import robust_problems

        refused = robust_problems(loaded)
        if refused:  # before any scenario is solved, not after all of them
            fail_on(SweepError(refused), sweep, fmt, kind="sweep_error")
    if serial and (workers or scheduler):
        fail("--serial runs in this process: leave out --workers and --scheduler", fmt=fmt)
    results: ResultsFile | None = None
    done: Iterable[dict[str, Any]] = ()
    if output is not None:
        from .sweep_files import ResultsFile

        try:
            results = ResultsFile(output, plan)
        except SweepError as exc:
            fail(exc.problems[0].message, fmt=fmt, kind="sweep_error")
        if results.kind == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                _missing(f"writing {output}", fmt)
        if results.exists() and resume:
            done = _checked_rows(results, fmt)
        elif results.exists() and not force:
            fail(f"{output} exists: --resume continues it, --force starts it afresh", fmt=fmt)
        else:
            try:
                results.start()
            except OSError as exc:
                fail(f"{output}: cannot write ({exc.strerror})", fmt=fmt, kind="read_error")
    started = time.perf_counter()
    settled = 0
    with _executor(serial, workers, scheduler, fmt) as (executor, run):
        bar = _progress_bar(progress, fmt, plan.scenarios, lang)

        def on_row(row: dict[str, Any]) -> None:
            nonlocal settled
            settled += 1
            if results is not None:
                results.write(row)
            if bar is not None:
                bar.advance(bar.task_ids[0])

        try:
            if bar is not None:
                bar.start()
            summary = run_sweep(
                plan,
                executor=executor,
                batch_size=batch_size,
                done=_counted(done, bar),
                on_row=on_row,
                max_pending=max(4, 4 * int(run["workers"])),
                robust=robust,
            )
        except OSError as exc:  # a full disk, a lost connection to the cluster
            if results is not None:
                results.close()
            fail(f"the sweep stopped: {exc}", 1, fmt=fmt, kind="sweep_error")
        except Exception as exc:
            # Ctrl-C inside a library that wraps what it catches (pydantic serialising a
            # settlement) arrives as that library's error, the interrupt as its cause
            if not _interrupt_in(exc):
                raise
            interrupted = True
        except KeyboardInterrupt:
            interrupted = True
        else:
            interrupted = False
        finally:
            if bar is not None:
                bar.stop()
        if interrupted:
            if results is None:
                fail("interrupted", 130, fmt=fmt, kind="interrupted")
            results.finish(complete=False)
            fail(
                f"interrupted: {results.rows} of {plan.scenarios} scenarios are in {output}; "
                "run again with --resume to settle the rest",
                130,
                fmt=fmt,
                kind="interrupted",
            )
    if results is not None:
        results.finish(complete=True)
    run.update(
        seconds=round(time.perf_counter() - started, 3),
        settled_now=settled,
        output=None if output is None else str(output),
    )
    _report(summary, loaded, run, fmt, lang, width)
    if summary.errors:  # as settle: a scenario the engine could not settle is exit 1
        raise typer.Exit(1)


def _checked_rows(results: ResultsFile, fmt: OutputFormat) -> Iterator[dict[str, Any]]:
    """Return the rows of a results file to resume, its header checked first (else exit 2)."""
    from ..errors import SweepError

    rows = results.resume()
    try:
        first = next(rows, None)
    except SweepError as exc:
        fail(exc.problems[0].message, fmt=fmt, kind="read_error")

    def all_rows() -> Iterator[dict[str, Any]]:
        if first is None:
            return
        yield first
        try:
            yield from rows
        except SweepError as exc:
            fail(exc.problems[0].message, fmt=fmt, kind="read_error")

    return all_rows()


def _counted(rows: Iterable[dict[str, Any]], bar: Progress | None) -> Iterator[dict[str, Any]]:
    """Yield the rows read back from a results file, each one advancing the progress bar."""
    for row in rows:
        if bar is not None:
            bar.advance(bar.task_ids[0])
        yield row


def _progress_bar(
    progress: bool | None, fmt: OutputFormat, total: int, lang: Language
) -> Progress | None:
    """Return a rich progress bar on standard error, or ``None`` when it is not wanted."""
    show = progress if progress is not None else sys.stderr.isatty()
    if not show or fmt == OutputFormat.json:
        return None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..rendering.phrases import section

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    bar.add_task(section(lang.value, "sweep")["progress"], total=total)  # task 0
    return bar


def _report(
    summary: SweepSummary,
    case: Case,
    run: dict[str, Any],
    fmt: OutputFormat,
    lang: Language,
    width: int | None,
) -> None:
    """Print the summary (tables, or JSON with how the run went beside it)."""
    if fmt == OutputFormat.json:
        print_json({"summary": summary.model_dump(mode="json"), "run": run})
        return
    from rich.console import Console
    from rich.text import Text

    from ..rendering.numbers import format_number
    from ..rendering.phrases import section
    from ..rendering.sweep_tables import sweep_tables

    console = Console(width=width)
    for part in sweep_tables(summary, case, lang=lang.value):
        console.print(part, crop=False)
    words = section(lang.value, "sweep")
    seconds = float(run["seconds"])
    on = words[f"run_{run['kind']}"].format(
        workers=format_number(run["workers"], lang=lang.value), address=run.get("address")
    )
    line = words["run"].format(
        count=format_number(run["settled_now"], lang=lang.value),
        seconds=format_number(seconds, lang=lang.value),
        rate=format_number(run["settled_now"] / seconds if seconds > 0 else 0.0, lang=lang.value),
        executor=on,
    )
    if run["output"] is not None:
        line += words["run_output"].format(output=run["output"])
    console.print(Text(line), crop=False)


def _interrupt_in(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the causes of ``exc``."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return False
