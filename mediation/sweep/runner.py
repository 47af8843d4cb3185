"""Running a sweep on any :class:`concurrent.futures.Executor`, rows streamed in scenario order.

Scenarios go to the executor in batches (:class:`~mediation.sweep.worker.Batch`, plain data)
so that the cost of a task (pickling, scheduling: a few milliseconds on a Dask cluster) is
shared by many settlements. At most ``max_pending`` batches are out at a time, counting the
ones finished but waiting for an earlier one; rows are yielded in scenario order as soon as
every earlier scenario is done. So memory stays bounded (``max_pending × batch_size`` rows,
never a settlement beyond the one being assembled), the rows of a sweep are the same
whichever executor ran them and however they were batched, and a file written from them
grows as a prefix of the complete one: an interrupted sweep resumes where it stopped and
ends byte for byte as an uninterrupted run.

Without an executor the batches run one after the other in this process.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from ..errors import Problem, SweepError
from .plan import SweepPlan
from .summary import SummaryAccumulator, SweepSummary
from .worker import Batch, Row, settle_batch

__all__ = ["DEFAULT_BATCH_SIZE", "batches", "default_batch_size", "iter_rows", "run_sweep"]

logger = logging.getLogger(__name__)

#: The most scenarios in one batch by default: ~50 small settlements per task doubled a Dask
#: cluster's throughput over one per task (``performance-notes.md``).
DEFAULT_BATCH_SIZE = 50


def default_batch_size(scenarios: int, workers: int | None = None) -> int:
    """Return a batch size that shares the task overhead and still keeps every worker busy.

    :data:`DEFAULT_BATCH_SIZE`, or less for a small sweep, so that each of ``workers``
    (default: the machine's cores) gets about four batches.

    Examples
    --------
    >>> default_batch_size(100_000, 2), default_batch_size(40, 2), default_batch_size(1, 8)
    (50, 5, 1)
    """
    workers = workers or os.cpu_count() or 1
    return max(1, min(DEFAULT_BATCH_SIZE, math.ceil(scenarios / (4 * workers))))


def batches(
    plan: SweepPlan, *, batch_size: int | None = None, skip: Collection[int] = ()
) -> Iterator[Batch]:
    """Yield the batches of the scenarios not in ``skip``, in scenario order, made lazily.

    Raises
    ------
    SweepError
        When ``batch_size`` is below 1.
    """
    size = default_batch_size(plan.scenarios) if batch_size is None else batch_size
    if size < 1:
        raise SweepError([Problem("batch_size", f"must be at least 1, got {size}", "too_small")])
    chunk: list[tuple[int, int, int, tuple[float, ...]]] = []
    number = 0
    for index in range(plan.scenarios):
        if index in skip:
            continue
        s = plan.scenario(index)
        chunk.append((s.index, s.grid_point, s.sample, s.values))
        if len(chunk) == size:
            yield _batch(plan, number, chunk)
            number += 1
            chunk = []
    if chunk:
        yield _batch(plan, number, chunk)


def _batch(
    plan: SweepPlan, number: int, chunk: list[tuple[int, int, int, tuple[float, ...]]]
) -> Batch:
    return Batch(
        number=number,
        case_json=plan.case_json,
        case_sha256=plan.case_sha256,
        targets=plan.targets,
        scenarios=tuple(chunk),
        time_limit=plan.spec.time_limit,
    )


def iter_rows(
    plan: SweepPlan,
    *,
    executor: Executor | None = None,
    batch_size: int | None = None,
    skip: Collection[int] = (),
    max_pending: int | None = None,
) -> Iterator[Row]:
    """Yield the row of every scenario not in ``skip``, in scenario order, as they are settled.

    Parameters
    ----------
    plan
        The sweep (:func:`mediation.sweep.plan_sweep`).
    executor
        Where the batches run: a process pool, a Dask client's executor, any
        :class:`concurrent.futures.Executor`; ``None`` runs them here, one after the other.
    batch_size
        Scenarios per task (default :func:`default_batch_size`).
    skip
        Scenarios not to settle (those already written by an interrupted run).
    max_pending
        Batches out at a time, finished ones waiting for an earlier one included (default:
        four per core, at least 4); it bounds memory and keeps the workers busy.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep, plan_sweep
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1,
    ...     "parameters": [{"path": "pins.x.a", "grid": [0.1, 0.2, 0.3]}]}))
    >>> [row["scenario"] for row in iter_rows(plan, batch_size=2, skip={1})]
    [0, 2]
    """
    todo = batches(plan, batch_size=batch_size, skip=skip)
    if executor is None:
        for batch in todo:
            yield from settle_batch(batch)
        return
    window = max_pending or max(4, 4 * (os.cpu_count() or 1))
    pending: dict[Future[list[Row]], int] = {}
    ready: dict[int, list[Row]] = {}
    following = 0  # the number of the next batch to yield
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) + len(ready) < window:
                following_batch = next(todo, None)
                if following_batch is None:
                    exhausted = True
                    break
                pending[executor.submit(settle_batch, following_batch)] = following_batch.number
            if following in ready:
                yield from ready.pop(following)
                following += 1
                continue
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                ready[pending.pop(future)] = future.result()
    finally:
        for future in pending:
            future.cancel()


def run_sweep(
    plan: SweepPlan,
    *,
    executor: Executor | None = None,
    batch_size: int | None = None,
    done: Iterable[Row] = (),
    on_row: Callable[[Row], None] | None = None,
    max_pending: int | None = None,
    robust: bool | None = None,
) -> SweepSummary:
    """Settle every scenario of a sweep and return its summary; rows go to ``on_row`` in order.

    Parameters
    ----------
    plan
        The sweep (:func:`mediation.sweep.plan_sweep`).
    executor, batch_size, max_pending
        As for :func:`iter_rows`.
    done
        Rows of scenarios already settled (read back from an interrupted run's file): they
        count in the summary and are not settled again.
    on_row
        Called with each new row as it comes, in scenario order (e.g. to write it).
    robust
        Compute the robust split after the sweep (:mod:`mediation.sweep.robust`); default:
        the sweep file's ``robust``.

    Returns
    -------
    SweepSummary
        The same for the same case, sweep and seed, whatever the executor, the batches or the
        point an earlier run stopped at.

    Examples
    --------
    >>> from mediation.case import parse_case
    >>> from mediation.sweep import parse_sweep, plan_sweep
    >>> case = parse_case({"id": "t", "title": "t",
    ...     "stakeholders": [{"id": "a", "name": "A", "kind": "other"},
    ...                      {"id": "b", "name": "B", "kind": "other"}],
    ...     "issues": [{"id": "x", "name": "X", "kind": "resource", "amount": 10}],
    ...     "interests": [{"stakeholder": "a", "issue": "x", "value": 1},
    ...                   {"stakeholder": "b", "issue": "x", "value": 1}]})
    >>> plan = plan_sweep(case, parse_sweep({"sweep_version": "1.0", "seed": 1,
    ...     "parameters": [{"path": "pins.x.a", "grid": [0.2, 0.4, 0.6]}]}))
    >>> summary = run_sweep(plan)
    >>> summary.feasible, summary.parties["a"].gain.mean, summary.parties["b"].gain.p50
    (3, 0.4, 0.6)
    """
    from .robust import robust_report

    accumulator = SummaryAccumulator(plan)
    seen: set[int] = set()
    for row in done:
        accumulator.add(row)
        seen.add(int(row["scenario"]))
    for row in iter_rows(
        plan, executor=executor, batch_size=batch_size, skip=seen, max_pending=max_pending
    ):
        accumulator.add(row)
        if on_row is not None:
            on_row(row)
    summary = accumulator.summary()
    if plan.spec.robust if robust is None else robust:
        summary = summary.model_copy(update={"robust": robust_report(plan, accumulator)})
    return summary
