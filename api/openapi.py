"""The service's OpenAPI document: the library's contracts as schemas, a problem for every error.

FastAPI documents what a route declares; this module completes it, generically, from what
each route is:

- a library contract a route declares inline (a schema with ``$defs``, such as
  :func:`mediation.settlement.settlement_json_schema`, in a ``requestBody`` given as
  ``openapi_extra`` or in a response's ``content``, or a model field typed with it) becomes a
  component named after the contract's title (``Case``, ``Settlement``), its ``$defs``
  hoisted beside it as ``<Contract>.<Def>`` so that two contracts' definitions never collide;
- every error a route can answer is documented as ``application/problem+json`` with the
  :data:`~api.problems.PROBLEM_SCHEMA`: 401 for a route that authenticates, 404 for one with
  an id in its path, 400/413/415 for one that reads a JSON body, 422 for one that takes any
  input, 409 with an ``Idempotency-Key`` header, 412 with an ``If-Match`` header, and those
  the route declares itself (428, and 503 for a route that solves: :data:`SOLVES`);
- every ``/v1`` operation requires the HTTP bearer scheme (the API key);
- the community-hall case (``cases/``) is the example of every case, and its settlement, made
  once when the document is first built, the example of every settlement.

A route that reads its body as bytes (the library parses it, in a worker) declares the body
with :func:`contract_body`, ``openapi_extra=CASE_BODY`` for a case.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from mediation.case import case_json_schema

from .deps import json_body, optional_json_body, principal
from .problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

__all__ = [
    "CASE_BODY",
    "SECURITY_SCHEME",
    "SOLVES",
    "ServiceRoute",
    "build_openapi",
    "contract_body",
    "contract_response",
    "openapi_for",
    "service_routes",
]

logger = logging.getLogger(__name__)

#: The name of the API-key scheme in ``components/securitySchemes``.
SECURITY_SCHEME = "apiKey"

#: Where the bundled cases live in a source checkout (the examples are taken from there).
CASES_DIR = Path(__file__).resolve().parent.parent / "cases"

#: The case whose document and settlement are the examples.
EXAMPLE_CASE = "community-hall-dispute"

_COMPONENTS = "#/components/schemas/"
_JSON = "application/json"


def contract_body(
    schema: Mapping[str, Any], *, description: str, required: bool = True
) -> dict[str, Any]:
    """Return the ``openapi_extra`` that declares a JSON request body of ``schema``.

    For a route that reads its body as bytes (:data:`~api.deps.BodyDep`): FastAPI sees no
    body parameter, so the route says what the body is.

    Parameters
    ----------
    schema
        The body's JSON Schema (a library contract, with its ``$defs``).
    description
        What the body is, for a person.
    required
        Whether a body must be sent.

    Examples
    --------
    >>> contract_body({"type": "object"}, description="any object")["requestBody"]["required"]
    True
    """
    return {
        "requestBody": {
            "description": description,
            "required": required,
            "content": {_JSON: {"schema": copy.deepcopy(dict(schema))}},
        }
    }


def contract_response(
    schema: Mapping[str, Any], *, description: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return a ``responses`` entry whose JSON body is ``schema`` (a library contract).

    Parameters
    ----------
    schema
        The body's JSON Schema.
    description
        What the answer is.
    headers
        Response headers the answer carries, each with its description.
    """
    entry: dict[str, Any] = {
        "description": description,
        "content": {_JSON: {"schema": copy.deepcopy(dict(schema))}},
    }
    if headers:
        entry["headers"] = _headers(headers)
    return entry


#: The body of ``POST /v1/settle``, ``POST /v1/cases`` and ``PUT /v1/cases/{id}``: a case.
CASE_BODY: dict[str, Any] = contract_body(
    case_json_schema(),
    description=(
        "A case in the library's case format (`mediation schema case`), as JSON. Its "
        "problems answer 422 with the same paths as `mediation validate`."
    ),
)

#: ``responses`` of a route that solves in the pool (``responses={**SOLVES, ...}``).
SOLVES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": (
            "Every solver is busy and the queue is full, the solve ran past the service's "
            "deadline (it was stopped), or its process died: retry after `Retry-After` seconds."
        )
    }
}

#: What each error means, for the operations that can answer it.
_ERRORS: dict[int, str] = {
    400: "The body is not JSON, or is empty.",
    401: "No API key, or a wrong or revoked one (`Authorization: Bearer <key>`).",
    404: "No such resource for this tenant (another tenant's id answers exactly the same).",
    409: "A request with the same `Idempotency-Key` is still running.",
    412: "`If-Match` names another version than the current one.",
    413: "The body is larger than the service accepts ({limit} bytes).",
    415: "The body's `Content-Type` is not JSON.",
    422: "The input is not valid: every problem is listed in `errors`, with its field path.",
    428: "`If-Match` is missing: send the ETag of the version replaced.",
    503: SOLVES[503]["description"],
}

#: Headers an error answer carries, by status.
_ERROR_HEADERS: dict[int, dict[str, str]] = {
    401: {"WWW-Authenticate": '`Bearer realm="mediation"`'},
    503: {"Retry-After": "seconds to wait before retrying"},
}

