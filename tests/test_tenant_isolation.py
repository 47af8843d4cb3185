"""Tenant isolation: another tenant's ids answer 404, exactly as ids that do not exist.

Tenant alpha makes one of everything (a case, a settlement, a sweep); tenant beta then calls
every route that takes an id with alpha's ids, and with ids nobody has: the two answers
must be the same 404 problem, but for the ids and the request id. ``MATRIX`` names every
``(method, path)`` of the app with a path parameter and how to call it; a route added to the
app without a row here fails :func:`test_every_route_with_an_id_is_in_the_matrix`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from service_support import Service, case_json

from api.openapi import service_routes

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class World:
    """What alpha made: the ids of its resources."""

    case_id: str
    settlement_id: str
    sweep_id: str

    def ids(self) -> dict[str, str]:
        """Return the path parameters that name alpha's resources."""
        return {
            "case_id": self.case_id,
            "settlement_id": self.settlement_id,
            "sweep_id": self.sweep_id,
        }


#: A small sweep of the community-hall case (two scenarios).
SWEEP = {
    "sweep_version": "1.0",
    "seed": 1,
    "parameters": [{"path": "stakeholders.guangchangwu.risk_capacity", "grid": [4000, 6000]}],
}
#: A what-if of the community-hall case.
WHATIF = {"whatif_version": "1.0", "pins": {"noise-risk": {"wuye": 0.3}}}

#: How a row calls its route, given the path parameters: the request's body and headers.
Request = Callable[[dict[str, str]], dict[str, Any]]


def _bare(ids: dict[str, str]) -> dict[str, Any]:
    return {}


def _json(document: object) -> Request:
    def request(ids: dict[str, str]) -> dict[str, Any]:
        return {
            "content": json.dumps(document).encode(),
            "headers": {"Content-Type": "application/json"},
        }

    return request


def _replace_case(ids: dict[str, str]) -> dict[str, Any]:
    # the case's right ETag, so that the answer turns on the tenant and nothing else
    return {
        "content": case_json("community-hall-dispute"),
        "headers": {"Content-Type": "application/json", "If-Match": f'"{ids["case_id"]}.1"'},
    }


#: Every route with a path parameter, and how to call it.
MATRIX: dict[tuple[str, str], Request] = {
    ("GET", "/v1/cases/{case_id}"): _bare,
    ("PUT", "/v1/cases/{case_id}"): _replace_case,
    ("DELETE", "/v1/cases/{case_id}"): _bare,
    ("POST", "/v1/cases/{case_id}/settlements"): _bare,
    ("GET", "/v1/cases/{case_id}/settlements"): _bare,
    ("GET", "/v1/cases/{case_id}/settlements/{settlement_id}"): _bare,
    ("GET", "/v1/cases/{case_id}/graph"): _bare,
    ("POST", "/v1/cases/{case_id}/evaluate"): _json(WHATIF),
    ("POST", "/v1/cases/{case_id}/compare"): _json({"rules": ["leximin", "nash"]}),
    ("GET", "/v1/sweeps/{sweep_id}"): _bare,
    ("GET", "/v1/sweeps/{sweep_id}/results"): _bare,
    ("DELETE", "/v1/sweeps/{sweep_id}"): _bare,
}


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    """Alpha's case, settlement and sweep."""
    client = service.client
    created = client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    settled = client.post(f"/v1/cases/{case_id}/settlements", headers=service.auth())
    assert settled.status_code == 201, settled.text
    swept = client.post(
        "/v1/sweeps", json={"case_id": case_id, "sweep": SWEEP}, headers=service.auth()
    )
    assert swept.status_code == 202, swept.text
    return World(case_id, settled.json()["id"], swept.json()["id"])


def _call(
    service: Service, tenant: str, method: str, path: str, ids: dict[str, str]
) -> httpx.Response:
    request = MATRIX[(method, path)](ids)
    headers = {**service.auth(tenant), **request.get("headers", {})}
    url = path.format(**ids)
    response: httpx.Response = service.client.request(
        method, url, headers=headers, content=request.get("content")
    )
    return response


def _as_unknown(answer: httpx.Response, ids: dict[str, str]) -> dict[str, Any]:
    """Return the answer without its ids and request id: what must not tell two ids apart."""
    text = answer.text
    for ident in ids.values():
        text = text.replace(ident, "<id>")
    body: dict[str, Any] = json.loads(text)
    body.pop("request_id", None)
    headers = sorted(
        name for name in answer.headers if name not in ("x-request-id", "content-length")
    )
    return {"status": answer.status_code, "headers": headers, "body": body}


