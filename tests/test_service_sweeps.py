"""Sweeps over HTTP: checked before they are queued, run in the background, resumed after a crash.

Each sweep's summary and rows are compared with what the library gives for the same case and
sweep file (:func:`mediation.sweep.run_sweep`, :func:`~mediation.sweep.iter_rows`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from service_support import Service, case_json, make_keys, start_server
from sqlalchemy import select

from api.settings import Settings
from api.store.models import SweepRow
from api.store.repo import Store
from mediation import load_case
from mediation.sweep import SweepPlan, iter_rows, parse_sweep, plan_sweep, run_sweep

PROBLEM = "application/problem+json"
ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "cases" / "sweeps"


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:mediation:problem:{slug}"
    return body


def _paths(body: dict[str, Any]) -> set[str]:
    return {e["path"] for e in body.get("errors", [])}


def _sweep(name: str, **changes: Any) -> dict[str, Any]:
    """Return a bundled sweep file as JSON data, with ``changes`` (fewer samples: quicker)."""
    data: dict[str, Any] = yaml.safe_load((SWEEPS / f"{name}.sweep.yaml").read_text("utf-8"))
    return {**data, **changes}


def _small() -> dict[str, Any]:
    """Return the community hall's sweep on its grids alone: 6 scenarios."""
    return _sweep(
        "community-hall", samples=1, parameters=_sweep("community-hall")["parameters"][3:]
    )


def _plan(stem: str, sweep: dict[str, Any]) -> SweepPlan:
    case = load_case((ROOT / "cases" / f"{stem}.yaml").read_text(encoding="utf-8"))
    return plan_sweep(case, parse_sweep(sweep))


def _wait(get: Any, url: str, *, until: Any, timeout: float = 60.0) -> dict[str, Any]:
    ends = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = get(url).json()
        if until(state):
            return state
        assert time.monotonic() < ends, f"the sweep did not get there in {timeout} s: {state}"
        time.sleep(0.05)


def _finished(state: dict[str, Any]) -> bool:
    return state["status"] not in ("queued", "running")


def _all_rows(get: Any, url: str, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = get(url + f"/results?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200, page.text
        body = page.json()
        rows += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


@pytest.fixture(scope="module")
def hall_id(service: Service) -> str:
    response = service.client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    )
    assert response.status_code == 201, response.text
    identifier: str = response.json()["id"]
    return identifier


def _get(service: Service, tenant: str = "alpha") -> Any:
    return lambda url: service.client.get(url, headers=service.auth(tenant))


def test_a_sweep_of_a_case_in_the_body_gives_the_librarys_summary_and_rows(
    service: Service,
) -> None:
    # the PPP sweep, robust split included, with 3 samples per grid point instead of 50
    sweep = _sweep("ppp-risk-sharing", samples=3)
    plan = _plan("ppp-risk-sharing", sweep)
    case = json.loads(case_json("ppp-risk-sharing"))
    response = service.client.post(
        "/v1/sweeps", json={"case": case, "sweep": sweep}, headers=service.auth()
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["location"] == f"/v1/sweeps/{accepted['id']}"
    assert (accepted["total"], accepted["case"], accepted["summary"]) == (18, None, None)
    assert accepted["status"] in ("queued", "running")
    get = _get(service)
    state = _wait(get, response.headers["location"], until=_finished)
    assert (state["status"], state["completed"], state["error"]) == ("done", 18, None)
    expected = run_sweep(plan)
    assert expected.robust is not None
    assert expected.robust.status == "computed"
    assert state["summary"] == expected.model_dump(mode="json")
    # the rows, in scenario order and page by page, are the library's
    assert _all_rows(get, response.headers["location"], limit=5) == list(iter_rows(plan))


def test_a_sweep_of_a_stored_case_sweeps_its_current_version(
    service: Service, hall_id: str
) -> None:
    sweep = _sweep("community-hall", samples=2)
    plan = _plan("community-hall-dispute", sweep)
    response = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    )
    assert response.status_code == 202, response.text
    assert (response.json()["case"], response.json()["case_version"]) == (hall_id, 1)
    state = _wait(_get(service), response.headers["location"], until=_finished)
    assert state["status"] == "done", state
    assert state["summary"] == run_sweep(plan).model_dump(mode="json")
    assert state["summary"]["scenarios"] == plan.scenarios == 12


def test_the_sweeps_are_listed_by_tenant_a_page_at_a_time(service: Service, hall_id: str) -> None:
    sweep = _small()
    made = []
    for _ in range(3):
        response = service.client.post(
            "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
        )
        assert response.status_code == 202, response.text
        made.append(response.json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = service.client.get("/v1/sweeps" + query, headers=service.auth()).json()
        assert len(page["items"]) <= 2
        assert all("summary" not in item for item in page["items"])
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[-3:] == made  # oldest first
    assert len(seen) == len(set(seen))
    other = service.client.get("/v1/sweeps", headers=service.auth("beta")).json()
    assert not set(made) & {item["id"] for item in other["items"]}
    for identifier in made:
        _wait(_get(service), f"/v1/sweeps/{identifier}", until=_finished)


@pytest.mark.parametrize(
    ("change", "paths"),
    [
        (
            {"parameters": [{"path": "pins.noise-risk.wuye", "grid": [0.1, 0.4]}]},
            {"sweep.parameters[0].grid[0]"},  # below the party's own floor of 20%
        ),
        (
            {"parameters": [{"path": "issues.no-such-issue.amount", "grid": [1, 2]}]},
            {"sweep.parameters[0].path"},
        ),
        (
            {
                "parameters": [
                    {"path": "issues.noise-risk.probability", "grid": [0.5, 1.5]},
                    {"path": "stakeholders.nobody.weight", "grid": [2]},
                ]
            },
            {"sweep.parameters[0].grid[1]", "sweep.parameters[1].path"},
        ),
        ({"seed": -1}, {"sweep.seed"}),
        ({"samples": 100}, {"sweep.samples"}),  # samples without a distribution
        ({"colour": "red"}, {"sweep"}),
    ],
    ids=["pin-below-floor", "unknown-issue", "every-problem", "seed", "samples", "unknown-key"],
)
def test_a_wrong_sweep_is_422_with_every_path_before_anything_is_queued(
    service: Service, hall_id: str, change: dict[str, Any], paths: set[str]
) -> None:
    from mediation.errors import SweepError

    sweep = {"sweep_version": "1.0", "seed": 1, "parameters": [], **change}
    if "parameters" not in change:
        sweep["parameters"] = [{"path": "stakeholders.guangchangwu.risk_capacity", "grid": [1e4]}]
    with pytest.raises(SweepError):  # the library refuses it too
        _plan("community-hall-dispute", sweep)
    before = service.client.get("/v1/sweeps?limit=1000", headers=service.auth()).json()
    response = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    )
    body = _problem(response, 422, "invalid-sweep")
    assert paths <= _paths(body), body
    after = service.client.get("/v1/sweeps?limit=1000", headers=service.auth()).json()
    assert len(after["items"]) == len(before["items"])


def test_a_sweep_over_the_services_limit_is_422(service: Service, hall_id: str) -> None:
    limit = service.settings.max_sweep_scenarios
    sweep = {
        "sweep_version": "1.0",
        "seed": 1,
        "samples": limit + 1,
        "parameters": [
            {
                "path": "issues.noise-risk.probability",
                "distribution": {"kind": "uniform", "low": 0.2, "high": 0.6},
            }
        ],
    }
    response = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    )
    body = _problem(response, 422, "invalid-sweep")
    assert [(e["path"], e["code"]) for e in body["errors"]] == [("sweep.samples", "too_large")]


