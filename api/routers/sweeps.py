"""Sweeps: a case settled over many scenarios, in the background; ``/v1/sweeps``.

``POST /v1/sweeps`` checks the sweep against its case as ``mediation sweep`` does before it
settles anything (every path, range and pin) and queues it: 202 with ``Location``. The sweep
manager (:mod:`api.sweeps`) runs it; ``GET /v1/sweeps/{id}`` shows its progress and, once
done, its summary; ``GET /v1/sweeps/{id}/results`` its rows, in scenario order;
``DELETE /v1/sweeps/{id}`` cancels it (its rows stay).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from mediation.case import case_json_schema
from mediation.sweep import SweepSpec

from ..analysis_jobs import SweepFacts, plan_sweep_request, read_sweep_request
from ..deps import BodyDep, PrincipalDep, ServiceState, StateDep
from ..idempotency import IDEMPOTENT
from ..jobs import Failure
from ..openapi import SOLVES, contract_body
from ..problems import ApiProblem
from ..schemas import SweepInfo, SweepPage, SweepResults, SweepState
from ..solving import decode_cursor, encode_cursor, fetch_page, raise_failure, run_job
from ..store.repo import CaseRecord, NotFoundError
from ..store.sweeps import SweepFinishedError, SweepRecord
from ..sweeps import SweepManager

__all__ = ["MANAGER", "router"]

router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])

#: The key of the :class:`~api.sweeps.SweepManager` in the service state's ``extras``.
MANAGER = "sweeps"

SweepId = Annotated[str, Path(description="the sweep's id", max_length=64)]
Cursor = Annotated[
    str | None, Query(description="`next_cursor` of the previous page", max_length=64)
]
Limit = Annotated[
    int, Query(ge=1, le=1000, description="items per page (at most the service's page limit)")
]

_BODY = {
    "title": "SweepRequest",
    "type": "object",
    "description": "The sweep (a sweep file's content, see cases/sweeps/README.md) and its "
    "base case: `case_id`, a stored case (its current version), or `case`, a case document; "
    "exactly one of the two.",
    "properties": {
        "case_id": {"type": "string", "maxLength": 64, "description": "a stored case's id"},
        "case": case_json_schema(),
        "sweep": SweepSpec.model_json_schema(),
    },
    "required": ["sweep"],
    "additionalProperties": False,
}


def _manager(state: ServiceState) -> SweepManager:
    manager = state.extras[MANAGER]
    assert isinstance(manager, SweepManager)
    return manager


def _info(record: SweepRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "total": record.total,
        "completed": record.completed,
        "case": record.case_id,
        "case_version": record.case_version,
        "error": record.error,
        "results": f"/v1/sweeps/{record.id}/results",
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _state(record: SweepRecord) -> SweepState:
    summary = json.loads(record.summary) if record.summary is not None else None
    return SweepState(**_info(record), summary=summary)


def _not_found(sweep_id: str) -> ApiProblem:
    return ApiProblem(404, "not-found", detail=f"no sweep {sweep_id!r}")


@router.post(
    "",
    dependencies=[IDEMPOTENT],
    status_code=202,
    response_model=SweepState,
    summary="Queue a sweep",
    openapi_extra=contract_body(
        _BODY,
        description="The sweep and its case. Every problem answers 422 before the sweep is "
        "queued, its path under the body's key (`sweep.parameters[0].grid[1]`, "
        "`case.interests[3].stakeholder`); so does a sweep of more scenarios than the "
        "service's `max_sweep_scenarios`.",
    ),
    responses={
        202: {"description": "Queued; `Location` is the sweep (`GET` it for its progress)."},
        404: {"description": "No stored case `case_id` for this tenant."},
        **SOLVES,
    },
)
async def create_sweep(
    request: Request, body: BodyDep, state: StateDep, who: PrincipalDep
) -> JSONResponse:
    """Check the sweep against its case and queue it; it runs in the background."""
    parts = await run_job(state, read_sweep_request, body)
    if isinstance(parts, Failure):
        raise_failure(parts)
    case: CaseRecord | None = None
    if parts.case_id is not None:
        try:
            case = await asyncio.to_thread(state.store.get_case, who, parts.case_id)
        except NotFoundError:
            raise ApiProblem(404, "not-found", detail=f"no case {parts.case_id!r}") from None
        assert case.document is not None
        document = case.document
    else:
        assert parts.case_json is not None
        document = parts.case_json
    facts = await run_job(
        state,
        plan_sweep_request,
        document,
        parts.sweep_json,
        max_scenarios=state.settings.max_sweep_scenarios,
        case_path=None if case is not None else "case",
    )
    if isinstance(facts, Failure):
        raise_failure(facts)
    assert isinstance(facts, SweepFacts)
    record = await asyncio.to_thread(
        _manager(state).sweeps.create,
        who,
        case=case,
        case_document=document,
        spec_document=parts.sweep_json,
        total=facts.scenarios,
        request_id=request.state.request_id,
    )
    _manager(state).submitted()
    return JSONResponse(
        _state(record).model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/v1/sweeps/{record.id}"},
    )


@router.get("", response_model=SweepPage, summary="List the sweeps")
async def list_sweeps(
    state: StateDep, who: PrincipalDep, cursor: Cursor = None, limit: Limit = 50
) -> SweepPage:
    """List the tenant's sweeps, oldest first, a page at a time (without their summaries)."""
    records, following = await fetch_page(
        state, _manager(state).sweeps.page, who, cursor=cursor, limit=limit, seq_of=lambda r: r.seq
    )
    return SweepPage(items=[SweepInfo(**_info(r)) for r in records], next_cursor=following)


