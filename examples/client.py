"""A small typed client of the mediation service: store a case, settle it, read its history.

It needs only httpx and PyYAML (not the mediation library): the bodies it sends and reads
are the service's JSON contracts, as its OpenAPI (``GET /openapi.json``) describes them. The
routes it calls are in :data:`ROUTES`; the project's tests check each against the OpenAPI
and run this client against a real server.

Run the demo against a server (``mediation serve``) with a key of a tenant
(``mediation keys create --tenant demo``)::

    MEDIATION_API_KEY=mk_... python examples/client.py cases/community-hall-dispute.yaml

Every error the service answers is a problem (RFC 9457); the client raises it as a
:class:`ServiceError` carrying the :class:`Problem`, field paths and all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import yaml

__all__ = [
    "ROUTES",
    "FieldProblem",
    "MediationClient",
    "Problem",
    "ServiceError",
    "SettlementInfo",
    "StoredCase",
    "StoredSettlement",
    "main",
]

#: The service's routes this client calls, by what they do: ``(method, path template)``.
ROUTES: dict[str, tuple[str, str]] = {
    "settle": ("POST", "/v1/settle"),
    "create_case": ("POST", "/v1/cases"),
    "get_case": ("GET", "/v1/cases/{case_id}"),
    "settle_case": ("POST", "/v1/cases/{case_id}/settlements"),
    "list_settlements": ("GET", "/v1/cases/{case_id}/settlements"),
    "get_settlement": ("GET", "/v1/cases/{case_id}/settlements/{settlement_id}"),
}


@dataclass(frozen=True)
class FieldProblem:
    """One problem of an input: the field's path (as ``mediation validate`` names it), why."""

    path: str
    code: str
    message: str


@dataclass(frozen=True)
class Problem:
    """An error the service answered (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str = ""
    instance: str = ""
    request_id: str = ""
    errors: tuple[FieldProblem, ...] = ()

    @classmethod
    def from_response(cls, response: httpx.Response) -> Problem:
        """Read the problem an error response carries (any error, problem or not)."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "type" not in body:  # not the service's problem
            return cls("about:blank", response.reason_phrase, response.status_code, response.text)
        errors = tuple(
            FieldProblem(str(e.get("path", "")), str(e.get("code", "")), str(e.get("message", "")))
            for e in body.get("errors", [])
        )
        return cls(
            type=str(body["type"]),
            title=str(body.get("title", "")),
            status=int(body.get("status", response.status_code)),
            detail=str(body.get("detail", "")),
            instance=str(body.get("instance", "")),
            request_id=str(body.get("request_id", "")),
            errors=errors,
        )


class ServiceError(Exception):
    """The service answered an error: :attr:`problem` says which and why.

    Parameters
    ----------
    problem
        The problem the service answered.
    retry_after
        Seconds to wait before retrying, when the service said (a 503 when it is busy).
    """

    def __init__(self, problem: Problem, *, retry_after: float | None = None) -> None:
        lines = [f"{problem.status} {problem.title}: {problem.detail}"]
        lines += [f"  {e.path}: {e.message}" for e in problem.errors]
        super().__init__("\n".join(lines))
        self.problem = problem
        self.retry_after = retry_after

    @property
    def slug(self) -> str:
        """The problem type's last part (``invalid-case``, ``not-found``, ``busy``)."""
        return self.problem.type.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class StoredCase:
    """A case the service stored: its id, version and the ETag that names the version."""

    id: str
    version: int
    etag: str
    case_id: str
    title: str


@dataclass(frozen=True)
class SettlementInfo:
    """A stored settlement's facts: its id, the case version it was made from, its audit."""

    id: str
    case: str
    case_version: int
    status: str
    audit: dict[str, Any]


@dataclass(frozen=True)
class StoredSettlement(SettlementInfo):
    """A stored settlement: its facts and the settlement itself (the library's contract)."""

    settlement: dict[str, Any]


