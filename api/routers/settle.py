"""``POST /v1/settle``: a case in, a settlement out, nothing stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mediation.settlement import settlement_json_schema

from ..deps import BodyDep, LangDep, PrincipalDep, StateDep
from ..idempotency import IDEMPOTENT
from ..jobs import Failure, settle_document
from ..openapi import CASE_BODY, SOLVES, contract_response
from ..schemas import SettleOptions
from ..solving import raise_failure, run_job

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["settle"])


@router.post(
    "/settle",
    dependencies=[IDEMPOTENT],
    summary="Settle a case (nothing stored)",
    response_class=Response,
    openapi_extra=CASE_BODY,
    responses={
        200: contract_response(
            settlement_json_schema(),
            description="The settlement (the library's settlement contract).",
        ),
        **SOLVES,
    },
)
async def settle(
    body: BodyDep,
    state: StateDep,
    _who: PrincipalDep,
    lang: LangDep,
    options: Annotated[SettleOptions, Query()],
) -> Response:
    """Settle the case in the body under its policy, with the query's keys overridden.

    The answer is the settlement, exactly as `mediation settle --format json` prints it; an
    infeasible case answers 200 with its diagnosis. `Accept-Language: zh|en` adds the reasons
    as sentences (`explanation`).
    """
    outcome = await run_job(
        state,
        settle_document,
        body,
        options.overrides(),
        solver=options.solver,
        time_limit=state.settings.solver_time_limit,
        lang=lang,
    )
    if isinstance(outcome, Failure):
        raise_failure(outcome)
    return Response(outcome.document, media_type="application/json")
