"""The solve pool runs jobs in real worker processes: results, limits, deadlines, no orphans."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pool_jobs
import pytest
from conftest import CASES_DIR

import api.pool
from api.pool import (
    DeadlineExceeded,
    PoolError,
    PoolFull,
    PoolStats,
    SolvePool,
    WorkerCrashed,
)
from mediation import load_case

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find the workers' processes"
)


def synchronously(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test function in its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@contextlib.asynccontextmanager
async def started(**options: Any) -> AsyncIterator[SolvePool]:
    settings: dict[str, Any] = {"workers": 2, "queue_length": 4, "grace": 0.5, **options}
    pool = SolvePool(**settings)
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


async def until(condition: Callable[[], bool], *, timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; return whether it held."""
    ends = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > ends:
            return False
        await asyncio.sleep(0.01)
    return True


async def report_of(path: Path) -> dict[str, Any]:
    """Wait for a ``hang_with_child`` job to say which processes and directory it has."""
    assert await until(lambda: path.exists() and path.stat().st_size > 0)
    facts: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return facts


async def worker_pids(pool: SolvePool) -> set[int]:
    """Return the pids of every worker: as many jobs as workers, at once, take one each."""
    pids = await asyncio.gather(
        *(pool.run(pool_jobs.pid_after, 0.2, deadline=10) for _ in range(pool.stats().workers))
    )
    return set(pids)


# --- results ------------------------------------------------------------------------------


@synchronously
async def test_a_jobs_value_and_its_exception_come_back() -> None:
    async with started() as pool:
        assert await pool.run(pool_jobs.add, 2, 3, deadline=10) == 5
        with pytest.raises(LookupError, match=r"^no such party 'care_ng0'$"):
            await pool.run(pool_jobs.fail, "no such party 'care_ng0'", deadline=10)
        # an exception that cannot be rebuilt in the service is reported, not lost
        with pytest.raises(PoolError, match="_NeedsTwoError"):
            await pool.run(pool_jobs.unreturnable_exception, deadline=10)
        # and neither broke the worker
        assert await pool.run(pool_jobs.add, 1, 1, deadline=10) == 2
        assert pool.stats().restarts == 0
        assert pool.stats().completed == 4


@synchronously
async def test_a_large_case_and_result_cross_the_channel_whole() -> None:
    payload = os.urandom(8 << 20)
    async with started(workers=1) as pool:
        assert await pool.run(pool_jobs.echo, payload, deadline=30) == payload


@synchronously
async def test_a_worker_is_its_own_process_group_with_a_private_temp_dir() -> None:
    async with started(workers=1) as pool:
        facts = await pool.run(pool_jobs.worker_facts, deadline=10)
        assert facts["pid"] != os.getpid()
        assert facts["pgid"] == facts["pid"]
        assert facts["tmpdir"] == facts["TMPDIR"]
        assert Path(facts["tmpdir"]).name.startswith("solve-pool-")
        assert facts["preloaded"], "the worker should have the library imported before its job"
        # what a job leaves there is gone before the next job starts
        left = await pool.run(pool_jobs.leave_file, deadline=10)
        assert Path(left).parent == Path(facts["tmpdir"])
        await pool.run(pool_jobs.add, 0, 0, deadline=10)
        assert not Path(left).exists()
    assert not Path(facts["tmpdir"]).exists()


@synchronously
async def test_a_function_that_cannot_be_pickled_is_refused_in_the_caller() -> None:
    async with started(workers=1) as pool:
        # pickle says so with either error, depending on how it looked the function up
        with pytest.raises((pickle.PicklingError, AttributeError)):
            await pool.run(lambda: 1, deadline=10)
        assert pool.stats().restarts == 0
        assert await pool.run(pool_jobs.add, 1, 2, deadline=10) == 3


@synchronously
async def test_twenty_concurrent_jobs_on_two_workers_all_complete() -> None:
    async with started(workers=2, queue_length=18) as pool:
        jobs = [pool.run(pool_jobs.pid_after, 0.05, deadline=30) for _ in range(21)]
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        # two running and eighteen waiting fill the pool exactly: the twenty-first is turned away
        assert isinstance(outcomes[-1], PoolFull)
        pids = outcomes[:-1]
        assert all(isinstance(pid, int) for pid in pids)
        assert len(set(pids)) == 2
        assert pool.stats() == PoolStats(
            workers=2, alive=2, busy=0, queued=0, restarts=0, completed=20
        )


@synchronously
async def test_the_event_loop_runs_while_jobs_run() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with started(workers=1) as pool:
        ticker = asyncio.create_task(tick())
        await pool.run(pool_jobs.sleep, 0.5, deadline=10)
        ticker.cancel()
    # 50 ticks if the loop never waited on the worker; a loop blocked on it ticks ~once
    assert ticks >= 10


