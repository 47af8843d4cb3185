"""Stored cases and their settlements: ``/v1/cases`` and ``/v1/cases/{id}/settlements``.

A case is stored as the document accepted, versioned: ``PUT`` with ``If-Match`` adds a
version, ``DELETE`` hides the case (its versions and settlements stay, as the audit trail).
A settlement is stored with the version of the case it was made from and never rewritten.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from mediation.case import case_json_schema

from ..deps import BodyDep, LangDep, OptionalBodyDep, PrincipalDep, StateDep, parse_model
from ..idempotency import IDEMPOTENT
from ..jobs import CaseFacts, Failure, check_case, settle_document
from ..openapi import CASE_BODY, SOLVES, contract_body, contract_response
from ..problems import ApiProblem
from ..schemas import (
    Audit,
    CaseInfo,
    CasePage,
    SettlementInfo,
    SettlementPage,
    SettleRequest,
    StoredSettlement,
)
from ..solving import fetch_page, raise_failure, run_job
from ..store.repo import (
    CaseRecord,
    NotFoundError,
    Principal,
    SettlementRecord,
    StaleVersionError,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/cases", tags=["cases"])

CaseId = Annotated[str, Path(description="the stored case's id", max_length=64)]
Cursor = Annotated[
    str | None, Query(description="`next_cursor` of the previous page", max_length=64)
]
Limit = Annotated[
    int, Query(ge=1, le=1000, description="items per page (at most the service's page limit)")
]


def _info(record: CaseRecord) -> CaseInfo:
    return CaseInfo(
        id=record.id,
        version=record.version,
        case_id=record.case_key,
        title=record.title,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _not_found(kind: str, ident: str) -> ApiProblem:
    return ApiProblem(404, "not-found", detail=f"no {kind} {ident!r}")


def _matching_version(if_match: str | None, case: CaseRecord, *, required: bool) -> int | None:
    """Return the case's current version if ``If-Match`` names it, as RFC 9110 compares.

    ``*`` matches any current version; a list matches if one of its tags does; a weak tag
    (``W/"..."``) never matches, since ``If-Match`` compares strongly. ``None`` when the
    header is absent and not required.

    Raises
    ------
    ApiProblem
        428 when the header is required and absent; 412 when no tag is the current one.
    """
    if if_match is None:
        if required:
            raise ApiProblem(
                428,
                "precondition-required",
                detail="send the case's ETag as If-Match (GET the case to read it)",
            )
        return None
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or case.etag in tags:
        return case.version
    raise ApiProblem(
        412,
        "version-mismatch",
        detail=f"the case is at version {case.version} (ETag {case.etag}); "
        f"If-Match {if_match[:200]!r} does not name it: read the case and retry",
    )


async def _checked(state: StateDep, body: bytes) -> CaseFacts:
    facts = await run_job(state, check_case, body)
    if isinstance(facts, Failure):
        raise_failure(facts)
    return facts


#: The headers that answer a stored case's version, as the OpenAPI documents them.
_CASE_HEADERS: dict[str, Any] = {
    "ETag": {"schema": {"type": "string"}, "description": "the version stored, for If-Match"},
    "Location": {"schema": {"type": "string"}, "description": "the case's URL"},
}


def _case_headers(record: CaseRecord) -> dict[str, str]:
    return {"ETag": record.etag, "Location": f"/v1/cases/{record.id}"}


@router.post(
    "",
    dependencies=[IDEMPOTENT],
    status_code=201,
    response_model=CaseInfo,
    summary="Store a case",
    openapi_extra=CASE_BODY,
    responses={
        201: {
            "description": "Stored (version 1); `ETag` and `Location` headers.",
            "headers": _CASE_HEADERS,
        },
        **SOLVES,
    },
)
async def create_case(
    request: Request, body: BodyDep, state: StateDep, who: PrincipalDep
) -> JSONResponse:
    """Validate the case in the body and store it as version 1."""
    facts = await _checked(state, body)
    record = await asyncio.to_thread(
        state.store.create_case,
        who,
        body.decode(),
        facts.digest,
        case_key=facts.case_key,
        title=facts.title,
        request_id=request.state.request_id,
    )
    return JSONResponse(
        _info(record).model_dump(mode="json"), status_code=201, headers=_case_headers(record)
    )


@router.get("", response_model=CasePage, summary="List the cases")
async def list_cases(
    state: StateDep, who: PrincipalDep, cursor: Cursor = None, limit: Limit = 50
) -> CasePage:
    """List the tenant's cases, oldest first, a page at a time."""
    records, following = await fetch_page(
        state, state.store.list_cases, who, cursor=cursor, limit=limit, seq_of=lambda r: r.seq
    )
    return CasePage(items=[_info(r) for r in records], next_cursor=following)


