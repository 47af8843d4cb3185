"""Schemathesis over the service's own OpenAPI, in-process: no 5xx, every answer as documented.

Every operation of ``/openapi.json`` gets cases generated from its schema (valid ones, which
the pool really solves, and invalid ones), sent as tenant alpha through the ``service``
fixture's TestClient, the app in-process over ASGI. (Schemathesis's own ASGI transport would
start a second lifespan on the same app, with a second pool and store.) The operations with
ids also get cases on ids that exist. Each answer must be no server error, have a documented
status, the documented content type and a body that fits the documented schema.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_support import Service, case_json

from api.problems import PROBLEM_SCHEMA

Operation = schemathesis.APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Operation]

#: The fuzz's seed: the same cases at every run.
SEED = 20261207

#: Cases per operation and generation mode; an operation with few possible inputs
#: (``GET /healthz``) gets fewer, as Hypothesis runs out of distinct ones.
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 50, schemathesis.GenerationMode.NEGATIVE: 25}
#: The same for an operation with a body: a generated case takes a tenth of a second to draw
#: and the valid ones are solved, so these get fewer for the run to stay within two minutes.
BODY_EXAMPLES = {
    schemathesis.GenerationMode.POSITIVE: 25,
    schemathesis.GenerationMode.NEGATIVE: 12,
}
#: Cases per operation with its ids set to resources that exist.
EXISTING_EXAMPLES = 12
#: A small sweep of the community-hall case (two scenarios), for the sweeps' ids.
SWEEP = {
    "sweep_version": "1.0",
    "seed": 1,
    "parameters": [{"path": "stakeholders.guangchangwu.risk_capacity", "grid": [4000, 6000]}],
}
#: The least number of cases the run must have sent.
AT_LEAST = 1000

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Run:
    """What the fuzz sent and what failed."""

    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _send(client: Any, case: Case, auth: dict[str, str]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(headers=auth)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content"] = data if isinstance(data, bytes | str) else json.dumps(data)
    response: httpx.Response = client.request(
        kwargs["method"],
        kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params") or None,
        **body,
    )
    return response


def _fuzz(
    run: Run,
    operation: Operation,
    strategy: Any,
    examples: int,
    send: Callable[[Case], httpx.Response],
    label: str,
) -> None:
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        # no shrinking: the first failing case, with its curl line, is what the report needs
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    @given(case=strategy)
    def check(case: Case) -> None:
        run.cases += 1
        response = send(case)
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except Exception as exc:  # every operation is fuzzed; the failures are reported together
        run.failures.append(f"{label}: {type(exc).__name__}: {exc}")


def _existing(service: Service, names: set[str]) -> dict[str, str]:
    """Create alpha's resources that ``names`` (path parameters) need; return their ids."""
    client = service.client
    created = client.post(
        "/v1/cases", content=case_json("community-hall-dispute"), headers=service.headers()
    )
    assert created.status_code == 201, created.text
    ids = {"case_id": created.json()["id"]}
    if "settlement_id" in names:
        settled = client.post(f"/v1/cases/{ids['case_id']}/settlements", headers=service.auth())
        assert settled.status_code == 201, settled.text
        ids["settlement_id"] = settled.json()["id"]
    if "sweep_id" in names:
        body = {"case_id": ids["case_id"], "sweep": SWEEP}
        swept = client.post("/v1/sweeps", json=body, headers=service.auth())
        assert swept.status_code == 202, swept.text
        ids["sweep_id"] = swept.json()["id"]
    return ids


def _takes_input(operation: Operation) -> bool:
    """Whether the operation has anything to make invalid (a parameter or a body)."""
    parts = (operation.path_parameters, operation.headers, operation.cookies, operation.query)
    return any(len(part) for part in parts) or bool(operation.body)


def _schema(service: Service) -> Any:
    return schemathesis.openapi.from_dict(service.client.get("/openapi.json").json())


