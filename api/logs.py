"""Structured logs: one JSON object a line, every request with its id; never a case's content."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JsonFormatter", "RequestIdMiddleware", "configure_logging", "error_fields"]

logger = logging.getLogger("api.access")

#: A client's ``X-Request-ID`` is kept when it looks like an id (no spaces, no markup).
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

#: The attributes every log record has: the rest were passed with ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def error_fields(exc: BaseException) -> dict[str, str]:
    """Return what a log may say of an error: its type and where it was raised.

    Never its message: the library's messages name the case's parties, issues and figures.
    """
    return {
        "error": type(exc).__qualname__,
        "frames": "".join(traceback.format_tb(exc.__traceback__)),
    }


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message and its extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as JSON."""
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {
                k: v
                for k, v in record.__dict__.items()
                if k not in _STANDARD and not k.startswith("_")
            }
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the service's and the library's logs to standard error as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log repeats ours, without the request id
    logging.getLogger("uvicorn.access").disabled = True


class RequestIdMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` if sane), answer it, log it.

    The access log line holds the method, the path, the status, the duration and the tenant,
    never the body: cases name real people and organisations.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _CLIENT_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            who = scope.get("state", {}).get("principal")
            logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "tenant": getattr(who, "tenant", None),
                },
            )
