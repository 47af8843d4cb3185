"""Running a job in the solver pool; the library's refusals and the pool's limits as problems."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

from fastapi import Request

from .deps import ServiceState, current_request
from .jobs import Failure
from .pool import DeadlineExceeded, PoolFull, WorkerCrashed
from .problems import ApiProblem

__all__ = ["decode_cursor", "encode_cursor", "fetch_page", "raise_failure", "run_job"]

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)

#: Problem type and status of each kind of :class:`~api.jobs.Failure`.
_FAILURES: dict[str, tuple[int, str]] = {
    "malformed": (400, "malformed-json"),
    "case": (422, "invalid-case"),
    "policy": (422, "invalid-policy"),
    "whatif": (422, "invalid-whatif"),
    "sweep": (422, "invalid-sweep"),
    "graph": (422, "invalid-case"),
    "render": (422, "invalid-request"),
}


def raise_failure(failure: Failure) -> NoReturn:
    """Raise the problem that answers the library's refusal of an input."""
    status, slug = _FAILURES[failure.kind]
    raise ApiProblem(status, slug, detail=failure.message, errors=failure.problems)


async def run_job(state: ServiceState, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``func(*args, **kwargs)`` in the solver pool within the service's deadline.

    A client that disconnects meanwhile has its solve stopped (the pool kills the worker):
    nobody would read the answer, and the worker serves the next request sooner.

    Raises
    ------
    ApiProblem
        503 with ``Retry-After`` when the pool and its queue are full, when the deadline
        passed (the solve was killed) or when the worker died.
    """
    deadline = state.settings.deadline
    job = functools.partial(func, **kwargs) if kwargs else func
    try:
        return await _unless_disconnected(state.pool.run(job, *args, deadline=deadline))
    except PoolFull as exc:
        raise ApiProblem(
            503,
            "busy",
            detail="every solver is busy and the queue is full",
            headers={"Retry-After": str(max(1, exc.retry_after))},
        ) from None
    except DeadlineExceeded:
        raise ApiProblem(
            503,
            "deadline-exceeded",
            detail=f"the solve ran past the service's deadline of {deadline:g} s and was stopped",
            headers={"Retry-After": str(max(1, math.ceil(deadline)))},
        ) from None
    except WorkerCrashed:
        raise ApiProblem(
            503,
            "solver-crashed",
            detail="the solver's process stopped before it answered",
            headers={"Retry-After": "1"},
        ) from None


async def _unless_disconnected(solve: Coroutine[Any, Any, T]) -> T:
    request = current_request.get()
    if request is None:
        return await solve
    solving = asyncio.ensure_future(solve)
    watching = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({solving, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watching.cancel()
        if not solving.done():
            solving.cancel()  # the pool kills the worker of a cancelled job
    if solving.cancelled() or not solving.done():
        await asyncio.gather(solving, return_exceptions=True)
        logger.info("client disconnected: its solve was stopped")
        # nobody reads it; not stored by the idempotency layer (a 5xx), logged as such
        raise ApiProblem(
            503, "unavailable", detail="the client disconnected", headers={"Retry-After": "1"}
        )
    return solving.result()


async def _disconnect(request: Request) -> None:
    # the body is read: what the server hands the application next is the disconnect
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def fetch_page(
    state: ServiceState,
    fetch: Callable[..., list[R]],
    /,
    *args: Any,
    cursor: str | None,
    limit: int,
    seq_of: Callable[[R], int],
) -> tuple[list[R], str | None]:
    """Return one page of ``fetch(*args, after=, limit=)`` and the cursor of the next one.

    The page has at most ``limit`` items and never more than the service's page limit; one
    more is fetched to tell whether another page follows (``None`` when not). ``seq_of``
    gives an item's key, which the next page continues after.
    """
    size = min(limit, state.settings.page_limit)
    found = await asyncio.to_thread(fetch, *args, after=decode_cursor(cursor), limit=size + 1)
    following = encode_cursor(seq_of(found[size - 1])) if len(found) > size else None
    return found[:size], following


def encode_cursor(seq: int) -> str:
    """Return the opaque cursor that continues a listing after ``seq``."""
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """Return the ``seq`` a cursor continues after (0 for none).

    Raises
    ------
    ApiProblem
        422 for a cursor this service did not make.
    """
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        digits = text[1:]
        # a database's 64-bit key: a larger number is no cursor (and would overflow SQLite)
        if text.startswith("s") and digits.isascii() and digits.isdigit() and len(digits) < 20:
            seq = int(digits)
            if seq < 2**63:
                return seq
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    from mediation.errors import Problem

    raise ApiProblem(
        422,
        "invalid-request",
        detail="the cursor is not one this service gave",
        errors=[Problem("query.cursor", "not a cursor from an earlier page", "invalid_cursor")],
    )