_REQUEST_ID = {
    "X-Request-ID": "the request's id (the client's own when it sent a sane one), as logged"
}


def _headers(headers: Mapping[str, str]) -> dict[str, Any]:
    return {
        name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
    }


# --- the library's contracts as components ------------------------------------------------------


def _contract_name(schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if not isinstance(title, str) or not title:
        ident = str(schema.get("$id", ""))
        title = ident.rsplit("/", 1)[-1].split(".", 1)[0].title()
    name = re.sub(r"[^A-Za-z0-9_]", "", title)
    if not name:
        raise ValueError("a contract schema needs a title or an $id to be named after")
    return name


def _rewrite_refs(node: Any, prefix: str) -> Any:
    """Point a contract's local ``$ref``s (``#/$defs/X``, ``#``) at the hoisted components."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if value == "#":
                    value = _COMPONENTS + prefix
                elif value.startswith("#/$defs/"):
                    value = f"{_COMPONENTS}{prefix}.{value.removeprefix('#/$defs/')}"
            out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


#: Keywords that annotate a schema where it is used (a field's description) rather than say
#: what it accepts: where one contract is used with different ones, they stay beside its $ref.
_ANNOTATIONS = ("title", "description", "default", "examples", "deprecated")


def _add_component(components: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    existing = components.get(name)
    if existing is not None and existing != schema:
        # two different schemas under one name would make one of them lie
        raise ValueError(f"two different schemas are both named {name!r} in the OpenAPI")
    components[name] = schema


def _add_contract(components: dict[str, Any], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Add a contract's root as a component; return the ``$ref`` that stands for it."""
    existing = components.get(name)
    if existing is None:
        components[name] = schema
        return {"$ref": _COMPONENTS + name}
    bare = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
    if bare != {k: v for k, v in existing.items() if k not in _ANNOTATIONS}:
        raise ValueError(f"two different schemas are both named {name!r} in the OpenAPI")
    notes = {k: v for k, v in schema.items() if k in _ANNOTATIONS and existing.get(k) != v}
    return {"$ref": _COMPONENTS + name, **notes}


def _hoist(node: Any, components: dict[str, Any]) -> Any:
    """Return ``node`` with every contract in it replaced by a ``$ref`` to its component."""
    if isinstance(node, dict):
        if "$defs" in node or "$id" in node:
            name = _contract_name(node)
            # a contract's $id would rebase the $refs inside it away from this document
            contract = {k: v for k, v in node.items() if k not in ("$defs", "$id", "$schema")}
            for def_name, definition in node.get("$defs", {}).items():
                hoisted = _hoist(_rewrite_refs(definition, name), components)
                _add_component(components, f"{name}.{def_name}", hoisted)
            return _add_contract(
                components, name, _hoist(_rewrite_refs(contract, name), components)
            )
        return {key: _hoist(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_hoist(item, components) for item in node]
    return node


# --- what each route is -------------------------------------------------------------------------


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


@dataclass(frozen=True)
class ServiceRoute:
    """One operation of the app: its method, full path, handler's name and what it depends on."""

    method: str
    path: str
    name: str
    #: The dependencies it runs (:func:`~api.deps.principal`, :func:`~api.deps.json_body`, ...).
    calls: frozenset[Callable[..., Any]]
    #: The names of its path parameters, in the path's order.
    path_params: tuple[str, ...]
    include_in_schema: bool


def service_routes(app: FastAPI) -> list[ServiceRoute]:
    """Return every operation of ``app``'s API routes (those of included routers too).

    FastAPI 0.165 keeps an included router as one route that resolves its own (with the
    prefix); :func:`fastapi.routing.iter_route_contexts` gives each with its full path.
    Earlier versions copy them into ``app.routes``.
    """
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    contexts: list[Any] = list(iterate(app.routes)) if iterate is not None else list(app.routes)
    routes = []
    for context in contexts:
        original = getattr(context, "original_route", context)
        if not isinstance(original, APIRoute):
            continue
        dependant: Dependant = context.dependant
        params = tuple(p.name for p in dependant.path_params)
        for method in sorted(context.methods):
            routes.append(
                ServiceRoute(
                    method=method,
                    path=context.path_format,
                    name=context.name,
                    calls=frozenset(_calls(dependant)),
                    path_params=params,
                    include_in_schema=bool(context.include_in_schema),
                )
            )
    return routes


def _problem_response(status: int, description: str, limit: int) -> dict[str, Any]:
    headers = {**_ERROR_HEADERS.get(status, {}), **_REQUEST_ID}
    return {
        "description": description.format(limit=limit),
        "headers": _headers(headers),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _COMPONENTS + "Problem"}}},
    }


def _is_fastapi_validation_error(response: Mapping[str, Any]) -> bool:
    schema = response.get("content", {}).get(_JSON, {}).get("schema", {})
    return bool(schema.get("$ref") == _COMPONENTS + "HTTPValidationError")