def _unknown_ids(ids: dict[str, str]) -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in ids}


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def test_every_route_with_an_id_is_in_the_matrix(service: Service) -> None:
    app = service.client.app
    assert isinstance(app, FastAPI)
    routes = {(r.method, r.path) for r in service_routes(app) if r.path_params}
    missing = sorted(routes - MATRIX.keys())
    assert not missing, f"routes with an id and no tenant-isolation check in MATRIX: {missing}"
    gone = sorted(MATRIX.keys() - routes)
    assert not gone, f"MATRIX rows whose route the app no longer has: {gone}"


@pytest.mark.parametrize(
    ("method", "path"), sorted(MATRIX), ids=[f"{m} {p}" for m, p in sorted(MATRIX)]
)
def test_another_tenants_id_answers_exactly_as_an_unknown_id(
    service: Service, world: World, method: str, path: str
) -> None:
    names = _params(path)
    theirs = {name: world.ids()[name] for name in names}
    unknown = _unknown_ids(theirs)
    answer = _call(service, "beta", method, path, theirs)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["type"] == "urn:mediation:problem:not-found"
    nobody = _call(service, "beta", method, path, unknown)
    assert _as_unknown(answer, theirs) == _as_unknown(nobody, unknown)
    # alpha still has what beta tried to read, change or delete
    if method != "GET":
        own = _call(service, "alpha", "GET", _readable(path), theirs)
        assert own.status_code == 200, own.text


def _readable(path: str) -> str:
    """Return the GET route that shows the resource a route acts on."""
    if path.startswith("/v1/sweeps/"):
        return "/v1/sweeps/{sweep_id}"
    if "/settlements" in path:
        return "/v1/cases/{case_id}/settlements"
    return "/v1/cases/{case_id}"


def test_a_nested_id_of_another_tenant_answers_as_unknown_under_ones_own_case(
    service: Service, world: World
) -> None:
    created = service.client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers("beta")
    )
    assert created.status_code == 201, created.text
    path = "/v1/cases/{case_id}/settlements/{settlement_id}"
    mine = created.json()["id"]
    theirs = {"case_id": mine, "settlement_id": world.settlement_id}
    unknown = {"case_id": mine, "settlement_id": str(uuid.uuid4())}
    answer = _call(service, "beta", "GET", path, theirs)
    assert answer.status_code == 404, answer.text
    nobody = _call(service, "beta", "GET", path, unknown)
    assert _as_unknown(answer, theirs) == _as_unknown(nobody, unknown)


def test_a_sweep_of_another_tenants_case_answers_as_an_unknown_case(
    service: Service, world: World
) -> None:
    def sweep(case_id: str) -> httpx.Response:
        body = {"case_id": case_id, "sweep": SWEEP}
        response: httpx.Response = service.client.post(
            "/v1/sweeps", json=body, headers=service.auth("beta")
        )
        return response

    answer = sweep(world.case_id)
    assert answer.status_code == 404, answer.text
    unknown = str(uuid.uuid4())
    assert _as_unknown(answer, {"id": world.case_id}) == _as_unknown(
        sweep(unknown), {"id": unknown}
    )


def test_listings_show_only_the_tenants_own(service: Service, world: World) -> None:
    for path in ("/v1/cases", "/v1/sweeps"):
        theirs = service.client.get(path, headers=service.auth("beta"))
        assert theirs.status_code == 200, theirs.text
        assert world.case_id not in theirs.text
        assert world.sweep_id not in theirs.text
        own = service.client.get(path, headers=service.auth("alpha"))
        assert world.case_id in own.text or world.sweep_id in own.text


def test_an_idempotency_key_belongs_to_its_tenant(service: Service) -> None:
    headers = {"Idempotency-Key": f"isolation-{uuid.uuid4()}"}
    body = case_json("two-party-adjusted-winner")
    first = service.client.post("/v1/cases", content=body, headers=service.headers(**headers))
    assert first.status_code == 201, first.text
    other = service.client.post(
        "/v1/cases", content=body, headers=service.headers("beta", **headers)
    )
    assert other.status_code == 201, other.text
    assert other.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in other.headers
    read = service.client.get(f"/v1/cases/{other.json()['id']}", headers=service.auth("beta"))
    assert read.status_code == 200
