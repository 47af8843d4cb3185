"""What the routes depend on: the service's state, who is calling, the body, the language.

FastAPI resolves these per request (``Annotated[..., Depends(...)]``); tests override the
settings by building the app with their own (:func:`api.app.create_app`).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import Depends, Header, Request
from pydantic import BaseModel, ValidationError

from mediation.errors import Problem, field_path

from .problems import ApiProblem
from .settings import Settings
from .store.repo import Principal, Store

if TYPE_CHECKING:
    from .pool import SolvePool

__all__ = [
    "DEVELOPMENT_TENANT",
    "BodyDep",
    "LangDep",
    "OptionalBodyDep",
    "PrincipalDep",
    "ServiceState",
    "StateDep",
    "current_request",
    "json_body",
    "language",
    "optional_json_body",
    "parse_model",
    "principal",
    "service_state",
]

#: The tenant every request belongs to when the service runs without keys.
DEVELOPMENT_TENANT = "development"

_JSON_TYPES = ("application/json",)

M = TypeVar("M", bound=BaseModel)


@dataclass
class ServiceState:
    """The running service: its settings, store and pool (one per app)."""

    settings: Settings
    store: Store
    pool: SolvePool
    anonymous: Principal | None = None
    extras: dict[str, Any] = field(default_factory=dict)


#: The request being served, for :func:`api.solving.run_job` to watch for the client's
#: disconnect; set by :func:`service_state`, which every route depends on.
current_request: ContextVar[Request | None] = ContextVar("current_request", default=None)


async def service_state(request: Request) -> ServiceState:
    """Return the app's :class:`ServiceState` (and note the request being served).

    ``async``: FastAPI runs a plain function in a thread, whose context variables would not
    reach the route.
    """
    current_request.set(request)
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(service_state)]


async def principal(
    request: Request,
    state: StateDep,
    authorization: Annotated[
        str | None,
        Header(description="`Bearer <API key>`; a key is made by `mediation keys create`."),
    ] = None,
) -> Principal:
    """Return who is calling, from the ``Authorization: Bearer <key>`` header.

    Raises
    ------
    ApiProblem
        401 without a key, or with a wrong or revoked one.
    """
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        # authenticated already in this request (api.idempotency does it before the route)
        return known
    challenge = {"WWW-Authenticate": 'Bearer realm="mediation"'}
    if authorization is None:
        if state.anonymous is not None:
            request.state.principal = state.anonymous
            return state.anonymous
        raise ApiProblem(
            401,
            "unauthorized",
            detail="send the key as `Authorization: Bearer <key>`",
            headers=challenge,
        )
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiProblem(
            401,
            "unauthorized",
            detail="the Authorization header must be `Bearer <key>`",
            headers=challenge,
        )
    who = await asyncio.to_thread(state.store.authenticate, key.strip())
    if who is None:
        raise ApiProblem(
            401, "unauthorized", detail="the API key is wrong or revoked", headers=challenge
        )
    request.state.principal = who
    return who


PrincipalDep = Annotated[Principal, Depends(principal)]


async def _read_body(request: Request, state: StateDep) -> bytes:
    limit = state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiProblem(
            413, "body-too-large", detail=f"the body has {declared} bytes; the limit is {limit}"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiProblem(413, "body-too-large", detail=f"the body has more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _JSON_TYPES and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ApiProblem(
            415,
            "unsupported-media-type",
            detail=f"the body's Content-Type is {media or 'missing'}; send application/json",
        )


async def optional_json_body(request: Request, state: StateDep, _who: PrincipalDep) -> bytes | None:
    """Return the request's JSON body, or ``None`` when it has none (the same checks).

    It depends on :func:`principal`: a caller without a valid key gets 401 before a byte of
    its body is read.
    """
    body = await _read_body(request, state)
    if not body.strip():
        return None
    _check_media_type(request)
    return body


OptionalBodyDep = Annotated[bytes | None, Depends(optional_json_body)]


def parse_model(model: type[M], body: bytes) -> M:
    """Validate a JSON body into ``model``; its errors become problems with field paths.

    Raises
    ------
    ApiProblem
        400 when the body is not JSON, 422 when it does not fit ``model``.
    """
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["type"] == "json_invalid":
                raise ApiProblem(
                    400, "malformed-json", detail=f"the body is not JSON: {error['msg']}"
                ) from None
            loc = [part for part in error["loc"] if isinstance(part, int | str)]
            problems.append(Problem(field_path(loc), error["msg"], error["type"]))
        detail = "; ".join(str(p) for p in problems[:5])
        raise ApiProblem(422, "invalid-request", detail=detail, errors=problems) from None


async def json_body(request: Request, state: StateDep, _who: PrincipalDep) -> bytes:
    """Return the request's body, checked to be JSON by its type and within the size limit.

    It depends on :func:`principal`: a caller without a valid key gets 401 before a byte of
    its body is read.

    The body is parsed later, by the library (in a worker), so that its problems carry the
    same paths and codes as ``mediation validate``.

    Raises
    ------
    ApiProblem
        415 for another content type, 413 over ``max_body_bytes``, 400 for an empty body.
    """
    _check_media_type(request)
    body = await _read_body(request, state)
    if not body.strip():
        raise ApiProblem(400, "malformed-json", detail="the body is empty; send a JSON document")
    return body


BodyDep = Annotated[bytes, Depends(json_body)]


def language(
    accept_language: Annotated[
        str | None,
        Header(description="`zh` or `en`: add the reasons as sentences in that language."),
    ] = None,
) -> Literal["en", "zh"] | None:
    """Return the language the client asks the reasons in (``None``: no sentences).

    The first of ``zh`` and ``en`` (with any region, ``zh-CN``) by the header's quality
    order wins; a header naming neither adds no sentences.
    """
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and quality > 0:
            ranked.append((-quality, position, primary))
    if not ranked:
        return None
    best = min(ranked)[2]
    return "zh" if best == "zh" else "en"


LangDep = Annotated[Literal["en", "zh"] | None, Depends(language)]