def _complete_operation(
    route: ServiceRoute, operation: dict[str, Any], *, limit: int, authenticated: bool
) -> None:
    calls = route.calls
    parameters = [
        p
        for p in operation.get("parameters", [])
        # the security scheme says how the key is sent (OpenAPI ignores it as a parameter)
        if not (p.get("in") == "header" and p.get("name", "").lower() == "authorization")
    ]
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    headers = {p["name"].lower() for p in parameters if p.get("in") == "header"}
    reads_body = json_body in calls or optional_json_body in calls
    if reads_body and "requestBody" not in operation:
        operation["requestBody"] = {
            "required": json_body in calls,
            "content": {_JSON: {"schema": {}}},
        }

    errors: set[int] = set()
    if principal in calls:
        errors.add(401)
    if route.path_params:
        errors.add(404)
    if reads_body:
        errors |= {400, 413, 415}
    if parameters or "requestBody" in operation:
        errors.add(422)
    if "idempotency-key" in headers:
        errors |= {409, 422}
    if "if-match" in headers:
        errors.add(412)

    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code in list(responses):
        if code.isdigit() and int(code) >= 400:
            errors.add(int(code))
    for status in sorted(errors):
        declared = responses.get(str(status), {})
        if declared.get("content") and not _is_fastapi_validation_error(declared):
            continue  # the route documents its own error body
        description = declared.get("description")
        if not description or _is_fastapi_validation_error(declared):
            description = _ERRORS.get(status, "The request cannot be answered.")
        responses[str(status)] = _problem_response(status, description, limit)
    for code, response in responses.items():
        if code.isdigit() and int(code) < 400:
            response.setdefault("headers", {}).update(_headers(_REQUEST_ID))
    if authenticated and principal in calls:
        operation["security"] = [{SECURITY_SCHEME: []}]


# --- examples ------------------------------------------------------------------------------------


@functools.cache
def _examples() -> dict[str, dict[str, Any]]:
    """Return the examples of each contract by component name (once per process)."""
    import yaml

    from mediation import load_case, settle

    path = CASES_DIR / f"{EXAMPLE_CASE}.yaml"
    if not path.is_file():  # an installed wheel without the source tree's cases/
        logger.info("no examples in the OpenAPI: %s is not there", path)
        return {}
    text = path.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    settlement = settle(load_case(text)).model_dump(mode="json")
    summary = f"cases/{path.name}"
    return {
        "Case": {EXAMPLE_CASE: {"summary": summary, "value": document}},
        "Settlement": {
            EXAMPLE_CASE: {"summary": f"its settlement ({summary})", "value": settlement}
        },
    }


def _add_examples(doc: dict[str, Any]) -> None:
    examples = _examples()
    for path_item in doc.get("paths", {}).values():
        for operation in path_item.values():
            bodies = [operation.get("requestBody", {})]
            bodies += list(operation.get("responses", {}).values())
            for body in bodies:
                for media in body.get("content", {}).values():
                    ref = media.get("schema", {}).get("$ref", "")
                    found = examples.get(ref.removeprefix(_COMPONENTS)) if ref else None
                    if found and "examples" not in media and "example" not in media:
                        media["examples"] = copy.deepcopy(found)


# --- the document -------------------------------------------------------------------------------


def _unused(doc: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    text = repr({k: v for k, v in doc.items() if k != "components"})
    text += repr({k: v for k, v in doc["components"]["schemas"].items() if k not in names})
    return [name for name in names if f"'{_COMPONENTS}{name}'" not in text]


def build_openapi(app: FastAPI, *, max_body_bytes: int) -> dict[str, Any]:
    """Return the app's complete OpenAPI document (3.1).

    Parameters
    ----------
    app
        The service's application: its routes are documented by what they declare and
        depend on (see the module's docstring).
    max_body_bytes
        The body limit, stated in every 413.

    Raises
    ------
    ValueError
        When two different schemas would get one component name.
    """
    doc = copy.deepcopy(
        get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
        )
    )
    components: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    doc["paths"] = _hoist(doc.get("paths", {}), components)
    for name in list(components):
        components[name] = _hoist(components[name], components)
    _add_component(components, "Problem", copy.deepcopy(PROBLEM_SCHEMA))
    doc["components"]["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of the tenant (`mediation keys create --tenant NAME`).",
        }
    }

    routes = [route for route in service_routes(app) if route.include_in_schema]
    names = [route.name for route in routes]
    for route in routes:
        operation = doc["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue
        if names.count(route.name) == 1:
            operation["operationId"] = route.name
        _complete_operation(
            route, operation, limit=max_body_bytes, authenticated=route.path.startswith("/v1/")
        )

    for name in _unused(doc, ("HTTPValidationError", "ValidationError")):
        components.pop(name, None)
    _add_examples(doc)
    return doc


def openapi_for(app: FastAPI, *, max_body_bytes: int) -> Callable[[], dict[str, Any]]:
    """Return the ``app.openapi`` that builds the document once and keeps it.

    ``app.openapi = openapi_for(app, max_body_bytes=...)`` is FastAPI's way to replace the
    document its ``/openapi.json`` serves.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, max_body_bytes=max_body_bytes)
        return app.openapi_schema

    return openapi
