"""The sweep manager: runs the stored sweeps in the background, one at a time, resumably.

Started and stopped with the app (its lifespan), the manager takes the oldest sweep with work
left (``queued``, or ``running`` when a server stopped, or died, while it ran), and settles
the scenarios not stored yet with the library's :func:`~mediation.sweep.iter_rows` on the
configured executor: a :class:`~concurrent.futures.ProcessPoolExecutor` of
``settings.sweep_workers`` processes (forked by multiprocessing's fork server: the service
has threads, which ``fork`` would copy mid-lock), or a Dask cluster's
(``settings.dask_scheduler``). The rows come in scenario order; each batch's rows are stored
with the progress in one transaction, so a sweep survives a restart as far as it got (the
library's resume: the stored scenarios are skipped, as ``mediation sweep --resume`` skips
the rows of its file). The summary is made from every row, those stored by an earlier run
read back and the new ones as they come, by the library's
:class:`~mediation.sweep.SummaryAccumulator`, with the robust split (its LP on the executor
too) when the sweep asks for one: the summary an uninterrupted
:func:`~mediation.sweep.run_sweep` gives.

One sweep runs at a time on a server; the others wait, oldest first. A cancellation (or the
server stopping) cancels the batches not started yet, so the runner stops within one batch;
the rows stored stay. The manager assumes it is the only one on its database: two servers
sharing a PostgreSQL would both run the oldest sweep (giving a sweep to one server would need
a lease, a column of the ``sweeps`` table).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future, wait
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from .logs import error_fields
from .settings import Settings
from .store.repo import Store
from .store.sweeps import SweepJob, SweepStore

if TYPE_CHECKING:
    from mediation.sweep import Row, SummaryAccumulator, SweepPlan

__all__ = ["POLL_SECONDS", "SweepManager", "load_plan"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds between looks at the store for sweeps when none is announced (another server
#: sharing the database may have queued one).
POLL_SECONDS = 5.0
#: Stored rows read back at a time (for the summary).
READ_CHUNK = 2_000


class _StoppedError(Exception):
    """The sweep was cancelled, or the server is stopping: leave the rest for later."""


def load_plan(case_document: str, spec_document: str) -> SweepPlan:
    """Return the plan of a stored sweep (its documents were checked when it was accepted).

    Raises
    ------
    mediation.errors.MediationError
        When they no longer make a plan (this engine is another than the one that checked them).
    """
    from mediation.case import parse_case, parse_document
    from mediation.sweep import parse_sweep, plan_sweep

    case = parse_case(parse_document(case_document, format="json"))
    return plan_sweep(case, parse_sweep(json.loads(spec_document)))


class _Run:
    """The sweep running now: its executor's futures, cancelled all at once to stop it."""

    def __init__(self, seq: int, executor: Executor) -> None:
        self.seq = seq
        self.stopped = threading.Event()
        self._executor = executor
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self.stopped.is_set():
                raise _StoppedError
            future = self._executor.submit(fn, *args, **kwargs)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)

    def stop(self) -> None:
        """Cancel the batches not started yet; the runner stops at its next step."""
        with self._lock:
            self.stopped.set()
            pending = list(self._futures)
        for future in pending:
            future.cancel()


class _Tracked(Executor):
    """The executor as :func:`~mediation.sweep.iter_rows` sees it: every future kept by the run."""

    def __init__(self, run: _Run) -> None:
        self._run = run

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        return self._run.submit(fn, *args, **kwargs)