def test_a_wrong_case_or_body_is_refused_with_its_paths(service: Service, hall_id: str) -> None:
    sweep = _small()
    case = json.loads(case_json("community-hall-dispute"))
    case["interests"][0]["stakeholder"] = "nobody"
    wrong_case = service.client.post(
        "/v1/sweeps", json={"case": case, "sweep": sweep}, headers=service.auth()
    )
    assert "case.interests[0].stakeholder" in _paths(_problem(wrong_case, 422, "invalid-case"))
    for body, paths in (
        ({"sweep": sweep}, {"case_id"}),
        ({"case_id": hall_id, "case": case, "sweep": sweep}, {"case_id"}),
        ({"case_id": hall_id}, {"sweep"}),
        ({"case_id": 7, "sweep": sweep}, {"case_id"}),
        ({"case_id": hall_id, "sweep": sweep, "when": "now"}, {"when"}),
        ([sweep], {""}),
    ):
        response = service.client.post(
            "/v1/sweeps", content=json.dumps(body), headers=service.headers()
        )
        assert paths <= _paths(_problem(response, 422, "invalid-sweep")), body
    malformed = service.client.post("/v1/sweeps", content=b'{"sweep": {', headers=service.headers())
    _problem(malformed, 400, "malformed-json")


def test_unknown_and_other_tenants_sweeps_and_cases_are_404(service: Service, hall_id: str) -> None:
    sweep = _small()
    for tenant, case_id in (("alpha", "no-such-case"), ("beta", hall_id)):
        response = service.client.post(
            "/v1/sweeps", json={"case_id": case_id, "sweep": sweep}, headers=service.auth(tenant)
        )
        _problem(response, 404, "not-found")
    mine = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    ).json()["id"]
    for tenant, sweep_id in (("alpha", "no-such-sweep"), ("beta", mine)):
        for method, path in (
            ("GET", f"/v1/sweeps/{sweep_id}"),
            ("GET", f"/v1/sweeps/{sweep_id}/results"),
            ("DELETE", f"/v1/sweeps/{sweep_id}"),
        ):
            response = service.client.request(method, path, headers=service.auth(tenant))
            _problem(response, 404, "not-found")
    _wait(_get(service), f"/v1/sweeps/{mine}", until=_finished)
    bad_cursor = service.client.get(
        f"/v1/sweeps/{mine}/results?cursor=nonsense", headers=service.auth()
    )
    assert "query.cursor" in _paths(_problem(bad_cursor, 422, "invalid-request"))


