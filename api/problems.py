"""Errors as RFC 9457 problem details (``application/problem+json``), mapped in one place.

Every error the service answers has a ``type`` (a stable URN a client may switch on), a
``title``, the HTTP ``status``, a ``detail`` for a person and the request's id; an invalid
input lists ``errors``, each with the field's ``path``, a ``code`` and a ``message``, the
same as ``mediation validate --format json`` prints.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediation.errors import Problem, field_path

from .logs import error_fields

__all__ = [
    "PROBLEM_SCHEMA",
    "PROBLEM_TYPE",
    "ApiProblem",
    "install_handlers",
    "problem_response",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: The prefix of every problem's ``type``.
PROBLEM_TYPE = "urn:mediation:problem:"

#: Titles of the problem types, by slug.
_TITLES: dict[str, str] = {
    "invalid-case": "The case is not valid",
    "invalid-policy": "The policy cannot apply to this case",
    "invalid-request": "The request is not valid",
    "invalid-whatif": "The what-if is not valid",
    "invalid-sweep": "The sweep is not valid",
    "malformed-json": "The body is not a JSON document",
    "body-too-large": "The body is larger than the service accepts",
    "unsupported-media-type": "The body must be JSON",
    "unauthorized": "A valid API key is required",
    "not-found": "No such resource",
    "method-not-allowed": "The resource does not answer this method",
    "not-acceptable": "The service cannot answer in the format asked for",
    "version-mismatch": "The resource changed since the version given",
    "precondition-required": "The request must say which version it changes (If-Match)",
    "idempotency-key-reused": "The Idempotency-Key was used with another request",
    "idempotency-in-flight": "A request with this Idempotency-Key is still running",
    "sweep-finished": "The sweep has already finished",
    "busy": "Every solver is busy; retry later",
    "deadline-exceeded": "The solve ran past the service's deadline and was stopped",
    "solver-crashed": "The solver process stopped unexpectedly",
    "unavailable": "The service cannot answer now",
    "internal": "Internal error",
}

#: The JSON Schema of a problem, for the OpenAPI.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "examples": [PROBLEM_TYPE + "invalid-case"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "code", "message"],
                "properties": {
                    "path": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


class ApiProblem(Exception):  # noqa: N818 - a problem (RFC 9457), not a programming error
    """An error answered as a problem: ``raise ApiProblem(404, "not-found", detail=...)``.

    Parameters
    ----------
    status
        The HTTP status.
    slug
        The problem type's slug (a key of the titles table): ``type`` is
        ``urn:mediation:problem:<slug>``.
    detail
        What went wrong, for a person: name the field, the id, the numbers.
    errors
        The input's problems, each with its field path.
    headers
        Headers to send with it (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self,
        status: int,
        slug: str,
        *,
        detail: str = "",
        errors: Iterable[Problem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if slug not in _TITLES:
            raise ValueError(f"unknown problem type {slug!r}")
        super().__init__(detail or _TITLES[slug])
        self.status = status
        self.slug = slug
        self.detail = detail or _TITLES[slug]
        self.errors = tuple(errors)
        self.headers = dict(headers or {})


def problem_body(problem: ApiProblem, request: Request | None = None) -> dict[str, Any]:
    """Return the JSON body of ``problem``."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + problem.slug,
        "title": _TITLES[problem.slug],
        "status": problem.status,
        "detail": problem.detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    if problem.errors:
        body["errors"] = [
            {"path": p.path, "code": p.code, "message": p.message} for p in problem.errors
        ]
    return body


def problem_response(problem: ApiProblem, request: Request | None = None) -> JSONResponse:
    """Return ``problem`` as an ``application/problem+json`` response."""
    return JSONResponse(
        problem_body(problem, request),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


_HTTP_SLUGS = {
    400: "invalid-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "body-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
}


def _validation_problems(exc: RequestValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        # FastAPI's location starts with where the value was read: query, header, path, body
        loc = [part for part in error.get("loc", ()) if isinstance(part, int | str)]
        problems.append(Problem(field_path(loc), str(error.get("msg", "invalid")), error["type"]))
    return problems


def install_handlers(app: FastAPI) -> None:
    """Answer every error with a problem: the service's own, FastAPI's and an unexpected one."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = _validation_problems(exc)
        detail = "; ".join(str(p) for p in problems[:5]) or "the request is not valid"
        return problem_response(
            ApiProblem(422, "invalid-request", detail=detail, errors=problems), request
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _HTTP_SLUGS.get(
            exc.status_code, "invalid-request" if exc.status_code < 500 else "internal"
        )
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return problem_response(
            ApiProblem(exc.status_code, slug, detail=detail, headers=exc.headers), request
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error(
            "unexpected error",
            extra={"request_id": getattr(request.state, "request_id", ""), **error_fields(exc)},
        )
        return problem_response(ApiProblem(500, "internal"), request)

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
