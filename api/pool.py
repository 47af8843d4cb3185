"""The bounded pool of worker processes every solve runs in: hard deadlines, no orphans.

Each job runs in a worker process of its own, forked by multiprocessing's fork server from a
process that has imported the library already, so a replacement is ready in milliseconds
rather than the second an import of the LP stack takes. A worker is the leader of its own
process group and has a private temporary directory: when a job overruns its hard deadline,
or its caller goes away, the worker and everything it started (a CBC solver and its
watchdog) are killed with one ``killpg``, the directory is removed, and a fresh worker takes
the slot. The library's own ``time_limit`` is the soft limit (the settlement then says the
solver stopped early); the pool's deadline is the hard one, for a solve that ignores it.

Admission is immediate: with every worker busy and the queue full, :meth:`SolvePool.run`
raises :class:`PoolFull` at once (the service answers 503 with its ``retry_after``); a job
never waits in an unbounded queue.

POSIX only (process groups, ``killpg``); the kernel's parent-death signal that takes workers
down with the service is Linux's.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib
import logging
import math
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import ForkServerProcess
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

__all__ = [
    "DeadlineExceeded",
    "PoolError",
    "PoolFull",
    "PoolStats",
    "SolvePool",
    "WorkerCrashed",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a worker may take from its launch to its first message. The first launch in a
#: process also waits for the fork server to import the preloaded modules.
START_TIMEOUT = 60.0

#: Seconds the pool may run with fewer live workers than configured (a replacement starting)
#: and still call itself healthy.
SHORT_HANDED_LIMIT = 5.0

#: Seconds before the first retry of a replacement that failed to start; doubled at each
#: failure up to :data:`RESTART_BACKOFF_MAX`.
RESTART_BACKOFF = 0.5
RESTART_BACKOFF_MAX = 30.0

#: A message on a worker's channel: its length (8 bytes, network order), then a pickle.
_HEADER = struct.Struct("!Q")

#: Linux's ``prctl`` option for the signal a process gets when its parent ends.
_PR_SET_PDEATHSIG = 1


class PoolError(Exception):
    """The pool could not run a job; the base of the pool's errors."""


# the three names say what happened, which an "Error" suffix would not improve
class PoolFull(PoolError):  # noqa: N818
    """Every worker is busy and the queue is full: try again in ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(PoolError):  # noqa: N818
    """The job's deadline passed; had it started, its worker was killed and replaced."""


