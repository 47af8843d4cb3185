"""The comparison of one case's settlements under several rules: a versioned JSON contract.

``mediation compare`` (and :func:`mediation.allocation.compare.compare`) settles one case
under every rule that applies to it and returns a :class:`Comparison`: per rule its status,
each party's utility and normalized gain, the shares of the contested issues (those in which
more than one party has an interest), the fairness figures, and whether its allocation is the
only one that gives every party those utilities (:class:`AllocationRange`, found by LP). The
comparison also lists the rules that do not apply and why, and flags the rules whose
settlements coincide: the same allocation, or the same utilities by different allocations.

Numbers are the settlements' own (already cleaned of solver noise, see
:mod:`mediation.settlement`); share ranges are rounded to 14 significant digits.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .settlement import Fairness, SettlementStatus

__all__ = [
    "COMPARISON_VERSION",
    "AllocationRange",
    "Coincidence",
    "Comparison",
    "NotApplicable",
    "PartyFigures",
    "ProblemData",
    "RuleOutcome",
    "ShareRange",
    "Tolerances",
    "comparison_json_schema",
]

#: Version of the comparison contract; bumped on any incompatible change.
COMPARISON_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShareRange(_Model):
    """How far one party's share of an issue can move while every party's utility stays put."""

    issue: str
    stakeholder: str
    low: float = Field(description="the least share among the allocations with these utilities")
    high: float = Field(description="the largest share among them")

    @property
    def width(self) -> float:
        """``high − low``: 0 when the share is the same in every such allocation."""
        return self.high - self.low


class AllocationRange(_Model):
    """Whether an allocation is the only one that gives every party its utilities.

    Found by LP: holding every party's utility at the settlement's (within
    ``utility_tolerance`` of the party's range) under the case's hard constraints (and the
    policy's constraints for a rule solved on the LP), the least and the largest share of
    every contested interest.
    """

    unique: bool | None = Field(
        description="true when no share can move by more than share_tolerance; null when the "
        "check did not finish (time limit, solver trouble) and found no such share"
    )
    complete: bool = Field(description="whether every range was found")
    ranges: list[ShareRange] = Field(
        description="every contested interest's range, widest first (ties in case order)"
    )
    utility_tolerance: float = Field(
        description="how far each utility may move, as a fraction of the party's range"
    )
    share_tolerance: float = Field(description="a range wider than this makes it not unique")
    lps: int = Field(description="how many LPs (or MIPs) the check solved")

    @property
    def wide(self) -> list[ShareRange]:
        """The ranges wider than :attr:`share_tolerance`, widest first."""
        return [r for r in self.ranges if r.width > self.share_tolerance]


class PartyFigures(_Model):
    """One party's outcome under one rule."""

    utility: float | None
    gain: float | None = Field(description="utility − disagreement")
    normalized_gain: float | None = Field(
        description="gain / (ideal − disagreement); null for a party with no room to gain"
    )


class RuleOutcome(_Model):
    """One rule's settlement of the case, as the comparison shows it."""

    rule: str
    status: SettlementStatus
    scale: str = Field(description="the scale gains were compared on (raw or normalized)")
    parties: dict[str, PartyFigures]
    shares: dict[str, dict[str, float]] = Field(
        description="the shares of the contested issues (empty without an allocation)"
    )
    fairness: Fairness | None
    allocation: AllocationRange | None = Field(
        description="whether the allocation is unique; null without an allocation"
    )
    message: str | None = Field(
        default=None, description="what went wrong, for a settlement with status error"
    )


class ProblemData(_Model):
    """Why a rule cannot settle the case: a problem with its path and code."""

    path: str
    code: str
    message: str


class NotApplicable(_Model):
    """A rule whose preconditions the case does not meet."""

    rule: str
    problems: list[ProblemData]


class Coincidence(_Model):
    """Rules whose settlements coincide.

    ``same_allocation``: every share within ``tolerance`` of each other's. ``same_utilities``:
    every party's utility within ``tolerance`` of its range of each other's, yet some share
    differs by more than the share tolerance.
    """

    kind: Literal["same_allocation", "same_utilities"]
    rules: list[str] = Field(min_length=2)
    tolerance: float


class Tolerances(_Model):
    """The tolerances the comparison's flags are decided with."""

    share: float = Field(description="shares this close are the same (coincidences)")
    utility: float = Field(
        description="utilities this close, as a fraction of the party's range, are the same"
    )
    range_share: float = Field(description="a share range wider than this is not unique")
    range_utility: float = Field(
        description="how far utilities may move in the uniqueness LPs, as a fraction of range"
    )


class Comparison(_Model):
    """One case settled by several rules, side by side."""

    schema_version: str = COMPARISON_VERSION
    case_id: str
    contested: list[str] = Field(
        description="the contested issues (more than one party has an interest), in case order"
    )
    outcomes: list[RuleOutcome] = Field(description="one per rule compared, in the order asked")
    not_applicable: list[NotApplicable]
    coincidences: list[Coincidence]
    tolerances: Tolerances

    def outcome(self, rule: str) -> RuleOutcome | None:
        """Return the outcome of ``rule`` (``None`` when it was not compared)."""
        return next((found for found in self.outcomes if found.rule == rule), None)


def comparison_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the comparison contract, as a mapping."""
    schema = Comparison.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/comparison.schema.json"
    return schema