def test_the_openapi_is_valid_openapi_3_1(service: Service) -> None:
    raw = service.client.get("/openapi.json").json()
    assert raw["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(raw).validate()  # the 3.1 meta-schema: raises on a violation
    broken = dict(raw, paths={"/x": {"get": {"responses": {"200": {"description": 5}}}}})
    with pytest.raises(Exception, match="not of type"):
        schemathesis.openapi.from_dict(broken).validate()


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in _keys(value)}
    if isinstance(node, list):
        return {key for item in node for key in _keys(item)}
    return set()


def _validator(raw: dict[str, Any], component: str) -> Any:
    # jsonschema_rs comes with schemathesis; the document is the root its $refs resolve in
    import jsonschema_rs

    root = {"components": raw["components"], "$ref": f"#/components/schemas/{component}"}
    return jsonschema_rs.Draft202012Validator(root)


def test_the_contracts_are_components_and_every_ref_resolves(service: Service) -> None:
    raw = service.client.get("/openapi.json").json()
    schemas = raw["components"]["schemas"]
    for name in ("Case", "Settlement", "Problem"):
        assert name in schemas
    # the contracts' definitions are hoisted, each under its contract's name
    assert "$defs" not in _keys(raw)
    assert "$id" not in _keys(raw)
    assert "Case.Stakeholder" in schemas
    assert "Settlement.PartyOutcome" in schemas
    for ref in _refs(raw):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    stored = schemas["StoredSettlement"]["properties"]["settlement"]
    assert stored["$ref"] == "#/components/schemas/Settlement"


def test_the_case_routes_take_and_give_the_librarys_contracts(service: Service) -> None:
    from mediation import load_case
    from mediation.settlement import Settlement
    from mediation.validator import validate_settlement

    raw = service.client.get("/openapi.json").json()
    paths = raw["paths"]
    case_ref = {"$ref": "#/components/schemas/Case"}
    for path, method in (
        ("/v1/settle", "post"),
        ("/v1/cases", "post"),
        ("/v1/cases/{case_id}", "put"),
    ):
        body = paths[path][method]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == case_ref
    case_example = paths["/v1/settle"]["post"]["requestBody"]["content"]["application/json"]
    hall = case_example["examples"]["community-hall-dispute"]["value"]
    assert hall == json.loads(case_json("community-hall-dispute"))
    assert _validator(raw, "Case").is_valid(hall)

    answer = paths["/v1/settle"]["post"]["responses"]["200"]["content"]["application/json"]
    assert answer["schema"] == {"$ref": "#/components/schemas/Settlement"}
    settled = answer["examples"]["community-hall-dispute"]["value"]
    assert _validator(raw, "Settlement").is_valid(settled)
    assert not _validator(raw, "Settlement").is_valid({**settled, "shares": "all of it"})
    case = load_case(json.dumps(hall))
    assert validate_settlement(case, Settlement.model_validate(settled)) == []
    stored = paths["/v1/cases/{case_id}"]["get"]["responses"]["200"]["content"]
    assert stored["application/json"]["schema"] == case_ref


#: The errors each of the case routes can answer, and only those.
ERRORS = {
    ("post", "/v1/settle"): {400, 401, 409, 413, 415, 422, 503},
    ("post", "/v1/cases"): {400, 401, 409, 413, 415, 422, 503},
    ("get", "/v1/cases"): {401, 422},
    ("get", "/v1/cases/{case_id}"): {401, 404, 422},
    ("put", "/v1/cases/{case_id}"): {400, 401, 404, 412, 413, 415, 422, 428, 503},
    ("delete", "/v1/cases/{case_id}"): {401, 404, 412, 422},
    ("post", "/v1/cases/{case_id}/settlements"): {400, 401, 404, 409, 413, 415, 422, 503},
    ("get", "/v1/cases/{case_id}/settlements"): {401, 404, 422},
    ("get", "/v1/cases/{case_id}/settlements/{settlement_id}"): {401, 404, 422},
}


