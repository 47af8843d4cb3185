"""A stored case's analyses over HTTP: graph, evaluate and compare answer what the library does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from service_support import CASE_FILES, Service, case_json

from mediation import load_case
from mediation.allocation.compare import compare
from mediation.allocation.evaluate import evaluate
from mediation.case import Case
from mediation.case.whatif import parse_whatif
from mediation.evaluation import Evaluation
from mediation.rendering.graph_tables import graph_command_output

PROBLEM = "application/problem+json"
ROOT = Path(__file__).resolve().parent.parent
WHATIF = ROOT / "cases" / "whatif" / "ppp-overrun-60.yaml"


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:mediation:problem:{slug}"
    assert body["status"] == status
    return body


def _paths(body: dict[str, Any]) -> set[str]:
    return {e["path"] for e in body.get("errors", [])}


def _rounded(data: Any) -> Any:
    """Return JSON data with its numbers rounded to 12 decimals (solver and summation dust)."""
    if isinstance(data, float):
        return round(data, 12)
    if isinstance(data, dict):
        return {key: _rounded(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_rounded(item) for item in data]
    return data


def _case(stem: str) -> Case:
    return load_case((ROOT / "cases" / f"{stem}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def stored(service: Service) -> dict[str, str]:
    """Every bundled case stored for tenant alpha: stem → the stored case's id."""
    ids = {}
    for path in CASE_FILES:
        response = service.client.post(
            "/v1/cases", content=case_json(path.stem), headers=service.headers()
        )
        assert response.status_code == 201, response.text
        ids[path.stem] = response.json()["id"]
    return ids


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_the_graph_is_what_mediation_graph_prints_as_json(
    service: Service, stored: dict[str, str], path: Path
) -> None:
    output = graph_command_output(_case(path.stem), fmt="json")
    assert isinstance(output, str)
    expected = json.loads(output)
    url = f"/v1/cases/{stored[path.stem]}/graph"
    response = service.client.get(url, headers=service.auth())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    # the modularity is a sum over sets, whose order follows the process's hash seed: the
    # same analysis in another process differs from it in the last bits (1e-16)
    assert _rounded(response.json()) == _rounded(expected)
    # the analysis is data: the same whatever language the client reads
    chinese = service.client.get(url, headers={**service.auth(), "Accept-Language": "zh"})
    assert _rounded(chinese.json()) == _rounded(expected)


def test_a_whatif_file_evaluates_as_mediation_evaluate_does(
    service: Service, stored: dict[str, str]
) -> None:
    document = yaml.safe_load(WHATIF.read_text(encoding="utf-8"))
    case = _case("ppp-risk-sharing")
    whatif = parse_whatif(document, case)
    expected = evaluate(case, whatif.pins, rule=whatif.rule, loss_tolerance=whatif.loss_tolerance)
    response = service.client.post(
        f"/v1/cases/{stored['ppp-risk-sharing']}/evaluate",
        json=document,
        headers=service.auth(),
    )
    assert response.status_code == 200, response.text
    answer = Evaluation.model_validate(response.json())  # the contract, strictly
    assert answer.body() == expected.body()  # all but the two settlements' timings
    assert answer.pinned.shares["cost-overrun"]["minzhengju"] == pytest.approx(0.6)


def test_pins_that_leave_no_deal_answer_200_with_what_blocks_them(
    service: Service, stored: dict[str, str]
) -> None:
    # the property company taking all the noise risk is beyond what it can bear
    pins = {"noise-risk": {"wuye": 1.0}}
    expected = evaluate(_case("community-hall-dispute"), pins)
    assert not expected.feasible
    response = service.client.post(
        f"/v1/cases/{stored['community-hall-dispute']}/evaluate",
        json={"whatif_version": "1.0", "pins": pins},
        headers=service.auth(),
    )
    assert response.status_code == 200, response.text
    answer = Evaluation.model_validate(response.json())
    assert answer.feasible is False
    assert answer.body() == expected.body()
    assert answer.blockers
    assert answer.blockers[0].pins[0].party == "wuye"