async def _case(
    state: StateDep, who: Principal, case_id: str, version: int | None = None
) -> CaseRecord:
    try:
        return await asyncio.to_thread(state.store.get_case, who, case_id, version=version)
    except NotFoundError:
        raise _not_found("case", case_id) from None


@router.get(
    "/{case_id}",
    summary="Read a case",
    response_class=Response,
    responses={
        200: contract_response(
            case_json_schema(),
            description="The case document, as stored; its `ETag` names the version.",
            headers={"ETag": _CASE_HEADERS["ETag"]["description"]},
        )
    },
)
async def get_case(
    case_id: CaseId,
    state: StateDep,
    who: PrincipalDep,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="an earlier version")
    ] = None,
) -> Response:
    """Return the case's document (the current version, or the one asked for)."""
    record = await _case(state, who, case_id, version)
    assert record.document is not None
    headers = {"ETag": f'"{record.id}.{version or record.version}"'}
    return Response(record.document, media_type="application/json", headers=headers)


@router.put(
    "/{case_id}",
    response_model=CaseInfo,
    summary="Replace a case (a new version)",
    openapi_extra=CASE_BODY,
    responses={
        200: {"description": "Stored as the next version.", "headers": _CASE_HEADERS},
        412: {"description": "If-Match names another version than the current one."},
        428: {"description": "If-Match is missing."},
        **SOLVES,
    },
)
async def put_case(
    request: Request,
    case_id: CaseId,
    body: BodyDep,
    state: StateDep,
    who: PrincipalDep,
    if_match: Annotated[str | None, Header(description="the ETag of the version replaced")] = None,
) -> JSONResponse:
    """Store the body as the case's next version, if `If-Match` names the current one."""
    # an unknown case is 404 before its precondition and its body are judged
    expected = _matching_version(if_match, await _case(state, who, case_id), required=True)
    assert expected is not None
    facts = await _checked(state, body)
    try:
        record = await asyncio.to_thread(
            state.store.update_case,
            who,
            case_id,
            expected,
            body.decode(),
            facts.digest,
            case_key=facts.case_key,
            title=facts.title,
            request_id=request.state.request_id,
        )
    except NotFoundError:
        raise _not_found("case", case_id) from None
    except StaleVersionError as exc:
        raise ApiProblem(
            412,
            "version-mismatch",
            detail=f"the case is at version {exc.current}, not {expected}; read it and retry",
        ) from None
    return JSONResponse(_info(record).model_dump(mode="json"), headers=_case_headers(record))


@router.delete(
    "/{case_id}",
    status_code=204,
    summary="Delete a case",
    response_class=Response,
    responses={204: {"description": "Deleted; its settlements stay in the audit trail."}},
)
async def delete_case(
    case_id: CaseId,
    state: StateDep,
    who: PrincipalDep,
    if_match: Annotated[
        str | None, Header(description="optional: delete only this version")
    ] = None,
) -> Response:
    """Delete the case (if `If-Match` is given, only if it names the current version)."""
    expected = _matching_version(if_match, await _case(state, who, case_id), required=False)
    try:
        await asyncio.to_thread(state.store.delete_case, who, case_id, expected)
    except NotFoundError:
        raise _not_found("case", case_id) from None
    except StaleVersionError as exc:
        raise ApiProblem(
            412, "version-mismatch", detail=f"the case is at version {exc.current}"
        ) from None
    return Response(status_code=204)