# --- admission and health -----------------------------------------------------------------


@synchronously
async def test_a_full_pool_turns_a_job_away_at_once_and_stays_healthy() -> None:
    async with started(workers=1, queue_length=1) as pool:
        assert pool.healthy()
        running_job = asyncio.create_task(pool.run(pool_jobs.sleep, 1.0, deadline=10))
        waiting_job = asyncio.create_task(pool.run(pool_jobs.sleep, 0.0, deadline=10))
        await until(lambda: pool.stats().busy == 1 and pool.stats().queued == 1)
        assert pool.stats() == PoolStats(
            workers=1, alive=1, busy=1, queued=1, restarts=0, completed=0
        )
        began = time.monotonic()
        with pytest.raises(PoolFull) as refused:
            await pool.run(pool_jobs.add, 1, 2, deadline=10)
        assert time.monotonic() - began < 0.1
        assert isinstance(refused.value.retry_after, int)
        assert refused.value.retry_after >= 1
        assert not running_job.done()
        # saturated within its deadlines is not wedged
        assert pool.healthy()
        assert await running_job == 1.0
        assert await waiting_job == 0.0
        assert pool.stats().completed == 2


@synchronously
async def test_health_follows_the_life_of_the_pool() -> None:
    pool = SolvePool(workers=2, queue_length=0)
    assert not pool.healthy()
    with pytest.raises(PoolError, match="new"):
        await pool.run(pool_jobs.add, 1, 2, deadline=10)
    await pool.start()
    assert pool.healthy()
    assert pool.stats().alive == 2
    with pytest.raises(ValueError, match="deadline"):
        await pool.run(pool_jobs.add, 1, 2, deadline=0)
    await pool.close()
    assert not pool.healthy()
    assert pool.stats().alive == 0
    with pytest.raises(PoolError, match="closed"):
        await pool.run(pool_jobs.add, 1, 2, deadline=10)
    await pool.close()  # twice is harmless


@synchronously
async def test_a_pool_that_cannot_replace_its_workers_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api.pool, "SHORT_HANDED_LIMIT", 0.3)
    monkeypatch.setattr(api.pool, "RESTART_BACKOFF", 0.05)
    async with started(workers=1) as pool:
        # as a broken deployment would: the replacement cannot import what it must preload
        monkeypatch.setattr(pool, "_preload", ("pool_jobs_no_such_module",))
        with pytest.raises(WorkerCrashed):
            await pool.run(pool_jobs.crash, 1, deadline=10)
        assert pool.healthy(), "a replacement is due: being short for a moment is healthy"
        assert await until(lambda: not pool.healthy(), timeout=3)
        assert pool.stats().alive == 0


@synchronously
async def test_a_pool_whose_workers_cannot_be_killed_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with started(workers=1, queue_length=0, grace=0.2) as pool:
        with monkeypatch.context() as patched:
            # as a worker stuck in the kernel (uninterruptible I/O) would: SIGKILL does nothing
            patched.setattr(pool, "_kill", lambda worker: None)
            with pytest.raises(DeadlineExceeded):
                await pool.run(pool_jobs.sleep, 5.0, deadline=0.2)
            assert await until(lambda: not pool.healthy(), timeout=2)
            assert pool.stats().busy == 1
    # closing killed it for real


# --- deadlines, crashes, cancellation -----------------------------------------------------


@synchronously
async def test_a_deadline_kills_the_worker_its_children_and_its_temp_dir(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    async with started(workers=1) as pool:
        job = asyncio.create_task(pool.run(pool_jobs.hang_with_child, str(report), deadline=1.0))
        facts = await report_of(report)
        assert running(facts["worker"])
        assert running(facts["child"])
        assert any(Path(facts["tmpdir"]).iterdir())
        began = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="killed"):
            await job
        assert time.monotonic() - began < 1.0 + 2.0
        assert not running(facts["worker"])
        assert await until(lambda: not running(facts["child"]), timeout=2)
        assert not Path(facts["tmpdir"]).exists()
        # a fresh worker took the slot
        assert await pool.run(pool_jobs.add, 1, 2, deadline=10) == 3
        assert facts["worker"] not in await worker_pids(pool)
        assert pool.stats().restarts == 1