class WorkerCrashed(PoolError):  # noqa: N818
    """The worker died during the job (a crash, ``os._exit``, the kernel's OOM killer)."""


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A snapshot of a :class:`SolvePool`.

    Attributes
    ----------
    workers
        The configured number of workers.
    alive
        Workers started and ready, idle or busy (not those being killed or starting).
    busy
        Workers running a job; a worker killed during a job counts until it has exited.
    queued
        Jobs admitted and waiting for a worker.
    restarts
        Workers replaced after a deadline, a crash, a cancelled job or a death while idle.
    completed
        Jobs that ran to their end in a worker, returning a value or raising.
    """

    workers: int
    alive: int
    busy: int
    queued: int
    restarts: int
    completed: int


class _Channel(asyncio.Protocol):
    """The pool's end of one worker's socket: length-prefixed pickles, both ways.

    Why a protocol on the event loop rather than ``Connection.recv`` in a thread: the loop's
    transport reads the socket only when it is readable (``add_reader`` underneath) and
    buffers what it writes, so neither a large case going out nor a large settlement coming
    back ever blocks the loop, however many jobs are in flight, and a job's deadline or
    cancellation interrupts the wait at once; a thread per running job would tie up the loop's
    default executor (a handful of threads on a small machine) and could not be interrupted.
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._messages: deque[bytes] = deque()
        self._waiter: asyncio.Future[bytes] | None = None
        self._lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + size
            if len(self._buffer) < end:
                return
            message = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(message)
                self._waiter = None
            else:
                self._messages.append(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(EOFError("the worker's end of its channel closed"))

    async def receive(self) -> bytes:
        """Return the next whole message; raise :class:`EOFError` once the worker is gone."""
        if self._messages:
            return self._messages.popleft()
        if self._lost:
            raise EOFError("the worker's end of its channel closed")
        self._waiter = asyncio.get_running_loop().create_future()
        return await self._waiter

    def send(self, payload: bytes) -> None:
        """Queue one message for the worker (the transport writes it as the socket allows)."""
        if self._transport is None or self._transport.is_closing():
            raise EOFError("the worker's channel is closed")
        self._transport.write(_HEADER.pack(len(payload)))
        self._transport.write(payload)

    @property
    def attached(self) -> bool:
        """Whether the socket was handed to the event loop (which then owns and closes it)."""
        return self._transport is not None

    def close(self) -> None:
        """Close the pool's end."""
        if self._transport is not None:
            self._transport.close()


class _Worker:
    """One worker process as the pool sees it, from its launch to its reaping."""

    def __init__(
        self,
        process: ForkServerProcess,
        parent_end: socket.socket,
        child_end: socket.socket,
        folder: str,
        exited: asyncio.Future[None],
    ) -> None:
        self.process = process
        self.parent_end = parent_end
        self.child_end = child_end
        self.folder = folder
        #: set when the process has ended (its sentinel became readable)
        self.exited = exited
        self.channel = _Channel()
        self.pid: int | None = None
        self.launch: asyncio.Task[None] | None = None
        self.retirement: asyncio.Task[int | None] | None = None
        self.watching = False
        self.ready = False
        self.busy = False
        #: the event loop's time at which the running job's deadline passes
        self.expires = math.inf

    @property
    def alive(self) -> bool:
        """Ready for jobs or running one, and neither ended nor being killed."""
        return self.ready and self.retirement is None and not self.exited.done()


class SolvePool:
    """A bounded pool of worker processes that runs jobs under hard deadlines.

    Parameters
    ----------
    workers
        How many worker processes run jobs at once.
    queue_length
        How many more jobs may wait for a worker; past that, :meth:`run` raises
        :class:`PoolFull` at once.
    grace
        Seconds a killed worker gets to exit before the pool reports it stuck, and past a
        job's deadline before a worker still busy with it counts as wedged (:meth:`healthy`).
    preload
        Modules every worker has imported before it takes a job. The fork server imports
        them once and forks the workers from it; it is one per process (multiprocessing's),
        so the first pool started decides what it holds, and a later pool's workers import
        whatever else they need themselves.
    temp_dir
        The folder in which each worker gets its private temporary directory (created if
        missing); ``None``: the system's (``tempfile.gettempdir()``).

    Examples
    --------
    >>> import asyncio, operator
    >>> async def main() -> int:
    ...     pool = SolvePool(workers=1, queue_length=0)
    ...     await pool.start()
    ...     try:
    ...         return await pool.run(operator.add, 2, 3, deadline=30)
    ...     finally:
    ...         await pool.close()
    >>> asyncio.run(main())
    5
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_length: int,
        grace: float = 1.0,
        preload: Sequence[str] = ("mediation.allocation.pipeline",),
        temp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a pool needs at least one worker, not {workers}")
        if queue_length < 0:
            raise ValueError(f"the queue's length cannot be negative ({queue_length})")
        if not (math.isfinite(grace) and grace > 0):
            raise ValueError(f"the grace must be a positive number of seconds, not {grace}")
        self._size = workers
        self._queue_length = queue_length
        self._grace = grace
        self._preload = tuple(preload)
        self._temp_dir = None if temp_dir is None else os.fspath(temp_dir)
        self._context = multiprocessing.get_context("forkserver")
        self._state: Literal["new", "running", "closed"] = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        # Process.start, join and close run in this one thread: the loop never waits for the
        # fork server (its first start takes as long as its preload), and multiprocessing's
        # bookkeeping of its children is never touched by two threads at once
        self._manager: ThreadPoolExecutor | None = None
        self._workers: set[_Worker] = set()
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[asyncio.Future[_Worker]] = deque()
        self._starters: set[asyncio.Task[None]] = set()
        self._admitted = 0
        self._queued = 0
        self._restarts = 0
        self._completed = 0
        self._short_since: float | None = None
        # a running estimate of how long a job holds a worker, for Retry-After
        self._typical_job = 1.0

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers; return once every one has imported ``preload`` and is ready.

        Raises
        ------
        PoolError
            The pool was started before, or a worker could not start (none is left running).
        """
        if self._state != "new":
            raise PoolError(f"the pool cannot be started: it is {self._state}")
        self._loop = asyncio.get_running_loop()
        if self._temp_dir is not None:
            os.makedirs(self._temp_dir, exist_ok=True)
            _remove_orphans(self._temp_dir)
        self._manager = ThreadPoolExecutor(1, thread_name_prefix="solve-pool")
        # this module too: the workers' code lives here, and each would import it (and asyncio)
        self._context.set_forkserver_preload(
            ["__main__", *_main_script_imports(), __name__, *self._preload]
        )
        self._state = "running"
        self._short_since = self._loop.time()
        began = time.perf_counter()
        starters = [self._starter(self._start_worker()) for _ in range(self._size)]
        outcomes = await asyncio.gather(*starters, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            await self.close()
            raise PoolError(
                f"{len(failures)} of {self._size} workers could not start: {failures[0]!r}"
            ) from failures[0]
        logger.info(
            "solve pool started: %d workers ready in %.0f ms, queue of %d",
            self._size,
            1000 * (time.perf_counter() - began),
            self._queue_length,
        )

    async def close(self) -> None:
        """Kill every worker and remove their temporary directories; jobs in flight fail.

        A job waiting or running when the pool closes raises :class:`PoolError`. Closing
        twice does nothing.
        """
        if self._state == "closed":
            return
        started = self._state == "running"
        self._state = "closed"
        if not started:
            return
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolError("the pool was closed before the job started"))
        self._waiters.clear()
        self._idle.clear()
        for task in self._starters:
            task.cancel()
        await asyncio.gather(*self._starters, return_exceptions=True)
        retirements = []
        for worker in list(self._workers):
            retirements.append(self._retire(worker, "the pool is closing", replace=False))
            if worker.pid is not None and not worker.exited.done():
                # again, for a worker whose retirement began before and whose kill did not work
                self._kill(worker)
        await asyncio.gather(*retirements, return_exceptions=True)
        assert self._manager is not None
        self._manager.shutdown(wait=False)
        logger.info(
            "solve pool closed after %d jobs and %d restarts", self._completed, self._restarts
        )

    # --- jobs ---------------------------------------------------------------------------

    async def run(self, func: Callable[..., T], /, *args: Any, deadline: float) -> T:
        """Run ``func(*args)`` in a worker and return its value, or raise its exception.

        Parameters
        ----------
        func
            A module-level function (it is sent to the worker by reference, pickled).
        *args
            Its arguments, picklable. They may hold case content: the pool never logs them.
        deadline
            Seconds from now to the hard deadline; time spent waiting for a worker counts.
            Pass the library's own (soft) ``time_limit`` in ``args``, shorter than this.

        Returns
        -------
        T
            What ``func`` returned.

        Raises
        ------
        PoolFull
            At once, when every worker is busy and ``queue_length`` jobs already wait.
        DeadlineExceeded
            The deadline passed: a job still waiting never starts; a running one's worker is
            killed with its whole process group, its temporary directory removed, and a
            replacement started.
        WorkerCrashed
            The worker died during the job; a replacement is started.
        PoolError
            The pool is not running, or the job's value or exception could not be sent back.
        Exception
            Whatever ``func`` raised, unchanged (when it can be pickled).

        Cancelling the awaiting task (a client gone) kills the job's worker too.
        """
        if self._state != "running":
            raise PoolError(f"the pool cannot run a job: it is {self._state}")
        if not (math.isfinite(deadline) and deadline > 0):
            raise ValueError(f"a deadline must be a positive number of seconds, not {deadline}")
        loop = self._running_loop()
        expires = loop.time() + deadline
        request = pickle.dumps((func, args), protocol=pickle.HIGHEST_PROTOCOL)
        if self._admitted >= self._size + self._queue_length:
            raise PoolFull(
                f"all {self._size} workers are busy and {self._queued} jobs are waiting "
                f"(the queue holds {self._queue_length})",
                retry_after=self._retry_after(),
            )
        self._admitted += 1
        try:
            try:
                worker = await self._acquire(expires)
            except TimeoutError:
                raise DeadlineExceeded(
                    f"the job waited its whole deadline ({deadline:g} s) for a worker "
                    "and never started"
                ) from None
            return cast(T, await self._run_on(worker, request, expires, deadline))
        finally:
            self._admitted -= 1

    async def _acquire(self, expires: float) -> _Worker:
        """Return a live idle worker, waiting in line for one until ``expires`` if need be."""
        while True:
            # the queue is empty whenever a worker is idle: _release serves waiters first
            worker = self._idle.popleft() if self._idle else await self._wait_in_line(expires)
            # one handed over may have died before this job's task ran: its retirement is due
            if worker.alive:
                return worker

    async def _wait_in_line(self, expires: float) -> _Worker:
        """Wait for a worker in first-come order until ``expires``."""
        waiter: asyncio.Future[_Worker] = self._running_loop().create_future()
        self._waiters.append(waiter)
        self._queued += 1
        try:
            async with asyncio.timeout_at(expires):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # handed a worker in the same instant the deadline passed: pass it on
                self._release(waiter.result())
            raise
        finally:
            self._queued -= 1

    async def _run_on(
        self, worker: _Worker, request: bytes, expires: float, deadline: float
    ) -> Any:
        """Run one job on ``worker``; return its value or raise as :meth:`run` says."""
        loop = self._running_loop()
        worker.busy, worker.expires = True, expires
        began = loop.time()
        try:
            async with asyncio.timeout_at(expires):
                worker.channel.send(request)
                reply = await worker.channel.receive()
        except TimeoutError:
            retirement = self._retire(worker, "its job passed its deadline", replace=True)
            # the caller learns of it once the worker is gone and its directory removed
            await asyncio.wait({retirement}, timeout=self._grace)
            self._note_duration(loop.time() - began)
            raise DeadlineExceeded(
                f"the job passed its deadline ({deadline:g} s); its worker "
                f"(pid {worker.pid}) was killed"
            ) from None
        except asyncio.CancelledError:
            self._retire(worker, "its job was cancelled", replace=True)
            raise
        except (EOFError, OSError):
            retirement = self._retire(worker, "it died during a job", replace=True, died=True)
            await asyncio.wait({retirement}, timeout=self._grace)
            if self._state == "closed":
                raise PoolError("the pool was closed during the job") from None
            ended = retirement.result() if retirement.done() else None
            raise WorkerCrashed(
                f"the worker (pid {worker.pid}) died during the job ({_describe_exit(ended)})"
            ) from None
        worker.busy, worker.expires = False, math.inf
        self._completed += 1
        self._note_duration(loop.time() - began)
        self._release(worker)
        try:
            ok, value = pickle.loads(reply)
        except Exception as exc:
            raise PoolError(
                f"the job's outcome could not be read back: {type(exc).__name__}: {exc}"
            ) from exc
        if ok:
            return value
        raise value

    def _release(self, worker: _Worker) -> None:
        """Give a worker that finished a job to the longest-waiting job, or keep it idle."""
        if worker.retirement is not None or self._state != "running":
            return
        if worker.exited.done():
            self._retire(worker, "it died between jobs", replace=True, died=True)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    # --- reports ------------------------------------------------------------------------

    def stats(self) -> PoolStats:
        """Return how many workers are alive and busy, jobs queued, restarts, jobs completed."""
        return PoolStats(
            workers=self._size,
            alive=sum(1 for w in self._workers if w.alive),
            busy=sum(1 for w in self._workers if w.busy),
            queued=self._queued,
            restarts=self._restarts,
            completed=self._completed,
        )

    def healthy(self) -> bool:
        """Return whether the pool can take jobs.

        It cannot when it is not running (not started yet, or closed), when it has had fewer
        live workers than configured for longer than :data:`SHORT_HANDED_LIMIT` seconds
        (replacements fail to start), or when every worker is busy with a job past its
        deadline plus ``grace`` (killing them does not work).
        """
        if self._state != "running" or self._loop is None:
            return False
        now = self._loop.time()
        if self._short_since is not None and now - self._short_since > SHORT_HANDED_LIMIT:
            return False
        wedged = sum(1 for w in self._workers if w.busy and now > w.expires + self._grace)
        return wedged < self._size

    def _retry_after(self) -> int:
        """Seconds until a job turned away now would likely be admitted (at least 1)."""
        # the jobs waiting, and one more, drain at `workers` jobs per typical job's time
        wait = self._typical_job * (self._queued + 1) / self._size
        return max(1, math.ceil(wait))

    def _note_duration(self, seconds: float) -> None:
        self._typical_job = 0.8 * self._typical_job + 0.2 * seconds

    def _note_alive(self) -> None:
        """Record since when the pool has been short of live workers, if it is."""
        if self._loop is None:
            return
        short = sum(1 for w in self._workers if w.alive) < self._size
        if not short:
            self._short_since = None
        elif self._short_since is None:
            self._short_since = self._loop.time()

    # --- workers ------------------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise PoolError("the pool is not started")
        return self._loop

    def _starter(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a worker's start as a task that :meth:`close` can cancel."""
        task: asyncio.Task[None] = self._running_loop().create_task(coroutine)
        self._starters.add(task)
        task.add_done_callback(self._starters.discard)
        return task

    async def _start_worker(self, replacing: int | None = None) -> None:
        """Start one worker and make it available; raise (leaving nothing behind) if it fails."""
        loop = self._running_loop()
        folder = tempfile.mkdtemp(prefix=f"solve-pool-{os.getpid()}-", dir=self._temp_dir)
        # the worker's own channel: a socket pair, which is what multiprocessing.Pipe() is on
        # POSIX, taken directly so that the event loop's transport reads and writes it
        parent_end, child_end = socket.socketpair()
        process = self._context.Process(
            target=_serve,
            args=(child_end, folder, self._preload),
            name="solve-pool-worker",
            # multiprocessing terminates daemonic children when the service exits unclosed
            daemon=True,
        )
        worker = _Worker(process, parent_end, child_end, folder, loop.create_future())
        self._workers.add(worker)
        began = time.perf_counter()
        try:
            # shielded: once the fork server is asked for a process, the pool must learn its
            # pid to kill it, even if this start is cancelled meanwhile
            worker.launch = loop.create_task(self._launch(worker))
            await asyncio.shield(worker.launch)
            async with asyncio.timeout(START_TIMEOUT):
                await worker.channel.receive()
        except BaseException as exc:
            self._retire(worker, f"it did not start ({type(exc).__name__})", replace=False)
            raise
        worker.ready = True
        self._note_alive()
        elapsed = 1000 * (time.perf_counter() - began)
        if replacing is None:
            logger.info("worker %d ready in %.0f ms", worker.pid, elapsed)
        else:
            logger.info("worker %d ready in %.0f ms, replacing %d", worker.pid, elapsed, replacing)
        self._release(worker)

    async def _launch(self, worker: _Worker) -> None:
        """Have the fork server start ``worker``'s process and watch for its end."""
        loop = self._running_loop()
        await loop.create_unix_connection(lambda: worker.channel, sock=worker.parent_end)
        try:
            await loop.run_in_executor(self._manager, worker.process.start)
        finally:
            # the worker holds the only other end: its death is the channel's end of file
            worker.child_end.close()
        worker.pid = worker.process.pid
        loop.add_reader(worker.process.sentinel, self._on_exit, worker)
        worker.watching = True

    def _on_exit(self, worker: _Worker) -> None:
        """Note that ``worker``'s process ended (its sentinel is readable)."""
        self._unwatch(worker)
        if not worker.exited.done():
            worker.exited.set_result(None)
        if worker.ready and not worker.busy and worker.retirement is None:
            self._retire(worker, "it died while idle", replace=True, died=True)
        self._note_alive()

    def _unwatch(self, worker: _Worker) -> None:
        if worker.watching:
            self._running_loop().remove_reader(worker.process.sentinel)
            worker.watching = False

    async def _replace(self, previous: int | None) -> None:
        """Start a worker in a retired one's place, retrying with backoff until it works."""
        delay = RESTART_BACKOFF
        while self._state == "running":
            try:
                await self._start_worker(replacing=previous)
                return
            except Exception as exc:
                logger.error(
                    "a replacement for worker %s did not start (%r); retrying in %.1f s",
                    previous,
                    exc,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(2 * delay, RESTART_BACKOFF_MAX)

    def _retire(
        self, worker: _Worker, reason: str, *, replace: bool, died: bool = False
    ) -> asyncio.Task[int | None]:
        """Kill ``worker`` (once) and clean up after it, in a task; return the task.

        Its value is the process's exit code (``None`` if unknown). ``reason`` goes to the
        log; ``died``: the worker ended by itself (logged as an error, with how it ended).
        """
        if worker.retirement is None:
            with contextlib.suppress(ValueError):
                self._idle.remove(worker)
            worker.retirement = self._running_loop().create_task(
                self._retirement(worker, reason, replace=replace, died=died)
            )
            self._note_alive()
        return worker.retirement

    async def _retirement(
        self, worker: _Worker, reason: str, *, replace: bool, died: bool
    ) -> int | None:
        loop = self._running_loop()
        assert self._manager is not None
        if worker.launch is not None:
            await asyncio.wait({worker.launch})
        code: int | None = None
        if worker.pid is not None:
            if not died:
                level = logging.DEBUG if self._state == "closed" else logging.WARNING
                logger.log(level, "killing worker %d and its process group: %s", worker.pid, reason)
            self._kill(worker)
            while not worker.exited.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(worker.exited), self._grace)
                if worker.exited.done():
                    break
                logger.error(
                    "worker %d has not exited %.1f s after SIGKILL; %s",
                    worker.pid,
                    self._grace,
                    "leaving it" if self._state == "closed" else "its slot stays taken",
                )
                if self._state == "closed":
                    break
            self._unwatch(worker)
            code = await loop.run_in_executor(self._manager, _reap, worker.process)
        worker.child_end.close()
        if worker.channel.attached:
            worker.channel.close()
        else:
            worker.parent_end.close()
        await loop.run_in_executor(self._manager, _remove, worker.folder)
        self._workers.discard(worker)
        if died:
            logger.error("worker %s ended (%s): %s", worker.pid, _describe_exit(code), reason)
        if replace and self._state == "running":
            self._restarts += 1
            self._starter(self._replace(worker.pid))
        self._note_alive()
        return code

    def _kill(self, worker: _Worker) -> None:
        """SIGKILL ``worker``'s process group: the worker and everything it started."""
        assert worker.pid is not None
        try:
            # even after the worker itself died, its group lives on while a child of it does
            # (a solver it started), and the group's id cannot be reused until then
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group is gone: the worker and whatever it started have ended
        except OSError as exc:
            logger.error("could not kill worker %d's process group: %s", worker.pid, exc)
        if not worker.exited.done():
            # killed before it made its own group (while starting), it is in none of its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)


def _main_script_imports() -> list[str]:
    """Return the modules the main script imports at its top level, if it is a script.

    Every worker runs the service's main script again (as ``__mp_main__``), and on Python
    3.11 the fork server ignores ``"__main__"`` in its preload (CPython gh-137996): a console
    script such as ``mediation serve``'s then imports its command-line stack in every worker,
    about 40 ms more per start here. Preloaded, those imports are done once, in the fork
    server. Only modules the service has imported already are named, so the fork server
    runs nothing new.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec = getattr(main, "__spec__", None)
    if not path or (spec is not None and spec.name.rpartition(".")[2] == "__main__"):
        return []  # interactive, or a package's __main__ (`python -m uvicorn`): never run again
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return [name for name in names if name in sys.modules]


def _describe_exit(code: int | None) -> str:
    """``-9`` → ``'killed by SIGKILL'``, ``3`` → ``'exit code 3'``."""
    if code is None:
        return "exit status unknown"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _reap(process: ForkServerProcess) -> int | None:
    """Collect an ended process's exit code and release its handle (in the pool's thread)."""
    process.join(timeout=0)
    code = process.exitcode
    if code is not None:
        process.close()
    return code


def _remove_orphans(temp_dir: str) -> None:
    """Remove the worker folders a killed service left (their owner's pid is gone).

    A service killed by SIGKILL cannot clean up, and its workers' folders hold case content
    and solver files. A folder is named after the service's pid, so that two services
    sharing a data folder never remove each other's.
    """
    for entry in os.scandir(temp_dir):
        parts = entry.name.split("-")
        if not (entry.is_dir() and entry.name.startswith("solve-pool-") and len(parts) > 3):
            continue
        if not parts[2].isdigit() or _alive(int(parts[2])):
            continue
        logger.info("removing the solver folder %s of a stopped service", entry.name)
        _remove(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --- the worker's side ------------------------------------------------------------------------


def _serve(channel: socket.socket, folder: str, preload: tuple[str, ...]) -> None:
    """Run jobs from ``channel`` until the pool closes its end: a worker's whole life."""
    # a group of its own: the pool kills the worker and whatever it started (CBC and its
    # watchdog) with one killpg, and a Ctrl-C at the service's terminal reaches only the service
    os.setpgrp()
    _die_with_parent()
    # PuLP writes CBC's .mps and .sol files under tempfile's directory: a private one, which
    # the pool removes once the worker is gone, however it ended
    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    for name in preload:
        importlib.import_module(name)
    channel.setblocking(True)
    _write(channel, b"")
    while True:
        try:
            request = _read(channel)
        except EOFError:
            return
        _write(channel, _call(request))
        _empty(folder)


def _call(request: bytes | bytearray) -> bytes:
    """Run one pickled ``(func, args)`` job; return its pickled ``(ok, value or exception)``."""
    try:
        func, args = pickle.loads(request)
        outcome: tuple[bool, Any] = (True, func(*args))
    except Exception as exc:
        outcome = (False, exc)
    try:
        reply = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        if not outcome[0]:
            # an exception may pickle but not unpickle (an __init__ its args do not fit)
            pickle.loads(reply)
    except Exception as exc:
        what = "value" if outcome[0] else f"exception ({type(outcome[1]).__qualname__})"
        failure = PoolError(
            f"the job's {what} cannot be sent back from its worker: {type(exc).__name__}: {exc}"
        )
        reply = pickle.dumps((False, failure), protocol=pickle.HIGHEST_PROTOCOL)
    return reply


def _die_with_parent() -> None:
    """Have the kernel kill this worker when its parent, the fork server, ends (Linux).

    The fork server ends with the service, even a service killed by SIGKILL, so no worker
    (and, through CBC's own watchdog, no solver) outlives it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    parent = os.getppid()
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


def _empty(folder: str) -> None:
    """Remove what a job left in the worker's temporary directory (case content, solver files)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
    except FileNotFoundError:  # the job removed the directory itself
        os.makedirs(folder, exist_ok=True)


def _write(channel: socket.socket, payload: bytes) -> None:
    channel.sendall(_HEADER.pack(len(payload)))
    channel.sendall(payload)


def _read(channel: socket.socket) -> bytearray:
    (size,) = _HEADER.unpack(_read_exactly(channel, _HEADER.size))
    return _read_exactly(channel, size)


def _read_exactly(channel: socket.socket, size: int) -> bytearray:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        count = channel.recv_into(view[received:])
        if count == 0:
            raise EOFError("the pool closed its end of the channel")
        received += count
    return buffer