def test_cancelling_stops_a_running_sweep_keeps_its_rows_and_a_queued_one_never_runs(
    service: Service, hall_id: str
) -> None:
    sweep = _sweep("community-hall")  # 600 scenarios: ten seconds and more on one process
    get = _get(service)
    first = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    )
    second = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": sweep}, headers=service.auth()
    )
    running = first.headers["location"]
    queued = second.headers["location"]
    _wait(get, running, until=lambda s: s["status"] == "running" and s["completed"] > 0)
    assert get(queued).json()["status"] == "queued"  # one sweep at a time
    cancelled = service.client.delete(queued, headers=service.auth())
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["completed"]) == ("cancelled", 0)
    stopped = service.client.delete(running, headers=service.auth())
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "cancelled"
    time.sleep(1.0)  # a batch still running when it was cancelled must not be stored
    state = get(running).json()
    assert state["status"] == "cancelled"
    assert state["completed"] == stopped.json()["completed"]
    assert 0 < state["completed"] < 600
    assert state["summary"] is None
    rows = _all_rows(get, running, limit=1000)
    assert [r["scenario"] for r in rows] == list(range(state["completed"]))
    assert get(queued).json()["completed"] == 0
    again = service.client.delete(running, headers=service.auth())
    _problem(again, 409, "sweep-finished")
    # the manager is free again: the next sweep runs
    quick = _small()
    after = service.client.post(
        "/v1/sweeps", json={"case_id": hall_id, "sweep": quick}, headers=service.auth()
    )
    assert _wait(get, after.headers["location"], until=_finished)["status"] == "done"


def test_sweeps_run_on_a_dask_cluster_when_a_scheduler_is_set(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from fastapi.testclient import TestClient

    from api.app import create_app

    sweep = _sweep("community-hall", samples=2)
    plan = _plan("community-hall-dispute", sweep)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        settings = Settings(data_dir=tmp_path, workers=1, dask_scheduler=cluster.scheduler_address)
        key = make_keys(settings, ("alpha",))["alpha"]
        headers = {"Authorization": f"Bearer {key}"}
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            case = json.loads(case_json("community-hall-dispute"))
            response = client.post(
                "/v1/sweeps", json={"case": case, "sweep": sweep}, headers=headers
            )
            assert response.status_code == 202, response.text
            state = _wait(
                lambda url: client.get(url, headers=headers),
                response.headers["location"],
                until=_finished,
            )
            assert "settle_batch" in cluster.scheduler.task_prefixes  # they ran there
    assert (state["status"], state["error"]) == ("done", None)
    assert state["summary"] == run_sweep(plan).model_dump(mode="json")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_sweep_survives_a_killed_server_and_ends_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    # 120 scenarios of the community hall, in batches of 30: seconds on one sweep process
    sweep = _sweep("community-hall", samples=20)
    plan = _plan("community-hall-dispute", sweep)
    data_dir = tmp_path / "data"
    env = {"MEDIATION_SWEEP_WORKERS": "1", "MEDIATION_WORKERS": "1"}
    key = make_keys(Settings(data_dir=data_dir), ("alpha",))["alpha"]
    headers = {"Authorization": f"Bearer {key}"}
    server = start_server(data_dir, env=env)
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            case = json.loads(case_json("community-hall-dispute"))
            response = client.post("/v1/sweeps", json={"case": case, "sweep": sweep})
            assert response.status_code == 202, response.text
            url = response.headers["location"]
            # progress shows as batches are stored: kill the server part of the way through
            midway = _wait(client.get, url, until=lambda s: 0 < s["completed"] < 120)
        server.stop(signal.SIGKILL)
        ends = time.monotonic() + 10  # its sweep process dies with it (and the fork server)
        while _group_alive(server.process.pid) and time.monotonic() < ends:
            time.sleep(0.1)
        assert not _group_alive(server.process.pid), "a process of the killed server is left"
    finally:
        server.stop(signal.SIGKILL)
    store = Store(Settings(data_dir=data_dir).url)
    try:  # what the killed server left: a sweep part of the way through
        with store.reading() as session:
            left = session.scalars(select(SweepRow).where(SweepRow.id == response.json()["id"]))
            found = left.one()
            assert found.status == "running"
            assert midway["completed"] <= found.completed < 120
        assert store.integrity_ok()
    finally:
        store.close()
    server = start_server(data_dir, env=env)
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            resumed = client.get(url).json()
            assert resumed["completed"] >= midway["completed"]  # nothing stored is lost
            state = _wait(client.get, url, until=_finished)
            rows = _all_rows(client.get, url, limit=100)
    finally:
        server.stop()
    assert (state["status"], state["completed"], state["error"]) == ("done", 120, None)
    assert [r["scenario"] for r in rows] == list(range(120))  # every one, once, in order
    uninterrupted: list[dict[str, Any]] = []
    summary = run_sweep(plan, on_row=uninterrupted.append)
    assert rows == uninterrupted
    assert state["summary"] == summary.model_dump(mode="json")