def read_case_file(path: Path) -> dict[str, Any]:
    """Return the case in a YAML or JSON file as data (JSON is YAML, so one loader reads both)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a case (a mapping at its top)")
    return data


class MediationClient:
    """A client of one mediation service, as one tenant.

    Parameters
    ----------
    base_url
        The service's URL (``http://127.0.0.1:8000``).
    api_key
        The tenant's API key (``mediation keys create --tenant NAME`` prints one).
    timeout
        Seconds a request may take (a solve runs within the service's own deadline).
    transport
        An httpx transport (tests pass one that answers in-process).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> MediationClient:
        """Return the client, closed when the ``with`` block ends."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the client."""
        self.close()

    def close(self) -> None:
        """Close the client's connections."""
        self._http.close()

    def _request(
        self,
        route: str,
        *,
        ids: Mapping[str, str] | None = None,
        body: object = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        method, template = ROUTES[route]
        url = template.format(**{k: quote(v, safe="") for k, v in (ids or {}).items()})
        content = None
        sent = dict(headers or {})
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        response = self._http.request(
            method, url, content=content, params=dict(params or {}), headers=sent
        )
        if response.is_error:
            retry = response.headers.get("Retry-After")
            raise ServiceError(
                Problem.from_response(response),
                retry_after=float(retry) if retry and retry.isdigit() else None,
            )
        return response

    def settle(self, case: Mapping[str, Any], **overrides: str | bool | float) -> dict[str, Any]:
        """Settle a case without storing it; return the settlement.

        ``overrides`` are policy keys (``rule="nash"``, ``envy_free=True``).
        """
        params = {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in overrides.items()}
        settlement: dict[str, Any] = self._request("settle", body=case, params=params).json()
        return settlement

    def create_case(
        self, case: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> StoredCase:
        """Store a case (version 1); safe to retry with the same ``idempotency_key``."""
        key = idempotency_key or str(uuid.uuid4())
        response = self._request("create_case", body=case, headers={"Idempotency-Key": key})
        info = response.json()
        return StoredCase(
            info["id"], info["version"], response.headers["ETag"], info["case_id"], info["title"]
        )

    def create_case_from_file(self, path: Path) -> StoredCase:
        """Store the case in a YAML or JSON file."""
        return self.create_case(read_case_file(path))

    def get_case(self, case_id: str) -> tuple[dict[str, Any], str]:
        """Return a stored case's document and its ETag (the version's name)."""
        response = self._request("get_case", ids={"case_id": case_id})
        document: dict[str, Any] = response.json()
        return document, response.headers["ETag"]

    def settle_case(
        self, case_id: str, *, idempotency_key: str | None = None, **overrides: str | bool | float
    ) -> StoredSettlement:
        """Settle a stored case's current version and keep the settlement; return it."""
        key = idempotency_key or str(uuid.uuid4())
        response = self._request(
            "settle_case",
            ids={"case_id": case_id},
            body=dict(overrides) if overrides else None,
            headers={"Idempotency-Key": key},
        )
        return _stored(response.json())

    def settlements(self, case_id: str, *, page_size: int = 50) -> Iterator[SettlementInfo]:
        """Yield a case's settlements, oldest first, fetching a page at a time."""
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": page_size}
            if cursor:
                params["cursor"] = cursor
            page = self._request("list_settlements", ids={"case_id": case_id}, params=params).json()
            for item in page["items"]:
                yield _info(item)
            cursor = page["next_cursor"]
            if not cursor:
                return

    def get_settlement(self, case_id: str, settlement_id: str) -> StoredSettlement:
        """Return one stored settlement, with its audit record."""
        ids = {"case_id": case_id, "settlement_id": settlement_id}
        return _stored(self._request("get_settlement", ids=ids).json())


def _info(item: Mapping[str, Any]) -> SettlementInfo:
    return SettlementInfo(
        item["id"], item["case"], item["case_version"], item["status"], dict(item["audit"])
    )


def _stored(item: Mapping[str, Any]) -> StoredSettlement:
    info = _info(item)
    return StoredSettlement(
        info.id, info.case, info.case_version, info.status, info.audit, dict(item["settlement"])
    )


def main(argv: list[str] | None = None) -> int:
    """Store a case file, settle it, and show the settlement's shares and the case's history."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("case", type=Path, help="a case file (YAML or JSON)")
    parser.add_argument("--url", default=os.environ.get("MEDIATION_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("MEDIATION_API_KEY"), help="an API key")
    parser.add_argument("--rule", help="settle under this rule instead of the case's")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("give an API key: --key or MEDIATION_API_KEY")
    out = sys.stdout
    try:
        with MediationClient(args.url, args.key) as client:
            stored = client.create_case_from_file(args.case)
            out.write(f"stored {stored.case_id!r} as {stored.id} (version {stored.version})\n")
            overrides = {"rule": args.rule} if args.rule else {}
            made = client.settle_case(stored.id, **overrides)
            out.write(f"settlement {made.id}: {made.status}, rule {made.audit['rule']}\n")
            for issue, shares in made.settlement.get("shares", {}).items():
                split = ", ".join(f"{party} {share:.1%}" for party, share in shares.items())
                out.write(f"  {issue}: {split}\n")
            history = list(client.settlements(stored.id))
            out.write(f"history of {stored.id}: {len(history)} settlement(s)\n")
            for item in history:
                out.write(f"  {item.id} v{item.case_version} {item.status}\n")
    except ServiceError as exc:
        sys.stderr.write(f"the service refused: {exc}\n")
        return 1
    except httpx.HTTPError as exc:
        sys.stderr.write(f"cannot reach {args.url}: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
