"""The service's routes in-process: settle, cases and versions, settlements, errors as problems."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from service_support import CASE_FILES, Service, case_json

from mediation.validator import validate_settlement

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:mediation:problem:{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_settle_answers_what_the_library_does_for_every_bundled_case(
    service: Service, path: object
) -> None:
    from pathlib import Path

    from mediation import load_case, settle

    assert isinstance(path, Path)
    response = service.client.post(
        "/v1/settle", content=case_json(path.stem), headers=service.headers()
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    case = load_case(path.read_text(encoding="utf-8"))
    expected = settle(case)
    assert body["status"] == expected.status
    assert body["rule"] == expected.rule
    for issue, shares in expected.model_dump(mode="json")["shares"].items():
        assert body["shares"][issue] == pytest.approx(shares)
    assert body["explanation"] is None
    from mediation.settlement import Settlement

    assert not validate_settlement(case, Settlement.model_validate(body))


def test_settle_takes_policy_overrides_and_the_language(service: Service) -> None:
    response = service.client.post(
        "/v1/settle?rule=nash&envy_free=true",
        content=case_json("community-hall-dispute"),
        headers=service.headers(accept_language="zh-CN,zh;q=0.9,en;q=0.5"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rule"] == "nash"
    assert body["provenance"]["policy"]["envy_free"] is True
    assert body["explanation"]["lang"] == "zh"
    assert any("。" in s for s in body["explanation"]["sentences"])


def test_an_invalid_case_lists_every_problem_with_the_paths_of_mediation_validate(
    service: Service,
) -> None:
    document = json.loads(case_json("community-hall-dispute"))
    document["interests"][0]["stakeholder"] = "nobody"
    document["issues"][0]["amount"] = True
    response = service.client.post("/v1/settle", json=document, headers=service.auth())
    body = _problem(response, 422, "invalid-case")
    paths = {e["path"] for e in body["errors"]}
    assert "interests[0].stakeholder" in paths
    assert "issues[0].amount" in paths


@pytest.mark.parametrize(
    ("content", "content_type", "status", "slug"),
    [
        (b"{not json", "application/json", 400, "malformed-json"),
        (b"", "application/json", 400, "malformed-json"),
        (b'{"id": 1, "id": 2}', "application/json", 422, "invalid-case"),
        (b"id: x", "application/yaml", 415, "unsupported-media-type"),
        (b"{}", "text/plain", 415, "unsupported-media-type"),
        (b"[1, 2]", "application/json", 422, "invalid-case"),
    ],
)
def test_bad_bodies_are_problems(
    service: Service, content: bytes, content_type: str, status: int, slug: str
) -> None:
    headers = {**service.auth(), "Content-Type": content_type}
    response = service.client.post("/v1/settle", content=content, headers=headers)
    _problem(response, status, slug)


def test_a_body_over_the_limit_is_413(service: Service) -> None:
    big = b'{"id": "' + b"x" * (service.settings.max_body_bytes + 10) + b'"}'
    response = service.client.post("/v1/settle", content=big, headers=service.headers())
    _problem(response, 413, "body-too-large")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer mk_nope_nope"}, {"Authorization": "Basic abc"}],
    ids=["none", "wrong", "scheme"],
)
def test_without_a_valid_key_every_route_is_401(service: Service, headers: dict[str, str]) -> None:
    response = service.client.post(
        "/v1/settle",
        content=case_json("community-hall-dispute"),
        headers={**headers, "Content-Type": "application/json"},
    )
    _problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    _problem(service.client.get("/v1/cases", headers=headers), 401, "unauthorized")


def test_bad_query_values_are_problems_with_their_paths(service: Service) -> None:
    response = service.client.post(
        "/v1/settle?rule=lottery",
        content=case_json("community-hall-dispute"),
        headers=service.headers(),
    )
    body = _problem(response, 422, "invalid-request")
    assert any(e["path"] == "query.rule" for e in body["errors"])


def test_a_case_is_stored_versioned_and_settled_with_its_history(service: Service) -> None:
    client = service.client
    document = case_json("community-hall-dispute")
    created = client.post("/v1/cases", content=document, headers=service.headers())
    assert created.status_code == 201, created.text
    info = created.json()
    case_id = info["id"]
    assert info["version"] == 1
    assert created.headers["location"] == f"/v1/cases/{case_id}"
    etag = created.headers["etag"]

    read = client.get(f"/v1/cases/{case_id}", headers=service.auth())
    assert read.status_code == 200
    assert read.headers["etag"] == etag
    assert read.json() == json.loads(document)

    first = client.post(f"/v1/cases/{case_id}/settlements", headers=service.auth())
    assert first.status_code == 201, first.text
    assert first.json()["case_version"] == 1
    assert first.json()["audit"]["tenant"] == "alpha"

    changed = json.loads(document)
    changed["title"] = "社区活动中心分配（第二稿）"
    _problem(
        client.put(f"/v1/cases/{case_id}", json=changed, headers=service.auth()),
        428,
        "precondition-required",
    )
    updated = client.put(
        f"/v1/cases/{case_id}", json=changed, headers={**service.auth(), "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    stale = client.put(
        f"/v1/cases/{case_id}", json=changed, headers={**service.auth(), "If-Match": etag}
    )
    _problem(stale, 412, "version-mismatch")

    second = client.post(
        f"/v1/cases/{case_id}/settlements", json={"rule": "nash"}, headers=service.auth()
    )
    assert second.status_code == 201, second.text
    assert second.json()["case_version"] == 2
    assert second.json()["settlement"]["rule"] == "nash"

    history = client.get(f"/v1/cases/{case_id}/settlements", headers=service.auth()).json()
    assert [item["case_version"] for item in history["items"]] == [1, 2]
    assert history["next_cursor"] is None
    again = client.get(first.headers["location"], headers=service.auth())
    assert again.json() == first.json()  # never rewritten
    old = client.get(f"/v1/cases/{case_id}?version=1", headers=service.auth())
    assert old.json()["title"] == json.loads(document)["title"]

    assert client.delete(f"/v1/cases/{case_id}", headers=service.auth()).status_code == 204
    _problem(client.get(f"/v1/cases/{case_id}", headers=service.auth()), 404, "not-found")


def test_the_listing_is_cursor_paginated(service: Service) -> None:
    ids = []
    for _ in range(5):
        made = service.client.post(
            "/v1/cases",
            content=case_json("two-party-adjusted-winner"),
            headers=service.headers("beta"),
        )
        ids.append(made.json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = service.client.get(f"/v1/cases{query}", headers=service.auth("beta")).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    _problem(
        service.client.get("/v1/cases?cursor=zzz", headers=service.auth("beta")),
        422,
        "invalid-request",
    )


def test_settlement_options_in_the_body_are_strict(service: Service) -> None:
    made = service.client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    ).json()
    url = f"/v1/cases/{made['id']}/settlements"
    body = _problem(
        service.client.post(url, json={"envy_free": "yes", "colour": 1}, headers=service.auth()),
        422,
        "invalid-request",
    )
    paths = {e["path"] for e in body["errors"]}
    assert paths == {"envy_free", "colour"}


def test_unknown_routes_and_methods_are_problems(service: Service) -> None:
    _problem(service.client.get("/v1/nowhere", headers=service.auth()), 404, "not-found")
    _problem(service.client.put("/v1/settle", headers=service.auth()), 405, "method-not-allowed")


def test_health_answers(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "pool": True}


def test_a_caller_without_a_key_is_refused_before_its_body_is_judged(service: Service) -> None:
    # neither the content type (415) nor the body (400) is looked at first
    response = service.client.post(
        "/v1/cases", content=b"{not json", headers={"Content-Type": "text/plain"}
    )
    _problem(response, 401, "unauthorized")


@pytest.mark.parametrize(
    "query",
    ["cursor=czk5OTk5OTk5OTk5OTk5OTk5OTk", "cursor=c-_-", "limit=0", "limit=100000"],
)
def test_out_of_range_page_queries_are_problems(service: Service, query: str) -> None:
    _problem(
        service.client.get(f"/v1/cases?{query}", headers=service.auth()), 422, "invalid-request"
    )


def test_an_out_of_range_version_is_a_problem(service: Service) -> None:
    made = service.client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    ).json()
    response = service.client.get(
        f"/v1/cases/{made['id']}?version=100000000000000000000", headers=service.auth()
    )
    _problem(response, 422, "invalid-request")


def test_if_match_compares_as_rfc_9110_says(service: Service) -> None:
    client = service.client
    made = client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    )
    case_id, etag = made.json()["id"], made.headers["etag"]
    url = f"/v1/cases/{case_id}"
    document = case_json("community-hall-dispute")

    def put(if_match: str) -> httpx.Response:
        response: httpx.Response = client.put(
            url, content=document, headers=service.headers(if_match=if_match)
        )
        return response

    _problem(put(f"W/{etag}"), 412, "version-mismatch")  # strong comparison only
    listed = put(f'"{case_id}.7", {etag}')
    assert listed.status_code == 200, listed.text
    assert listed.json()["version"] == 2
    star = put("*")
    assert star.status_code == 200, star.text
    assert star.json()["version"] == 3
    _problem(put(etag), 412, "version-mismatch")
    _problem(
        client.delete(url, headers={**service.auth(), "If-Match": etag}), 412, "version-mismatch"
    )
    assert client.delete(url, headers={**service.auth(), "If-Match": "*"}).status_code == 204
