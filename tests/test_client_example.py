"""The Python client example (``examples/client.py``): its routes are the OpenAPI's, and it works.

The client runs against a real ``mediation serve`` on loopback; every request it sends is
recorded and must be an operation of the server's own ``/openapi.json``.
"""

from __future__ import annotations

import re
import sys

import httpx
import pytest
from service_support import CASES_DIR, ROOT, LiveServer

# the example is a script beside the project, not a module of it
if str(ROOT / "examples") not in sys.path:
    sys.path.insert(0, str(ROOT / "examples"))
import client

HALL = CASES_DIR / "community-hall-dispute.yaml"


class Recording(httpx.BaseTransport):
    """An HTTP transport that notes each request's method and path."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Note the request, then send it."""
        self.seen.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the connections."""
        self.inner.close()


def _operations(server: LiveServer) -> dict[str, set[str]]:
    """Return the OpenAPI's path templates and the methods of each."""
    document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    return {path: {m.upper() for m in item} for path, item in document["paths"].items()}


def _template(operations: dict[str, set[str]], method: str, path: str) -> str | None:
    """Return the OpenAPI path a request's path is an instance of, for its method."""
    for template, methods in operations.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if method in methods and re.match(pattern, path):
            return template
    return None


def test_every_route_of_the_client_is_an_operation_of_the_openapi(
    live: tuple[LiveServer, str],
) -> None:
    operations = _operations(live[0])
    for name, (method, path) in client.ROUTES.items():
        assert method in operations.get(path, set()), f"{name}: {method} {path} not in the OpenAPI"


def test_the_client_stores_settles_and_reads_the_history(live: tuple[LiveServer, str]) -> None:
    server, key = live
    recording = Recording()
    with client.MediationClient(server.base_url, key, transport=recording) as api:
        stored = api.create_case_from_file(HALL)
        assert stored.version == 1
        assert stored.case_id == "community-hall-dispute"
        document, etag = api.get_case(stored.id)
        assert etag == stored.etag
        assert document == client.read_case_file(HALL)

        free = api.settle(document)
        assert free["status"] == "optimal"
        first = api.settle_case(stored.id)
        second = api.settle_case(stored.id, rule="nash")
        for issue, shares in free["shares"].items():
            assert first.settlement["shares"][issue] == pytest.approx(shares)
        assert second.audit["rule"] == "nash"
        assert second.case_version == 1
        history = list(api.settlements(stored.id, page_size=1))  # one page per settlement
        assert [s.id for s in history] == [first.id, second.id]
        again = api.get_settlement(stored.id, second.id)
        assert again.settlement == second.settlement

    operations = _operations(server)
    used = {(method, _template(operations, method, path)) for method, path in recording.seen}
    assert None not in {template for _, template in used}, recording.seen
    assert used == set(client.ROUTES.values())  # and the test used every route it has


def test_the_client_raises_the_services_problem(live: tuple[LiveServer, str]) -> None:
    server, key = live
    with client.MediationClient(server.base_url, key) as api:
        with pytest.raises(client.ServiceError) as invalid:
            api.create_case({"id": "x", "title": "x", "stakeholders": [], "issues": []})
        problem = invalid.value.problem
        assert problem.status == 422
        assert invalid.value.slug == "invalid-case"
        assert problem.errors
        assert all(e.path and e.message for e in problem.errors)
        assert problem.request_id

        with pytest.raises(client.ServiceError) as unknown:
            api.get_case("no-such-case")
        assert unknown.value.problem.status == 404
        assert unknown.value.slug == "not-found"

    with client.MediationClient(server.base_url, "mk_wrong") as stranger:
        with pytest.raises(client.ServiceError) as refused:
            stranger.get_case("anything")
        assert refused.value.problem.status == 401


def test_the_demo_runs(live: tuple[LiveServer, str], capsys: pytest.CaptureFixture[str]) -> None:
    server, key = live
    code = client.main([str(HALL), "--url", server.base_url, "--key", key])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "stored 'community-hall-dispute'" in out
    assert "hall-daytime:" in out
    assert "1 settlement(s)" in out
    assert client.main([str(HALL), "--url", server.base_url, "--key", "mk_wrong"]) == 1