@pytest.mark.parametrize(
    ("document", "paths"),
    [
        ({"pins": {"cost-overrun": {"minzhengju": 1.5}}}, {"pins.cost-overrun.minzhengju"}),
        ({"pins": {"no-such-issue": {"minzhengju": 0.5}}}, {"pins.no-such-issue"}),
        ({"pins": {"cost-overrun": {"minzhengju": 0.5}}, "rule": "leximn"}, {"rule"}),
        ({"pins": {"cost-overrun": {"minzhengju": 0.5}}, "colour": "red"}, {""}),
        ({"pins": {}}, {"pins"}),
        ({"pins": {"cost-overrun": {"minzhengju": True}}}, {"pins.cost-overrun.minzhengju"}),
        ([1, 2], {""}),
    ],
    ids=[
        "share-above-1",
        "unknown-issue",
        "unknown-rule",
        "unknown-key",
        "no-pins",
        "boolean",
        "list",
    ],
)
def test_a_wrong_whatif_is_422_with_the_paths_of_its_problems(
    service: Service, stored: dict[str, str], document: object, paths: set[str]
) -> None:
    case = _case("ppp-risk-sharing")
    from mediation.errors import WhatIfError

    with pytest.raises(WhatIfError) as refused:  # the library refuses it the same way
        parse_whatif(document, case)
    response = service.client.post(
        f"/v1/cases/{stored['ppp-risk-sharing']}/evaluate",
        content=json.dumps(document),
        headers=service.headers(),
    )
    body = _problem(response, 422, "invalid-whatif")
    assert paths <= _paths(body)
    assert _paths(body) == {p.path for p in refused.value.problems}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "slug"),
    [
        (b'{"pins": ', "application/json", 400, "malformed-json"),
        (b'{"pins": {"a": {"b": 0.5}}, "pins": {}}', "application/json", 422, "invalid-whatif"),
        (b"", "application/json", 400, "malformed-json"),
        (b"pins: {}", "text/yaml", 415, "unsupported-media-type"),
    ],
    ids=["malformed", "repeated-key", "empty", "yaml"],
)
def test_a_whatif_body_that_is_not_a_json_document_is_refused(
    service: Service,
    stored: dict[str, str],
    content: bytes,
    content_type: str,
    status: int,
    slug: str,
) -> None:
    response = service.client.post(
        f"/v1/cases/{stored['ppp-risk-sharing']}/evaluate",
        content=content,
        headers={**service.auth(), "Content-Type": content_type},
    )
    _problem(response, status, slug)


def test_compare_without_a_body_compares_every_rule_as_mediation_compare_does(
    service: Service, stored: dict[str, str]
) -> None:
    expected = compare(_case("community-hall-dispute"))
    response = service.client.post(
        f"/v1/cases/{stored['community-hall-dispute']}/compare", headers=service.auth()
    )
    assert response.status_code == 200, response.text
    assert response.json() == expected.model_dump(mode="json")


def test_compare_takes_the_rules_in_the_order_given(
    service: Service, stored: dict[str, str]
) -> None:
    case = _case("two-party-adjusted-winner")
    expected = compare(case, ["nash", "adjusted_winner", "leximin"])
    response = service.client.post(
        f"/v1/cases/{stored['two-party-adjusted-winner']}/compare",
        json={"rules": ["nash", "adjusted_winner", "leximin"], "solver": "highs"},
        headers=service.auth(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [o["rule"] for o in body["outcomes"]] == ["nash", "adjusted_winner", "leximin"]
    assert body == expected.model_dump(mode="json")


@pytest.mark.parametrize(
    ("document", "slug", "paths"),
    [
        ({"rules": ["nash", "nope"]}, "invalid-policy", {"rules[1]"}),
        ({"rules": []}, "invalid-policy", {"rules"}),
        ({"rules": "nash"}, "invalid-request", {"rules"}),
        ({"rules": ["nash"], "time": 3}, "invalid-request", {"time"}),
        ({"solver": "glpk"}, "invalid-request", {"solver"}),
    ],
    ids=["unknown-rule", "no-rule", "not-a-list", "unknown-key", "unknown-solver"],
)
def test_wrong_compare_options_are_422_with_their_paths(
    service: Service, stored: dict[str, str], document: object, slug: str, paths: set[str]
) -> None:
    response = service.client.post(
        f"/v1/cases/{stored['community-hall-dispute']}/compare",
        json=document,
        headers=service.auth(),
    )
    assert paths <= _paths(_problem(response, 422, slug))


@pytest.mark.parametrize(
    ("method", "route"), [("GET", "graph"), ("POST", "evaluate"), ("POST", "compare")]
)
def test_an_unknown_case_or_another_tenants_is_404(
    service: Service, stored: dict[str, str], method: str, route: str
) -> None:
    body = json.dumps({"pins": {"cost-overrun": {"minzhengju": 0.6}}})
    for case_id, tenant in (("no-such-case", "alpha"), (stored["ppp-risk-sharing"], "beta")):
        response = service.client.request(
            method,
            f"/v1/cases/{case_id}/{route}",
            content=body if method == "POST" else None,
            headers=service.headers(tenant),
        )
        _problem(response, 404, "not-found")


def test_the_analyses_need_a_key(service: Service, stored: dict[str, str]) -> None:
    response = service.client.get(f"/v1/cases/{stored['ppp-risk-sharing']}/graph")
    _problem(response, 401, "unauthorized")