def test_every_operation_documents_its_errors_as_problems_and_needs_a_key(
    service: Service,
) -> None:
    raw = service.client.get("/openapi.json").json()
    assert raw["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": raw["components"]["securitySchemes"]["apiKey"]["description"],
    }
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            errors = {int(code) for code in operation["responses"] if int(code) >= 400}
            if (method, path) in ERRORS:
                assert errors == ERRORS[(method, path)], (method, path)
            if not path.startswith("/v1/"):
                continue
            assert operation["security"] == [{"apiKey": []}], (method, path)
            assert 401 in errors, (method, path)
            if "requestBody" in operation:  # each body says what it is
                assert operation["requestBody"]["content"]["application/json"]["schema"]
            names = {p["name"].lower() for p in operation.get("parameters", [])}
            assert "authorization" not in names  # the security scheme says how the key goes
            for code in errors:
                content = operation["responses"][str(code)]["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
                schema = content["application/problem+json"]["schema"]
                assert schema in ({"$ref": "#/components/schemas/Problem"}, PROBLEM_SCHEMA)


@pytest.mark.parametrize(
    ("check", "status", "content_type", "tamper"),
    [
        (not_a_server_error, 500, "application/problem+json", None),
        (status_code_conformance, 418, "application/problem+json", None),
        (content_type_conformance, 200, "text/plain", None),
        (response_schema_conformance, 200, "application/json", "shares"),
    ],
    ids=["server-error", "status", "content-type", "schema"],
)
def test_each_check_fails_an_answer_off_the_schema(
    service: Service, check: Any, status: int, content_type: str, tamper: str | None
) -> None:
    operation = _schema(service)["/v1/settle"]["POST"]
    case = operation.Case(
        body=json.loads(case_json("community-hall-dispute")), media_type="application/json"
    )
    answer = _send(service.client, case, service.auth())
    assert answer.status_code == 200, answer.text
    case.validate_response(answer, checks=CHECKS)  # the true answer passes every check
    body = answer.json()
    if tamper:
        body[tamper] = "not a mapping"
    forged = httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": content_type},
        request=answer.request,
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - each check raises its own failure type
        case.validate_response(forged, checks=[check])


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_schema(
    service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = _schema(service)
    operations = [result.ok() for result in schema.get_all_operations()]
    # deleting runs last, so that the other operations find the resources they are given
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.label))
    auth = service.auth("alpha")

    def send(case: Case) -> httpx.Response:
        return _send(service.client, case, auth)

    run = Run()
    started = time.monotonic()
    for operation in operations:
        budget = BODY_EXAMPLES if operation.body else EXAMPLES
        for mode, examples in budget.items():
            if mode is schemathesis.GenerationMode.NEGATIVE and not _takes_input(operation):
                continue  # nothing to make invalid (GET /healthz)
            strategy = operation.as_strategy(generation_mode=mode)
            _fuzz(run, operation, strategy, examples, send, f"{operation.label} ({mode.value})")
        names = {p.name for p in operation.path_parameters}
        if names:
            existing = _existing(service, names)
            if names <= existing.keys():
                ids = {name: existing[name] for name in names}
                strategy = operation.as_strategy(path_parameters=ids)
                label = f"{operation.label} (existing ids)"
                _fuzz(run, operation, strategy, EXISTING_EXAMPLES, send, label)
    elapsed = time.monotonic() - started

    with capsys.disabled():
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
        sys.stdout.write(
            f"\nschemathesis: {run.cases} generated cases over {len(operations)} operations "
            f"in {elapsed:.1f} s (seed {SEED}); statuses {statuses}\n"
        )
    assert not run.failures, "\n\n".join(run.failures)
    assert run.cases >= AT_LEAST
    assert not any(code >= 500 for code in run.statuses)
