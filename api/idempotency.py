"""``Idempotency-Key`` on every POST under ``/v1``: a retry gets the answer the first use got.

A client that sends ``Idempotency-Key: <1 to 255 printable ASCII characters>`` with a POST
may send the same request again (its connection dropped, it timed out) without making a
second case or settlement: the service answers the retry with the first response, byte for
byte, plus ``Idempotent-Replayed: true``. Keys belong to the tenant that sent them, and are
remembered for ``idempotency_ttl`` seconds.

Why an ASGI middleware rather than a route dependency: the layer must see the route's
*response* (to store it before it is sent), and must be able to answer without running the
route at all (a replay, a reused key). A FastAPI dependency sees neither: it runs before the
route and cannot replace its answer except by raising. The middleware wraps every POST under
``/v1`` by construction, so the routes stay a thin edge that knows nothing of keys; each
declares the header only for the OpenAPI (``dependencies=[IDEMPOTENT]``, a no-op at run
time). The middleware authenticates first, through the same :func:`api.deps.principal` the
routes depend on (which then reuses the result), so that an unauthenticated POST is the
usual 401 and claims nothing, and keys are scoped by the tenant authenticated.

A key's record lives in the store's ``idempotency`` table. A first use *claims* it (a
record in flight, with a random claim token only that request knows); its answer then
replaces the claim (only under that token: a request that outlived its claim cannot
overwrite or delete the claim made after it). A claim still in flight after
:func:`in_flight_ttl` of the deadline is a dead server's, and is forgotten; an answer is
forgotten after ``idempotency_ttl``. Each process deletes every tenant's forgotten records
at most once every :data:`PURGE_EVERY` seconds, after answering a request that has a key,
so that the table holds about ``idempotency_ttl``'s worth of keys rather than every key
ever used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediation.errors import Problem

from .deps import ServiceState, principal
from .logs import error_fields
from .problems import ApiProblem, problem_response
from .store.engine import SQLITE_BUSY_TIMEOUT
from .store.repo import Idempotent, Principal

__all__ = [
    "HEADER",
    "IDEMPOTENT",
    "IN_FLIGHT_MARGIN",
    "JOBS_PER_REQUEST",
    "MAX_WAITERS",
    "PURGE_EVERY",
    "REPLAYED_HEADER",
    "WRITES_PER_REQUEST",
    "IdempotencyMiddleware",
    "idempotency_key",
    "in_flight_ttl",
    "is_valid_key",
    "media_type",
    "request_digest",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: The request header that names a POST's idempotency key.
HEADER = "Idempotency-Key"
#: The response header a replayed answer carries.
REPLAYED_HEADER = "Idempotent-Replayed"

#: The most solver-pool jobs one request runs: ``POST /v1/sweeps`` reads the request in one,
#: then plans the sweep against its case in another. Each may take the whole deadline (the
#: pool kills it there), its wait for a worker included.
JOBS_PER_REQUEST = 2
#: The most writes a request waits for while it holds its claim: the route's own (a case, a
#: settlement, a sweep) and the stored answer. On SQLite each may wait the busy timeout for
#: the write lock and still go through; on PostgreSQL a row lock is held for milliseconds.
WRITES_PER_REQUEST = 2
#: Seconds on top of the jobs and the writes, for what a request does besides (reads,
#: authentication, building the answer) on a loaded machine.
IN_FLIGHT_MARGIN = 10.0

#: The most duplicates of one key that wait in one process for its first use to answer.
#: Each holds its whole body (up to ``max_body_bytes``) while it waits: beyond this many, a
#: duplicate is answered 409 at once instead of joining them.
MAX_WAITERS = 64
#: ``Retry-After`` of a duplicate turned away because :data:`MAX_WAITERS` wait already: the
#: first use is running, and its answer is replayed as soon as it is stored.
_CROWDED_RETRY_AFTER = 1

#: Seconds between two purges of the forgotten records, in one process.
PURGE_EVERY = 60.0

#: 1 to 255 printable ASCII characters, not starting or ending with a space (HTTP strips
#: surrounding whitespace from a header's value, so such a key could not arrive intact).
_KEY_PATTERN = r"^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$"
_KEY = re.compile(_KEY_PATTERN)

#: The response headers stored and replayed: those a client relies on. ``Retry-After``
#: belongs to answers that are never stored (5xx), ``X-Request-ID`` to each request itself.
_STORED_HEADERS = ("content-type", "location", "etag")

#: Client errors not stored (besides every 5xx): they judge how the body was sent, not what
#: it asks (see :class:`IdempotencyMiddleware`).
_NOT_STORED = frozenset({413, 415})

#: Seconds between two looks at the store for a first use running in another process.
_POLL_FIRST = 0.02
_POLL_MAX = 0.5


def is_valid_key(key: str) -> bool:
    """Tell whether ``key`` is a usable ``Idempotency-Key`` value.

    Examples
    --------
    >>> is_valid_key("order-2024-0001"), is_valid_key(""), is_valid_key("x" * 256)
    (True, False, False)
    >>> is_valid_key("café")
    False
    """
    return _KEY.fullmatch(key) is not None


def in_flight_ttl(deadline: float) -> float:
    """Return the seconds after which a claim still in flight is taken to be a dead server's.

    It must be longer than any live request holds its claim: a live claim forgotten lets a
    waiting duplicate run the route a second time. The bound is every pool job a request
    runs taking the whole deadline, every write waiting SQLite's whole busy timeout (a
    longer wait fails the write: a 5xx, the claim abandoned), and a margin.

    Parameters
    ----------
    deadline
        The service's ``deadline``, in seconds.

    Examples
    --------
    >>> in_flight_ttl(30.0)  # 2 jobs x 30 s + 2 writes x 30 s + 10 s
    130.0
    """
    return JOBS_PER_REQUEST * deadline + WRITES_PER_REQUEST * SQLITE_BUSY_TIMEOUT + IN_FLIGHT_MARGIN


def media_type(content_type: str) -> str:
    """Return the media type of a ``Content-Type`` value, as the routes judge it.

    Examples
    --------
    >>> media_type(" Application/JSON ; charset=utf-8")
    'application/json'
    """
    return content_type.split(";")[0].strip().lower()


def request_digest(
    method: str,
    path: str,
    query: bytes,
    body: bytes,
    accept_language: bytes,
    content_type: bytes,
) -> str:
    """Return the SHA-256 (hex) that tells two requests made with one key apart.

    The parts are length-prefixed, so that no two different requests hash alike by moving
    bytes from one part to the next. ``Accept-Language`` is part of it: it changes the
    answer (the reasons' sentences); so is the body's media type (``content_type``, see
    :func:`media_type`): a body sent as ``text/plain`` is refused (415) where the same
    bytes sent as JSON are not.

    Examples
    --------
    >>> a = request_digest("POST", "/v1/cases", b"", b"{}", b"", b"application/json")
    >>> a == request_digest("POST", "/v1/cases", b"", b"{}", b"zh", b"application/json")
    False
    >>> a == request_digest("POST", "/v1/cases", b"", b"{}", b"", b"text/plain")
    False
    >>> len(a)
    64
    """
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, accept_language, content_type, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _header_values(scope: Scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers") or [] if key == name]


class IdempotencyMiddleware:
    """Store the answer to a POST made with an ``Idempotency-Key``; replay it to retries.

    - First use: the request runs; unless its answer is one of those not kept (below), the
      status, the headers a client relies on and the body are stored *before* the answer is
      sent, so that a client that got an answer can always have it again.
    - A retry (same key, same method, path, query, body, ``Accept-Language`` and body media
      type) gets the stored answer and ``Idempotent-Replayed: true``; the route does not
      run.
    - The same key with another request: 422 ``idempotency-key-reused``.
    - A 5xx (a crash, the pool busy, a deadline passed) is not stored: the claim is
      abandoned and a retry runs again. Nor are 413 and 415: they judge how the body was
      sent (its size, its ``Content-Type``), not what it asks, and a client that fixes the
      header and sends the same request with the same key must have it run, not be told
      again that its header was wrong. Every other 4xx is stored: the request was at fault,
      and a retry of it gets the same answer.
    - A duplicate while the first use is still running *waits* for it, then replays its
      answer. The issue asks both that "a duplicate while the first is in flight is 409"
      and that "50 concurrent duplicates get identical responses": answering the
      duplicates 409 at once would make their responses differ from the first's, and a
      client could not tell from a 409 whether its request took effect. Waiting (at most the
      service's ``deadline``, the longest the first can legitimately take) reconciles both:
      concurrent duplicates all get the first's answer, and 409 ``idempotency-in-flight``
      (with ``Retry-After``) is left for a first use still running when that wait ends,
      one that is stuck, or whose server died (its claim is forgotten after
      :func:`in_flight_ttl` of the deadline, when a retry runs again).
    - At most :data:`MAX_WAITERS` duplicates of one key wait in one process (each holds its
      body): one more is answered 409 ``idempotency-in-flight`` at once, with
      ``Retry-After``.

    A duplicate in the same process waits on an event set when the first ends; one served
    by another process (several servers on PostgreSQL) looks at the store with a backoff.

    Limits: the route's write and the stored answer are two transactions. A server killed
    between them has answered nothing; once its claim is forgotten a retry runs again, so
    that the write may be made twice but is never lost. A replayed problem keeps the first
    request's ``request_id`` in its body (the replay's own is in ``X-Request-ID``).

    Parameters
    ----------
    app
        The application it wraps (inside the request-id middleware, which it needs for the
        problems' ``request_id``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # first uses running in this process: duplicates wait on these instead of polling
        self._running: dict[tuple[int, str], asyncio.Event] = {}
        # how many duplicates of each key wait in this process (see MAX_WAITERS)
        self._waiters: dict[tuple[int, str], int] = {}
        # the monotonic time of this process's last purge of forgotten records
        self._purged_at: float | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        keys = _header_values(scope, HEADER.lower().encode())
        if not keys:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        state: ServiceState = request.app.state.service
        try:
            who = await principal(request, state, request.headers.get("authorization"))
            key = self._key(keys)
            body = await self._body(request, state)
        except ApiProblem as problem:
            await problem_response(problem, request)(scope, receive, send)
            return
        except ClientDisconnect:
            return  # nobody to answer, nothing claimed
        if body is None:
            # the declared length is over the limit: the route answers 413 without reading
            # the body, and a retry of it the same, so there is nothing to claim
            await self.app(scope, receive, send)
            return
        await self._serve(scope, receive, send, request, state, who, key, body)
        # after the answer: the client does not wait for the purge
        await self._purge(state)

    @staticmethod
    def _key(values: list[bytes]) -> str:
        """Return the request's key, or raise the 422 problem that names the header."""
        text = values[0].decode("latin-1")
        if len(values) == 1 and is_valid_key(text):
            return text
        if len(values) > 1:
            message = f"send one {HEADER} header, not {len(values)}"
        else:
            message = f"must be 1 to 255 printable ASCII characters (got {len(values[0])} bytes)"
        raise ApiProblem(
            422,
            "invalid-request",
            detail=f"{HEADER}: {message}",
            errors=[Problem(f"header.{HEADER}", message, "invalid_idempotency_key")],
        )

    @staticmethod
    async def _body(request: Request, state: ServiceState) -> bytes | None:
        """Return the whole body, or ``None`` when the route must judge it unread.

        Raises
        ------
        ApiProblem
            413 when a body of undeclared length runs over the limit.
        """
        limit = state.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiProblem(
                    413, "body-too-large", detail=f"the body has more than {limit} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        state: ServiceState,
        who: Principal,
        key: str,
        body: bytes,
    ) -> None:
        """Claim the key and run the request, or answer from what an earlier use left."""
        method, path = scope["method"], scope["path"]
        digest = request_digest(
            method,
            path,
            scope.get("query_string", b""),
            body,
            request.headers.get("accept-language", "").encode("latin-1"),
            media_type(request.headers.get("content-type", "")).encode("latin-1"),
        )
        deadline = state.settings.deadline

        def claim() -> Idempotent:
            return state.store.begin_idempotent(
                who,
                key,
                f"{method} {path}",
                digest,
                ttl=state.settings.idempotency_ttl,
                in_flight_ttl=in_flight_ttl(deadline),
            )

        slot = (who.tenant_id, key)
        found, problem = await self._await_claim(slot, claim, deadline)
        if problem is not None:
            await problem_response(problem, request)(scope, receive, send)
        elif found.state == "started":
            assert found.claim_token is not None
            await self._first_use(scope, receive, send, state, who, key, found.claim_token, body)
        elif found.state == "done":
            await _replay(found, send)
        else:
            problem = ApiProblem(
                422,
                "idempotency-key-reused",
                detail=f"this {HEADER} was used with another request (method, path, query, "
                "body, Accept-Language or Content-Type differ); send a new key",
            )
            await problem_response(problem, request)(scope, receive, send)

    async def _await_claim(
        self, slot: tuple[int, str], claim: Callable[[], Idempotent], deadline: float
    ) -> tuple[Idempotent, ApiProblem | None]:
        """Claim the key, waiting while its first use runs; or return the 409 to answer."""
        loop = asyncio.get_running_loop()
        gives_up = loop.time() + deadline
        pause = _POLL_FIRST
        waiting = False
        try:
            while True:
                found = await asyncio.to_thread(claim)
                if found.state != "in_flight":
                    return found, None
                if not waiting:
                    if self._waiters.get(slot, 0) >= MAX_WAITERS:
                        return found, ApiProblem(
                            409,
                            "idempotency-in-flight",
                            detail=f"the first request with this {HEADER} is still running, "
                            f"and {MAX_WAITERS} duplicates of it wait already",
                            headers={"Retry-After": str(_CROWDED_RETRY_AFTER)},
                        )
                    self._waiters[slot] = self._waiters.get(slot, 0) + 1
                    waiting = True
                left = gives_up - loop.time()
                if left <= 0:
                    return found, ApiProblem(
                        409,
                        "idempotency-in-flight",
                        detail=f"the first request with this {HEADER} is still running after "
                        f"{deadline:g} s",
                        headers={"Retry-After": str(math.ceil(IN_FLIGHT_MARGIN))},
                    )
                running = self._running.get(slot)
                if running is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(running.wait(), left)
                else:
                    await asyncio.sleep(min(pause, left))
                    pause = min(2 * pause, _POLL_MAX)
        finally:
            if waiting:
                self._waiters[slot] -= 1
                if not self._waiters[slot]:
                    del self._waiters[slot]

    async def _first_use(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        state: ServiceState,
        who: Principal,
        key: str,
        token: str,
        body: bytes,
    ) -> None:
        """Run the request that claimed ``key``; store its answer (if kept), then send it."""
        ended = asyncio.Event()
        self._running[(who.tenant_id, key)] = ended
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        def abandon() -> None:
            if not state.store.abandon_idempotent(who, key, token):
                logger.warning("the claim of an idempotency key was lost before it was abandoned")

        try:
            try:
                await self.app(scope, _replaying(body, receive), capture)
                if start is None:
                    raise RuntimeError("the application ended without answering")
            except BaseException:
                # an unexpected error (answered 500 outside this layer) or a cancellation:
                # nothing to replay, a retry runs again
                await _shielded(abandon)
                raise
            status: int = start["status"]
            content = b"".join(chunks)
            if status >= 500 or status in _NOT_STORED:
                await _shielded(abandon)
            else:
                kept = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in start.get("headers", [])
                    if name.decode("latin-1").lower() in _STORED_HEADERS
                }

                def finish() -> None:
                    if not state.store.finish_idempotent(who, key, token, status, kept, content):
                        # the request outlived its claim (see in_flight_ttl), which is left
                        # to whoever holds it now; this client still gets its answer
                        logger.warning(
                            "the claim of an idempotency key was lost before its answer was "
                            "stored (status %d)",
                            status,
                        )

                try:
                    await _shielded(finish)
                except Exception as exc:
                    # the request ran (and made whatever write it made): its answer is the
                    # truth. The claim stays in flight until it is forgotten; a retry waits
                    # for it, then runs again
                    logger.error(
                        "the response to an idempotent request was not stored",
                        extra=error_fields(exc),
                    )
            await send(start)
            await send({"type": "http.response.body", "body": content, "more_body": False})
        finally:
            ended.set()
            if self._running.get((who.tenant_id, key)) is ended:
                del self._running[(who.tenant_id, key)]

    async def _purge(self, state: ServiceState) -> None:
        """Delete the forgotten records, unless this process did in the last minute."""
        moment = time.monotonic()
        if self._purged_at is not None and moment - self._purged_at < PURGE_EVERY:
            return
        # set before the purge runs: requests answered meanwhile do not start another
        self._purged_at = moment
        try:
            purged = await _shielded(
                lambda: state.store.purge_idempotent(
                    ttl=state.settings.idempotency_ttl,
                    in_flight_ttl=in_flight_ttl(state.settings.deadline),
                )
            )
        except Exception as exc:
            # the request is answered already; the next purge takes these records too
            logger.error(
                "the forgotten idempotency records were not purged", extra=error_fields(exc)
            )
            return
        if purged:
            logger.info("purged %d forgotten idempotency records", purged)


async def _shielded(call: Callable[[], _T]) -> _T:
    """Run a store call in a thread to its end, even if the request is cancelled meanwhile."""
    return await asyncio.shield(asyncio.to_thread(call))


async def _replay(found: Idempotent, send: Send) -> None:
    """Send a stored answer, with ``Idempotent-Replayed: true``."""
    assert found.status_code is not None
    assert found.body is not None
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in (found.headers or {}).items()
    ]
    headers += [
        (b"content-length", str(len(found.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": found.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": found.body, "more_body": False})


def _replaying(body: bytes, receive: Receive) -> Receive:
    """Return a ``receive`` that hands the application the body already read first."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the body is all read: what follows is the disconnect

    return replaying


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            pattern=_KEY_PATTERN,
            description=(
                "Makes the POST safe to retry: a retry with the same key and the same request "
                "gets the first answer again, with `Idempotent-Replayed: true`, and changes "
                "nothing; the key with another request (its body's `Content-Type` included) "
                "is 422. A retry while the first is still running waits for its answer (409 "
                "if it still runs after the service's deadline, or at once when "
                f"{MAX_WAITERS} retries of it wait already). Keys are per tenant, kept for "
                "the service's `idempotency_ttl`; a 5xx, 413 or 415 answer is not kept, so "
                "that its retry runs again."
            ),
        ),
    ] = None,
) -> str | None:
    """Return the request's ``Idempotency-Key`` (declared here, honoured by the middleware).

    By the time a route runs, :class:`IdempotencyMiddleware` has checked the key and
    claimed it; the route declares it (``dependencies=[IDEMPOTENT]``) so that the OpenAPI
    documents the header, and its 409 and 422, on the operation.
    """
    return key


#: Every POST route under ``/v1`` declares it: ``@router.post(..., dependencies=[IDEMPOTENT])``.
IDEMPOTENT = Depends(idempotency_key)
