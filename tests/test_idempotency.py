"""``Idempotency-Key`` on POST: replays, reused keys, tenants, 5xx, duplicates in flight."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import yaml
from fastapi import FastAPI
from service_support import LiveServer, Service, case_json
from sqlalchemy import func, select, update

from api import idempotency
from api.deps import ServiceState
from api.idempotency import (
    JOBS_PER_REQUEST,
    WRITES_PER_REQUEST,
    IdempotencyMiddleware,
    in_flight_ttl,
    request_digest,
)
from api.pool import WorkerCrashed
from api.store.engine import SQLITE_BUSY_TIMEOUT
from api.store.models import CaseRow, IdempotencyRecord
from api.store.repo import Principal, now

PROBLEM = "application/problem+json"
CASE = "two-party-adjusted-winner"
ROOT = Path(__file__).resolve().parents[1]


def _state(service: Service) -> ServiceState:
    state: ServiceState = cast(FastAPI, service.client.app).state.service
    return state


def _who(service: Service, tenant: str = "alpha") -> Principal:
    who = _state(service).store.authenticate(service.keys[tenant])
    assert who is not None
    return who


def _cases(service: Service) -> int:
    return _state(service).store.count(CaseRow)


def _middleware(service: Service) -> IdempotencyMiddleware:
    layer: Any = cast(FastAPI, service.client.app).middleware_stack
    while not isinstance(layer, IdempotencyMiddleware):
        layer = layer.app
    return layer


def _backdate(service: Service, key: str, seconds: float) -> None:
    """Make the record of ``key`` ``seconds`` old."""
    with _state(service).store.writing() as session:
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == key)
            .values(created_at=now() - dt.timedelta(seconds=seconds))
        )


def _keys(service: Service) -> set[str]:
    with _state(service).store.reading() as session:
        return set(session.scalars(select(IdempotencyRecord.key)))


def _claims(service: Service) -> int:
    with _state(service).store.reading() as session:
        return session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


def _slug(response: httpx.Response) -> str:
    assert response.headers["content-type"] == PROBLEM, response.text
    slug: str = response.json()["type"].rpartition(":")[2]
    return slug


def test_a_retry_gets_the_first_answer_byte_for_byte_and_makes_nothing(service: Service) -> None:
    client = service.client
    headers = service.headers(idempotency_key="create-1")
    first = client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    made = _cases(service)

    again = client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert again.status_code == 201
    assert again.content == first.content
    for name in ("content-type", "location", "etag"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert _cases(service) == made

    # a settlement: the solve is not run again, the history holds one
    url = f"{first.headers['location']}/settlements"
    settle_headers = service.headers(idempotency_key="settle-1")
    settled = client.post(url, json={"rule": "nash"}, headers=settle_headers)
    assert settled.status_code == 201, settled.text
    replayed = client.post(url, json={"rule": "nash"}, headers=settle_headers)
    assert replayed.content == settled.content
    assert replayed.headers["location"] == settled.headers["location"]
    assert replayed.headers["idempotent-replayed"] == "true"
    history = client.get(url, headers=service.auth()).json()
    assert [item["id"] for item in history["items"]] == [settled.json()["id"]]


def test_a_client_error_is_stored_and_replayed_too(service: Service) -> None:
    document = json.loads(case_json(CASE))
    document["interests"][0]["stakeholder"] = "nobody"
    headers = service.headers(idempotency_key="bad-case")
    first = service.client.post("/v1/cases", json=document, headers=headers)
    assert first.status_code == 422
    assert _slug(first) == "invalid-case"
    again = service.client.post("/v1/cases", json=document, headers=headers)
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


def test_the_key_with_another_request_is_422(service: Service) -> None:
    client = service.client
    headers = service.headers(idempotency_key="one-use")
    first = client.post("/v1/settle", content=case_json(CASE), headers=headers)
    assert first.status_code == 200, first.text
    other = json.loads(case_json(CASE))
    other["title"] = "another case"
    reused = [
        client.post("/v1/settle", json=other, headers=headers),
        client.post("/v1/settle?rule=nash", content=case_json(CASE), headers=headers),
        client.post(
            "/v1/settle", content=case_json(CASE), headers={**headers, "Accept-Language": "zh"}
        ),
        client.post("/v1/cases", content=case_json(CASE), headers=headers),
    ]
    for response in reused:
        assert response.status_code == 422
        assert _slug(response) == "idempotency-key-reused"
        assert "idempotent-replayed" not in response.headers
    # the first use is still what the key answers
    again = client.post("/v1/settle", content=case_json(CASE), headers=headers)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


def test_keys_are_scoped_per_tenant(service: Service) -> None:
    client = service.client
    made = {
        tenant: client.post(
            "/v1/cases",
            content=case_json(CASE),
            headers=service.headers(tenant, idempotency_key="shared-key"),
        )
        for tenant in ("alpha", "beta")
    }
    assert all(r.status_code == 201 for r in made.values())
    assert all("idempotent-replayed" not in r.headers for r in made.values())
    alpha, beta = made["alpha"].json()["id"], made["beta"].json()["id"]
    assert alpha != beta
    assert client.get(f"/v1/cases/{beta}", headers=service.auth("alpha")).status_code == 404
    assert client.get(f"/v1/cases/{alpha}", headers=service.auth("beta")).status_code == 404


def test_a_server_error_is_not_stored_and_the_retry_runs(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state(service)
    headers = service.headers(idempotency_key="flaky")

    async def crashed(*_args: Any, **_kwargs: Any) -> Any:
        raise WorkerCrashed("the test killed it")

    with monkeypatch.context() as patch:
        patch.setattr(state.pool, "run", crashed)
        busy = service.client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert busy.status_code == 503
    assert _slug(busy) == "solver-crashed"

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    with monkeypatch.context() as patch:
        patch.setattr(state.store, "create_case", broken)
        failed = service.client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert failed.status_code == 500
    assert _slug(failed) == "internal"

    before = _cases(service)
    retried = service.client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert _cases(service) == before + 1


@pytest.mark.parametrize(
    "value",
    [b"", b"x" * 256, "café".encode(), b"tab\there", b" padded"],
    ids=["empty", "too-long", "not-ascii", "control", "space"],
)
def test_an_invalid_key_is_a_422_naming_the_header(service: Service, value: bytes) -> None:
    before = _cases(service), _claims(service)
    headers = {**service.headers(), "Idempotency-Key": value}
    response = service.client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert _slug(response) == "invalid-request"
    assert "Idempotency-Key" in body["detail"]
    assert [e["path"] for e in body["errors"]] == ["header.Idempotency-Key"]
    assert (_cases(service), _claims(service)) == before


def test_two_keys_in_one_request_are_422(service: Service) -> None:
    headers = [
        *service.headers().items(),
        ("Idempotency-Key", "one"),
        ("Idempotency-Key", "two"),
    ]
    response = service.client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert response.status_code == 422
    assert _slug(response) == "invalid-request"


def test_the_longest_key_and_any_printable_character_are_accepted(service: Service) -> None:
    for key in ("k" * 255, "a b~!@#$%^&*()[]{}<>?/\\|'\"`=+-_.,;:"):
        headers = service.headers(idempotency_key=key)
        response = service.client.post("/v1/settle", content=case_json(CASE), headers=headers)
        assert response.status_code == 200, response.text


def test_authentication_comes_first_and_stores_nothing(service: Service) -> None:
    before = _claims(service)
    response = service.client.post(
        "/v1/cases",
        content=case_json(CASE),
        headers={"Content-Type": "application/json", "Idempotency-Key": "no-auth"},
    )
    assert response.status_code == 401
    assert _slug(response) == "unauthorized"
    bad_key_too = service.client.post(
        "/v1/cases",
        content=case_json(CASE),
        headers={"Authorization": "Bearer mk_no_no", "Idempotency-Key": ""},
    )
    assert bad_key_too.status_code == 401
    assert _claims(service) == before


def _hold(service: Service, key: str, body: bytes) -> tuple[Principal, str]:
    """Claim ``key`` for ``POST /v1/cases`` with ``body`` as another server would.

    Returns the tenant and the claim's token.
    """
    who = _who(service)
    digest = request_digest("POST", "/v1/cases", b"", body, b"", b"application/json")
    claim = _state(service).store.begin_idempotent(
        who, key, "POST /v1/cases", digest, ttl=3600, in_flight_ttl=3600
    )
    assert claim.state == "started"
    assert claim.claim_token is not None
    return who, claim.claim_token


def test_a_duplicate_waits_for_the_first_use_and_replays_its_answer(service: Service) -> None:
    body = case_json(CASE)
    who, token = _hold(service, "elsewhere", body)
    store = _state(service).store
    answer = b'{"made": "by the first use"}'
    finish = threading.Timer(
        0.4,
        store.finish_idempotent,
        (who, "elsewhere", token, 201, {"content-type": "x/y"}, answer),
    )
    finish.start()
    try:
        response = service.client.post(
            "/v1/cases", content=body, headers=service.headers(idempotency_key="elsewhere")
        )
    finally:
        finish.join()
    assert response.status_code == 201
    assert response.content == answer
    assert response.headers["content-type"] == "x/y"
    assert response.headers["idempotent-replayed"] == "true"


def test_a_first_use_running_past_the_deadline_is_409_then_reclaimed(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = case_json(CASE)
    _hold(service, "stuck", body)
    headers = service.headers(idempotency_key="stuck")
    with monkeypatch.context() as patch:
        patch.setattr(_state(service).settings, "deadline", 0.3)
        response = service.client.post("/v1/cases", content=body, headers=headers)
        assert response.status_code == 409
        assert _slug(response) == "idempotency-in-flight"
        assert int(response.headers["retry-after"]) >= 1

        # a live request may hold its claim through its pool jobs, each taking the whole
        # deadline, and its writes, each waiting out SQLite's busy timeout: a claim that old
        # is still not taken from it
        live = JOBS_PER_REQUEST * 0.3 + WRITES_PER_REQUEST * SQLITE_BUSY_TIMEOUT
        _backdate(service, "stuck", live)
        waited = service.client.post("/v1/cases", content=body, headers=headers)
        assert waited.status_code == 409, waited.text
        assert _slug(waited) == "idempotency-in-flight"

    # the server that claimed it died: past the in-flight limit, a retry runs
    _backdate(service, "stuck", in_flight_ttl(_state(service).settings.deadline) + 1)
    retried = service.client.post("/v1/cases", content=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers


def test_the_in_flight_limit_covers_the_most_pool_jobs_a_post_runs(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state(service)
    real = state.pool.run
    jobs: list[object] = []

    async def counted(func: Any, /, *args: Any, deadline: float) -> Any:
        jobs.append(func)
        return await real(func, *args, deadline=deadline)

    monkeypatch.setattr(state.pool, "run", counted)
    case = json.loads(case_json("community-hall-dispute"))
    sweep = yaml.safe_load((ROOT / "cases/sweeps/community-hall.sweep.yaml").read_text("utf-8"))
    made = service.client.post("/v1/cases", json=case, headers=service.headers())
    assert made.status_code == 201, made.text
    url = f"{made.headers['location']}/settlements"
    # the sweep is refused once planned (too many scenarios): both its jobs ran, none queued
    monkeypatch.setattr(state.settings, "max_sweep_scenarios", 1)
    requests = {
        "case": ("/v1/cases", case),
        "settle": ("/v1/settle", case),
        "settlement": (url, {"rule": "nash"}),
        "sweep": ("/v1/sweeps", {"case": case, "sweep": sweep}),
    }
    counts: dict[str, int] = {}
    for name, (path, document) in requests.items():
        jobs.clear()
        response = service.client.post(path, json=document, headers=service.headers())
        assert response.status_code < 500, response.text
        counts[name] = len(jobs)
    assert counts["sweep"] == JOBS_PER_REQUEST, counts
    assert max(counts.values()) <= JOBS_PER_REQUEST, counts


def test_a_415_is_not_stored_and_the_retry_with_the_type_fixed_runs(service: Service) -> None:
    client = service.client
    headers = service.headers(idempotency_key="wrong-type")
    as_text = {**headers, "Content-Type": "text/plain"}
    wrong = client.post("/v1/cases", content=case_json(CASE), headers=as_text)
    assert wrong.status_code == 415
    assert _slug(wrong) == "unsupported-media-type"

    fixed = client.post("/v1/cases", content=case_json(CASE), headers=headers)
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    # the media type is part of the request: its parameters and case are not
    same = {**headers, "Content-Type": "Application/JSON; charset=utf-8"}
    again = client.post("/v1/cases", content=case_json(CASE), headers=same)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == fixed.content
    other = client.post("/v1/cases", content=case_json(CASE), headers=as_text)
    assert other.status_code == 422
    assert _slug(other) == "idempotency-key-reused"


def test_forgotten_records_are_purged_at_most_once_a_minute(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state(service)
    who = _who(service)
    ttl = state.settings.idempotency_ttl
    limit = in_flight_ttl(state.settings.deadline)
    ages = {  # key → (answered, age in seconds)
        "purge-old-answer": (True, ttl + 1),
        "purge-dead-claim": (False, limit + 1),
        "purge-live-claim": (False, limit - 5),
        "purge-recent-answer": (True, min(limit + 1, ttl - 5)),
        "purge-fresh-answer": (True, 0.0),
    }
    for key, (answered, age) in ages.items():
        claim = state.store.begin_idempotent(who, key, "POST /x", "d", ttl=ttl, in_flight_ttl=limit)
        assert claim.claim_token is not None
        if answered:
            assert state.store.finish_idempotent(who, key, claim.claim_token, 200, {}, b"{}")
        _backdate(service, key, age)

    def post(key: str) -> None:
        response = service.client.post(
            "/v1/settle", content=case_json(CASE), headers=service.headers(idempotency_key=key)
        )
        assert response.status_code == 200, response.text

    monkeypatch.setattr(idempotency, "PURGE_EVERY", 0.0)
    post("purge-trigger-1")
    assert _keys(service) & set(ages) == {
        "purge-live-claim",
        "purge-recent-answer",
        "purge-fresh-answer",
    }

    # within the minute, a record that has just expired is left for the next purge
    monkeypatch.setattr(idempotency, "PURGE_EVERY", 60.0)
    _backdate(service, "purge-fresh-answer", ttl + 1)
    post("purge-trigger-2")
    assert "purge-fresh-answer" in _keys(service)
    middleware = _middleware(service)
    assert middleware._purged_at is not None
    middleware._purged_at -= 61.0
    post("purge-trigger-3")
    assert "purge-fresh-answer" not in _keys(service)
    assert {"purge-trigger-1", "purge-trigger-2", "purge-trigger-3"} <= _keys(service)


def test_duplicates_past_the_cap_are_409_at_once(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = case_json(CASE)
    who, token = _hold(service, "crowded", body)
    slot = (who.tenant_id, "crowded")
    middleware = _middleware(service)
    monkeypatch.setattr(idempotency, "MAX_WAITERS", 2)
    monkeypatch.setattr(_state(service).settings, "deadline", 5.0)
    headers = service.headers(idempotency_key="crowded")
    answer = b'{"made": "by the first use"}'

    def post() -> httpx.Response:
        response: httpx.Response = service.client.post("/v1/cases", content=body, headers=headers)
        return response

    with ThreadPoolExecutor(2) as threads:
        waiting = [threads.submit(post) for _ in range(2)]
        ends = time.monotonic() + 5
        while middleware._waiters.get(slot, 0) < 2:
            assert time.monotonic() < ends, "the duplicates did not start waiting"
            time.sleep(0.01)
        began = time.monotonic()
        crowded = post()
        took = time.monotonic() - began
        assert crowded.status_code == 409
        assert _slug(crowded) == "idempotency-in-flight"
        assert "2 duplicates of it wait already" in crowded.json()["detail"]
        assert int(crowded.headers["retry-after"]) >= 1
        assert took < 2.0, f"the duplicate past the cap waited {took:.1f} s"
        _state(service).store.finish_idempotent(
            who, "crowded", token, 201, {"content-type": "x/y"}, answer
        )
        answers = [future.result(timeout=10) for future in waiting]
    assert [(r.status_code, r.content) for r in answers] == [(201, answer)] * 2
    assert all(r.headers["idempotent-replayed"] == "true" for r in answers)
    assert slot not in middleware._waiters


def test_every_post_documents_the_header(service: Service) -> None:
    schema = service.client.get("/openapi.json").json()
    posts = {p: item["post"] for p, item in schema["paths"].items() if "post" in item}
    assert posts, "no POST operation in the OpenAPI"
    for path, operation in posts.items():
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names.count("Idempotency-Key") == 1, path
        assert "409" in operation["responses"], path


# --- against a real server ---------------------------------------------------------------------


async def _at_once(
    base_url: str, path: str, body: bytes, headers: dict[str, str], count: int
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        start = asyncio.Event()

        async def one() -> httpx.Response:
            await start.wait()
            return await client.post(path, content=body, headers=headers)

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        await asyncio.sleep(0)  # every task waits on the event: they go together
        start.set()
        return await asyncio.gather(*tasks)


def test_fifty_concurrent_duplicates_make_one_resource_and_fifty_identical_answers(
    live: tuple[LiveServer, str],
) -> None:
    server, key = live
    auth = {"Authorization": f"Bearer {key}"}
    headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": "fifty-cases"}
    answers = asyncio.run(_at_once(server.base_url, "/v1/cases", case_json(CASE), headers, 50))
    assert {r.status_code for r in answers} == {201}, {r.text for r in answers}
    assert len({r.content for r in answers}) == 1
    assert len({r.headers["location"] for r in answers}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in answers) == 1
    listed = httpx.get(f"{server.base_url}/v1/cases?limit=100", headers=auth).json()
    assert [item["id"] for item in listed["items"]] == [answers[0].json()["id"]]

    # and a solve: fifty duplicates of one settlement make one
    url = f"{answers[0].headers['location']}/settlements"
    headers["Idempotency-Key"] = "fifty-settlements"
    settled = asyncio.run(_at_once(server.base_url, url, b'{"rule": "nash"}', headers, 50))
    assert {r.status_code for r in settled} == {201}, {r.text for r in settled}
    assert len({r.content for r in settled}) == 1
    history = httpx.get(f"{server.base_url}{url}", headers=auth).json()
    assert [item["id"] for item in history["items"]] == [settled[0].json()["id"]]
