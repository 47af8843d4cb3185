"""The service's own request and response bodies (the library's contracts travel as they are)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from mediation.settlement import settlement_json_schema

__all__ = [
    "Audit",
    "CaseInfo",
    "CasePage",
    "CompareRequest",
    "SettleOptions",
    "SettleRequest",
    "SettlementInfo",
    "SettlementPage",
    "StoredSettlement",
    "SweepInfo",
    "SweepPage",
    "SweepResults",
    "SweepState",
]


class SettleOptions(BaseModel):
    """Policy keys to override for one settlement, and the solver (every key optional)."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(default=None, description="a registered rule's name")
    scale: Literal["raw", "normalized"] | None = None
    method: (
        Literal["proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud"]
        | None
    ) = None
    individually_rational: bool | None = None
    envy_free: bool | None = None
    proportional: bool | None = None
    loss_tolerance: float | None = Field(default=None, ge=0.0, le=1.0)
    solver: Literal["highs", "cbc"] = "highs"

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str | None) -> str | None:
        from mediation.case import rule_names

        if rule is not None and rule not in rule_names():
            raise ValueError(f"unknown rule {rule!r}; known: {', '.join(rule_names())}")
        return rule

    def overrides(self) -> dict[str, Any]:
        """Return the policy keys given (the library's ``settle`` keywords)."""
        return self.model_dump(exclude={"solver"}, exclude_none=True)


class SettleRequest(SettleOptions):
    """The body of ``POST /v1/cases/{id}/settlements``: as the query of ``/v1/settle``, strict.

    In a JSON body ``true`` is a boolean and ``"true"`` is not, as in a case.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class CaseInfo(BaseModel):
    """A stored case's facts (its document is ``GET /v1/cases/{id}``)."""

    id: str = Field(description="the service's id of the stored case")
    version: int = Field(description="1 when created, one more at every update")
    case_id: str = Field(description="the document's own `id`")
    title: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CasePage(BaseModel):
    """A page of cases, oldest first; ``next_cursor`` continues (``null``: last page)."""

    items: list[CaseInfo]
    next_cursor: str | None


class Audit(BaseModel):
    """How a stored settlement was made: its input, rule, policy, software and caller."""

    input_sha256: str = Field(description="SHA-256 of the validated case and the policy applied")
    case_version: int
    rule: str
    policy: dict[str, Any]
    solver: str
    solver_version: str
    engine_version: str
    tenant: str
    api_key_id: str | None
    request_id: str
    created_at: dt.datetime


class SettlementInfo(BaseModel):
    """A stored settlement's facts (the listing's item)."""

    id: str
    case: str = Field(description="the stored case's id")
    case_version: int = Field(description="the version of the case it was made from")
    status: str
    audit: Audit


class StoredSettlement(SettlementInfo):
    """A stored settlement: its facts and the settlement itself (the library's contract)."""

    settlement: Annotated[dict[str, Any], WithJsonSchema(settlement_json_schema())] = Field(
        description="the settlement, exactly as `POST /v1/settle` answers it"
    )


class SettlementPage(BaseModel):
    """A page of a case's settlements, oldest first."""

    items: list[SettlementInfo]
    next_cursor: str | None


class CompareRequest(BaseModel):
    """The body of ``POST /v1/cases/{id}/compare`` (optional): ``mediation compare``'s options."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rules: list[str] | None = Field(
        default=None,
        max_length=100,
        description="the rules to compare, in this order (default: every rule; those that do "
        "not apply to the case are listed with their conditions)",
    )
    solver: Literal["highs", "cbc"] = "highs"


def _sweep_summary_schema() -> dict[str, Any]:
    from mediation.sweep import SweepSummary

    return SweepSummary.model_json_schema(mode="serialization")


class SweepInfo(BaseModel):
    """A sweep's state: its status and progress (the listing's item)."""

    id: str
    status: Literal["queued", "running", "done", "failed", "cancelled"] = Field(
        description="queued (waiting for the sweep before it), running, done (every scenario "
        "settled, the summary made), failed (see `error`) or cancelled"
    )
    total: int = Field(description="the sweep's scenarios")
    completed: int = Field(description="scenarios settled and stored so far")
    case: str | None = Field(
        description="the stored case's id; null for a case sent with the sweep"
    )
    case_version: int | None = Field(description="the version of the stored case swept")
    error: str | None = Field(description="why the sweep failed (null unless it did)")
    results: str = Field(description="where its rows are: `/v1/sweeps/{id}/results`")
    created_at: dt.datetime
    updated_at: dt.datetime


class SweepState(SweepInfo):
    """A sweep's state and, once done, its summary (the library's sweep summary)."""

    summary: Annotated[dict[str, Any], WithJsonSchema(_sweep_summary_schema())] | None = Field(
        description="the summary of every row, as `mediation sweep --format json` prints it "
        "under `summary`; null until the sweep is done"
    )


class SweepPage(BaseModel):
    """A page of the tenant's sweeps, oldest first."""

    items: list[SweepInfo]
    next_cursor: str | None


class SweepResults(BaseModel):
    """A page of a sweep's rows, in scenario order (the rows stored so far, when it runs)."""

    items: list[dict[str, Any]] = Field(
        description="one row per scenario, its keys the columns of `mediation sweep`'s results "
        "file (scenario, grid_point, sample, param.<path>, status, blame, error, share.<issue>."
        "<party>, and each party's figures)"
    )
    next_cursor: str | None