@synchronously
async def test_a_job_whose_deadline_passes_in_the_queue_never_starts(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    async with started(workers=1, queue_length=1) as pool:
        (before,) = await worker_pids(pool)
        holder = asyncio.create_task(pool.run(pool_jobs.pid_after, 0.6, deadline=10))
        await until(lambda: pool.stats().busy == 1)
        with pytest.raises(DeadlineExceeded, match="never started"):
            await pool.run(pool_jobs.touch, str(marker), deadline=0.2)
        assert await holder == before
        await pool.run(pool_jobs.add, 0, 0, deadline=10)  # the queue is empty again
        assert not marker.exists()
        # nothing was killed for it
        assert pool.stats().restarts == 0
        assert await worker_pids(pool) == {before}


@pytest.mark.parametrize(
    ("job", "argument", "how"),
    [
        (pool_jobs.crash, 3, "exit code 3"),
        (pool_jobs.kill_self, signal.SIGSEGV, "killed by SIGSEGV"),
        (pool_jobs.kill_self, signal.SIGKILL, "killed by SIGKILL"),
    ],
    ids=["os._exit", "segfault", "oom-kill"],
)
@synchronously
async def test_a_worker_that_dies_fails_its_job_and_is_replaced(
    job: Callable[[int], None], argument: int, how: str
) -> None:
    async with started(workers=1) as pool:
        (before,) = await worker_pids(pool)
        with pytest.raises(WorkerCrashed, match=how):
            await pool.run(job, int(argument), deadline=10)
        assert await pool.run(pool_jobs.add, 1, 2, deadline=10) == 3
        assert await worker_pids(pool) != {before}
        assert pool.stats().restarts == 1
        assert pool.healthy()


@synchronously
async def test_a_worker_that_dies_while_idle_is_replaced() -> None:
    async with started(workers=2) as pool:
        victim, *_ = await worker_pids(pool)
        os.kill(victim, signal.SIGKILL)
        assert await until(lambda: pool.stats().restarts == 1 and pool.stats().alive == 2)
        pids = await worker_pids(pool)
        assert victim not in pids
        assert len(pids) == 2


@synchronously
async def test_cancelling_the_caller_kills_its_job(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    async with started(workers=1) as pool:
        job = asyncio.create_task(pool.run(pool_jobs.hang_with_child, str(report), deadline=30))
        facts = await report_of(report)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert await until(lambda: not running(facts["worker"]) and not running(facts["child"]))
        assert await until(lambda: not Path(facts["tmpdir"]).exists())
        assert await pool.run(pool_jobs.add, 1, 2, deadline=10) == 3
        assert pool.stats().restarts == 1


@synchronously
async def test_close_leaves_no_process_and_no_temp_dir(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    pool = SolvePool(workers=3, queue_length=2, grace=0.5)
    await pool.start()
    try:
        # as many jobs as workers, at once, take one idle worker each
        everywhere = [pool.run(pool_jobs.worker_facts, deadline=10) for _ in range(3)]
        workers = await asyncio.gather(*everywhere)
        hanging = asyncio.create_task(pool.run(pool_jobs.hang_with_child, str(report), deadline=30))
        facts = await report_of(report)
        waiting = [asyncio.create_task(pool.run(pool_jobs.sleep, 5, deadline=30)) for _ in range(4)]
        await until(lambda: pool.stats().queued == 2)
    finally:
        await pool.close()
    for task in (hanging, *waiting):
        with pytest.raises(PoolError, match="closed"):
            await task
    pids = {worker["pid"] for worker in workers}
    assert len(pids) == 3
    assert not any(running(pid) for pid in pids)
    assert await until(lambda: not running(facts["child"]), timeout=2)
    assert not any(Path(worker["tmpdir"]).exists() for worker in workers)
    assert pool.stats() == PoolStats(workers=3, alive=0, busy=0, queued=0, restarts=0, completed=3)


# --- the library in the pool --------------------------------------------------------------


@synchronously
async def test_the_library_settles_a_case_in_the_pool() -> None:
    case = load_case((CASES_DIR / "community-hall-dispute.yaml").read_text(encoding="utf-8"))
    document = case.model_dump(mode="json", exclude_defaults=True)
    async with started(workers=1) as pool:
        body = await pool.run(pool_jobs.settle_case, document, 20.0, deadline=60)
    assert body["status"] == "optimal"
    assert body["case_id"] == case.id


def test_the_folders_of_a_killed_service_are_removed_at_start(tmp_path: Path) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    orphan = tmp_path / f"solve-pool-{ended.pid}-abc"
    (orphan / "model.mps").parent.mkdir()
    (orphan / "model.mps").write_text("case content")
    live = tmp_path / f"solve-pool-{os.getppid()}-def"  # another service, still running
    live.mkdir()

    async def start_and_close() -> None:
        async with started(workers=1, queue_length=0, temp_dir=tmp_path):
            pass

    asyncio.run(start_and_close())
    assert not orphan.exists()
    assert live.exists()