@router.get("/{sweep_id}", response_model=SweepState, summary="A sweep's progress and summary")
async def get_sweep(sweep_id: SweepId, state: StateDep, who: PrincipalDep) -> SweepState:
    """Return the sweep's status, its progress and, once done, its summary."""
    try:
        record = await asyncio.to_thread(_manager(state).sweeps.get, who, sweep_id)
    except NotFoundError:
        raise _not_found(sweep_id) from None
    return _state(record)


@router.get(
    "/{sweep_id}/results",
    response_class=Response,
    summary="A sweep's rows",
    responses={200: {"model": SweepResults, "description": "A page of rows, in scenario order."}},
)
async def sweep_results(
    sweep_id: SweepId, state: StateDep, who: PrincipalDep, cursor: Cursor = None, limit: Limit = 100
) -> Response:
    """Return the sweep's rows stored so far, in scenario order, a page at a time."""
    size = min(limit, state.settings.page_limit)
    start = decode_cursor(cursor)
    try:
        rows = await asyncio.to_thread(
            _manager(state).sweeps.rows, who, sweep_id, start=start, limit=size + 1
        )
    except NotFoundError:
        raise _not_found(sweep_id) from None
    more = len(rows) > size
    rows = rows[:size]
    following = None
    if more:  # the cursor is the next page's first scenario
        following = encode_cursor(int(json.loads(rows[-1])["scenario"]) + 1)
    # the rows are stored as JSON text: joined, not parsed and written again
    text = '{"items":[' + ",".join(rows) + '],"next_cursor":' + json.dumps(following) + "}"
    return Response(text, media_type="application/json")


@router.delete(
    "/{sweep_id}",
    response_model=SweepState,
    summary="Cancel a sweep",
    responses={409: {"description": "The sweep has finished (done, failed or cancelled)."}},
)
async def cancel_sweep(sweep_id: SweepId, state: StateDep, who: PrincipalDep) -> SweepState:
    """Cancel a queued or running sweep: it stops soon after; the rows stored stay."""
    try:
        record = await asyncio.to_thread(_manager(state).sweeps.cancel, who, sweep_id)
    except NotFoundError:
        raise _not_found(sweep_id) from None
    except SweepFinishedError as exc:
        raise ApiProblem(
            409, "sweep-finished", detail=f"the sweep is {exc.record.status}: nothing to cancel"
        ) from None
    _manager(state).cancelled(record.seq)
    return _state(record)
