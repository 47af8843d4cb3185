"""A stored case's analyses: its stakeholder graph, a what-if, every rule side by side.

``GET /v1/cases/{id}/graph``, ``POST /v1/cases/{id}/evaluate`` and ``POST
/v1/cases/{id}/compare`` answer what ``mediation graph``, ``mediation evaluate --whatif`` and
``mediation compare`` print with ``--format json`` for the case's current version: one
library call each, in the solver pool, nothing stored.

``Accept-Language`` changes none of them: the graph analysis is data, the same in every
language, and the evaluation and comparison contracts have no field for sentences (the
library renders them only as the command line's tables).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from mediation.case.whatif import WhatIf
from mediation.comparison import comparison_json_schema
from mediation.evaluation import evaluation_json_schema

from ..analysis_jobs import compare_rules, evaluate_whatif, graph_analysis
from ..deps import BodyDep, OptionalBodyDep, PrincipalDep, ServiceState, StateDep, parse_model
from ..idempotency import IDEMPOTENT
from ..jobs import Failure
from ..openapi import SOLVES, contract_body, contract_response
from ..problems import ApiProblem
from ..schemas import CompareRequest
from ..solving import raise_failure, run_job
from ..store.repo import CaseRecord, NotFoundError, Principal

__all__ = ["router"]

router = APIRouter(prefix="/v1/cases", tags=["analysis"])

CaseId = Annotated[str, Path(description="the stored case's id", max_length=64)]
Solver = Annotated[Literal["highs", "cbc"], Query(description="the LP/MIP solver")]

_GRAPH_SCHEMA = {
    "type": "object",
    "description": "The graph analysis, as `mediation graph --format json` prints it: contested "
    "issues, coalitions, power (funding, supervision, centrality), brokers, conflicts without "
    "a dialogue channel.",
}


async def _document(state: ServiceState, who: Principal, case_id: str) -> bytes:
    """Return the stored case's current document, as JSON bytes (404 when unknown)."""
    try:
        record: CaseRecord = await asyncio.to_thread(state.store.get_case, who, case_id)
    except NotFoundError:
        raise ApiProblem(404, "not-found", detail=f"no case {case_id!r}") from None
    assert record.document is not None
    return record.document.encode()


def _answer(outcome: str | Failure) -> Response:
    if isinstance(outcome, Failure):
        raise_failure(outcome)
    return Response(outcome, media_type="application/json")


@router.get(
    "/{case_id}/graph",
    summary="Analyse a case's stakeholder graph",
    response_class=Response,
    responses={
        200: contract_response(_GRAPH_SCHEMA, description="The analysis of the case's graph."),
        **SOLVES,
    },
)
async def graph(case_id: CaseId, state: StateDep, who: PrincipalDep) -> Response:
    """Analyse the case's stakeholder graph, as `mediation graph --format json` does."""
    document = await _document(state, who, case_id)
    return _answer(await run_job(state, graph_analysis, document))


@router.post(
    "/{case_id}/evaluate",
    dependencies=[IDEMPOTENT],
    summary="Evaluate a what-if on a case",
    response_class=Response,
    openapi_extra=contract_body(
        WhatIf.model_json_schema(),
        description="A what-if document (as `mediation evaluate --whatif FILE`, see "
        "cases/README.md): the shares to pin, and optionally the rule that fills in the rest "
        "and its loss tolerance. Wrong pins answer 422 before anything is solved, each with "
        "its path (`pins.cost-overrun.minzhengju`).",
    ),
    responses={
        200: contract_response(
            evaluation_json_schema(),
            description="The evaluation (the library's evaluation contract, "
            "`mediation schema --evaluation`).",
        ),
        **SOLVES,
    },
)
async def evaluate(
    case_id: CaseId, body: BodyDep, state: StateDep, who: PrincipalDep, solver: Solver = "highs"
) -> Response:
    """Pin shares of the case and see the rest filled in beside the free settlement.

    The answer is the evaluation, as `mediation evaluate CASE --whatif FILE --format json`
    prints it; pins that leave no deal answer 200 with what blocks them.
    """
    document = await _document(state, who, case_id)
    outcome = await run_job(
        state,
        evaluate_whatif,
        document,
        body,
        solver=solver,
        time_limit=state.settings.solver_time_limit,
    )
    return _answer(outcome)


@router.post(
    "/{case_id}/compare",
    dependencies=[IDEMPOTENT],
    summary="Compare every rule's settlement of a case",
    response_class=Response,
    openapi_extra=contract_body(
        CompareRequest.model_json_schema(),
        description="Optional: the rules to compare, in order (default: every rule), and "
        "the solver.",
        required=False,
    ),
    responses={
        200: contract_response(
            comparison_json_schema(),
            description="The comparison (the library's comparison contract, "
            "`mediation schema --comparison`).",
        ),
        **SOLVES,
    },
)
async def compare(
    case_id: CaseId, state: StateDep, who: PrincipalDep, body: OptionalBodyDep
) -> Response:
    """Settle the case under each rule and compare them, as `mediation compare --format json`.

    An unknown rule answers 422 with its path (`rules[1]`); a rule that does not apply to
    the case is listed in `not_applicable` with its conditions.
    """
    document = await _document(state, who, case_id)  # an unknown case is 404 whatever the body
    options = parse_model(CompareRequest, body) if body is not None else CompareRequest()
    outcome = await run_job(
        state,
        compare_rules,
        document,
        options.rules,
        solver=options.solver,
        time_limit=state.settings.solver_time_limit,
    )
    return _answer(outcome)