class SweepManager:
    """Runs the stored sweeps in the background (see the module's documentation).

    Parameters
    ----------
    store
        The service's store.
    settings
        ``sweep_workers`` and ``dask_scheduler`` choose the executor.
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.sweeps = SweepStore(store)
        self._settings = settings
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = threading.Event()
        self._current: _Run | None = None
        self._lock = threading.Lock()
        self._executor: Executor | None = None
        self._workers = 1
        self._client: Any = None

    # --- life cycle (the event loop's side) ---------------------------------------------

    async def start(self) -> None:
        """Start running sweeps: first those a stopped server left queued or running."""
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="sweep-manager")

    async def close(self, timeout: float = 30.0) -> None:
        """Stop: the running sweep stops within a batch and stays ``running``, to resume."""
        self._closing.set()
        with self._lock:
            if self._current is not None:
                self._current.stop()
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                logger.warning("the sweep runner did not stop within %.0f s", timeout)
        await asyncio.to_thread(self._shutdown_executor)

    def submitted(self) -> None:
        """Say that a sweep was queued (call from the event loop)."""
        if self._wake is not None:
            self._wake.set()

    def cancelled(self, seq: int) -> None:
        """Say that sweep ``seq`` was cancelled in the store: if it is running, stop it now."""
        with self._lock:
            if self._current is not None and self._current.seq == seq:
                self._current.stop()

    async def _loop(self) -> None:
        assert self._wake is not None
        while not self._closing.is_set():
            self._wake.clear()  # before the look: a sweep queued during it wakes the next wait
            try:
                seq = await asyncio.to_thread(self.sweeps.next_job)
                if seq is not None:
                    await asyncio.to_thread(self._run, seq)
                    continue
            except Exception as exc:  # the database is away: try again later, never end the loop
                # (a SQL error's text holds its parameters: case content; only its type)
                logger.error("the sweep runner could not read the store", extra=error_fields(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    # --- running a sweep (the runner's thread) ------------------------------------------

    def _run(self, seq: int) -> None:
        job = self.sweeps.claim(seq)
        if job is None:
            return
        try:
            plan = load_plan(job.case_document, job.spec_document)
        except Exception as exc:
            logger.error("sweep %s no longer makes a plan", job.id, extra=error_fields(exc))
            self.sweeps.fail(seq, f"the sweep no longer makes a plan on this engine: {exc}")
            return
        try:
            executor = self._executor_now()
        except Exception as exc:
            logger.error("no executor for sweep %s", job.id, extra=error_fields(exc))
            self.sweeps.fail(seq, f"the sweep's executor cannot start: {exc}")
            return
        run = _Run(seq, executor)
        with self._lock:
            if self._closing.is_set():
                return
            self._current = run
        try:
            self._settle(job, plan, run)
        # CancelledError is not an Exception: a future cancelled under the sweep raises it
        except (Exception, CancelledError) as exc:
            if run.stopped.is_set():
                logger.info("sweep %s stopped (cancelled, or the server is stopping)", job.id)
                return
            logger.error("sweep %s failed", job.id, extra=error_fields(exc))
            if isinstance(exc, BrokenExecutor):  # a process died under it: start afresh
                self._shutdown_executor()
            self.sweeps.fail(seq, f"the sweep stopped: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._current = None

    def _settle(self, job: SweepJob, plan: SweepPlan, run: _Run) -> None:
        from mediation.sweep import SummaryAccumulator, default_batch_size, iter_rows

        # as run_sweep with the rows of an interrupted run: those stored count in the
        # summary and are not settled again; the new ones are counted as they come, so that
        # the summary costs no pass of its own at the end (a quarter of a millisecond a row)
        accumulator = SummaryAccumulator(plan)
        stored: set[int] = set()
        for row in self._stored_rows(job.seq, plan):
            accumulator.add(row)
            stored.add(int(row["scenario"]))
        size = default_batch_size(plan.scenarios, self._workers)
        batch: list[tuple[int, str]] = []

        def store() -> None:
            if not run.stopped.is_set() and not self.sweeps.add_rows(job.seq, batch):
                run.stop()  # cancelled in the store, perhaps by another server
            if run.stopped.is_set():
                raise _StoppedError
            batch.clear()

        columns = plan.columns
        rows = iter_rows(
            plan,
            executor=_Tracked(run),
            batch_size=size,
            skip=stored,
            max_pending=max(4, 4 * self._workers),
        )
        settled = len(stored)
        try:
            for row in rows:
                text = json.dumps(
                    {c: row[c] for c in columns},
                    ensure_ascii=False,
                    allow_nan=False,
                    separators=(",", ":"),
                )
                batch.append((int(row["scenario"]), text))
                accumulator.add(row)
                settled += 1
                # the rows come a batch at a time, in order: a full buffer is one batch
                if len(batch) >= size:
                    store()
        finally:
            if isinstance(rows, Generator):
                rows.close()  # cancels the batches still out
        if batch:
            store()
        if settled != plan.scenarios:
            self.sweeps.fail(job.seq, f"{settled} of the {plan.scenarios} rows are stored")
            return
        self._summarise(job, plan, run, accumulator)

    def _summarise(
        self, job: SweepJob, plan: SweepPlan, run: _Run, accumulator: SummaryAccumulator
    ) -> None:
        """Record the summary of every row (all in ``accumulator``), robust split included."""
        from mediation.sweep.robust import robust_report

        summary = accumulator.summary()
        if plan.spec.robust:  # as run_sweep: the robust split, when the sweep file asks
            future = run.submit(robust_report, plan, accumulator)
            while not future.done():
                wait([future], timeout=0.5)
                if run.stopped.is_set():
                    raise _StoppedError
            summary = summary.model_copy(update={"robust": future.result()})
        if self.sweeps.finish(job.seq, summary.model_dump_json()):
            logger.info("sweep %s done: %d scenarios", job.id, plan.scenarios)

    def _stored_rows(self, seq: int, plan: SweepPlan) -> Iterator[Row]:
        """Yield the stored rows in scenario order, checked to be this plan's columns."""
        columns = list(plan.columns)
        start = 0
        while True:
            texts = self.sweeps.stored_rows(seq, start=start, limit=READ_CHUNK)
            for text in texts:
                row: Row = json.loads(text)
                if list(row) != columns:
                    raise ValueError(
                        f"the stored row of scenario {row.get('scenario')} has other columns "
                        "than this engine's rows"
                    )
                yield row
            if len(texts) < READ_CHUNK:
                return
            start = int(json.loads(texts[-1])["scenario"]) + 1

    # --- the executor -------------------------------------------------------------------

    def _executor_now(self) -> Executor:
        if self._executor is not None:
            return self._executor
        address = self._settings.dask_scheduler
        if address:
            from distributed import Client

            client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
            self._client = client
            self._workers = sum(client.nthreads().values()) or 1  # type: ignore[no-untyped-call]
            self._executor = client.get_executor(pure=False)  # type: ignore[no-untyped-call]
            logger.info("sweeps run on the Dask cluster at %s (%d threads)", address, self._workers)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from .analysis_jobs import sweep_worker_init

            self._workers = self._settings.sweep_workers
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=sweep_worker_init,
                initargs=(os.getpid(),),
            )
            logger.info("sweeps run on %d local processes", self._workers)
        assert self._executor is not None
        return self._executor

    def _shutdown_executor(self) -> None:
        executor, self._executor = self._executor, None
        client, self._client = self._client, None
        if client is not None:  # Dask's executor cancels nothing on shutdown: the client does
            executor = None
            client.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