def _audit(record: SettlementRecord, who: Principal) -> Audit:
    return Audit(
        input_sha256=record.input_digest,
        case_version=record.case_version,
        rule=record.rule,
        policy=record.policy,
        solver=record.solver,
        solver_version=record.solver_version,
        engine_version=record.engine_version,
        tenant=who.tenant,
        api_key_id=record.api_key_id,
        request_id=record.request_id,
        created_at=record.created_at,
    )


def _settlement_info(record: SettlementRecord, who: Principal) -> SettlementInfo:
    return SettlementInfo(
        id=record.id,
        case=record.case_id,
        case_version=record.case_version,
        status=record.status,
        audit=_audit(record, who),
    )


def _stored(record: SettlementRecord, who: Principal) -> StoredSettlement:
    assert record.document is not None
    info = _settlement_info(record, who)
    return StoredSettlement(**info.model_dump(), settlement=json.loads(record.document))


@router.post(
    "/{case_id}/settlements",
    dependencies=[IDEMPOTENT],
    status_code=201,
    response_model=StoredSettlement,
    summary="Settle a stored case and keep the settlement",
    openapi_extra=contract_body(
        SettleRequest.model_json_schema(),
        required=False,
        description='Policy keys to override (optional): `{"rule": "nash"}`.',
    ),
    responses={
        201: {
            "description": "Settled and stored, with its audit record.",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "its URL"}},
        },
        **SOLVES,
    },
)
async def create_settlement(
    request: Request,
    case_id: CaseId,
    state: StateDep,
    who: PrincipalDep,
    lang: LangDep,
    body: OptionalBodyDep,
) -> JSONResponse:
    """Settle the case's current version under its policy with the body's overrides; store it.

    The body (optional, JSON) overrides policy keys: `{"rule": "nash", "envy_free": true}`.
    """
    options = parse_model(SettleRequest, body) if body is not None else SettleRequest()
    case = await _case(state, who, case_id)
    assert case.document is not None
    outcome = await run_job(
        state,
        settle_document,
        case.document.encode(),
        options.overrides(),
        solver=options.solver,
        time_limit=state.settings.solver_time_limit,
        lang=lang,
    )
    if isinstance(outcome, Failure):
        raise_failure(outcome)
    try:
        record = await asyncio.to_thread(
            state.store.add_settlement,
            who,
            case,
            document=outcome.document,
            status=outcome.status,
            rule=outcome.rule,
            policy=outcome.policy,
            input_digest=outcome.input_digest,
            solver=outcome.solver,
            solver_version=outcome.solver_version,
            engine_version=outcome.engine_version,
            request_id=request.state.request_id,
        )
    except NotFoundError:
        raise _not_found("case", case_id) from None
    location = f"/v1/cases/{case_id}/settlements/{record.id}"
    return JSONResponse(
        _stored(record, who).model_dump(mode="json"),
        status_code=201,
        headers={"Location": location},
    )


@router.get("/{case_id}/settlements", response_model=SettlementPage, summary="A case's settlements")
async def list_settlements(
    case_id: CaseId, state: StateDep, who: PrincipalDep, cursor: Cursor = None, limit: Limit = 50
) -> SettlementPage:
    """List the case's settlements, oldest first (the history is never rewritten)."""
    try:
        found, following = await fetch_page(
            state,
            state.store.list_settlements,
            who,
            case_id,
            cursor=cursor,
            limit=limit,
            seq_of=lambda item: item[0],
        )
    except NotFoundError:
        raise _not_found("case", case_id) from None
    return SettlementPage(items=[_settlement_info(r, who) for _, r in found], next_cursor=following)


@router.get(
    "/{case_id}/settlements/{settlement_id}",
    response_model=StoredSettlement,
    summary="Read a stored settlement",
)
async def get_settlement(
    case_id: CaseId,
    settlement_id: Annotated[str, Path(max_length=64)],
    state: StateDep,
    who: PrincipalDep,
) -> StoredSettlement:
    """Return a stored settlement with its audit record."""
    try:
        record = await asyncio.to_thread(state.store.get_settlement, who, case_id, settlement_id)
    except NotFoundError:
        raise _not_found("settlement", settlement_id) from None
    return _stored(record, who)
