"""The evaluation of a proposed split: a planner's what-if, as a versioned JSON contract.

A planner pins some shares ("the street office takes 60% of the overrun") and asks what
follows. :class:`Evaluation` holds the settlement of the case as it is (the *free*
settlement) beside the settlement with the pins held (the *pinned* one, the rest filled in
by the same rule), and, per party, the figures side by side: utility, gain, the fraction of
its possible gain (always measured against the *free* case's ideals, so that a pin that
takes from a party shows as a loss rather than moving the yardstick), expected and
worst-case exposure, burden relative to capacity, and the cost of the pins in the issues'
own units and in utility. When the pins leave no deal, the pinned settlement's diagnosis is
kept and the pins that take part in it are named as pins, with the range each pin could
take with the others held.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .settlement import Concession, Conflict, Fairness, Settlement

__all__ = [
    "EVALUATION_VERSION",
    "AmountChange",
    "Blocker",
    "Evaluation",
    "Figures",
    "PartyEvaluation",
    "PinCheck",
    "PinMove",
    "PinRef",
    "evaluation_json_schema",
]

#: Version of the evaluation contract; bumped on any incompatible change.
EVALUATION_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figures(_Model):
    """One party's figures under one settlement."""

    utility: float
    gain: float = Field(description="utility − disagreement")
    normalized_gain: float | None = Field(
        description="gain ÷ (the free case's ideal − disagreement); null when that range is 0"
    )
    expected_loss: float = Field(
        description="Σ probability · amount · share · (1 − mitigation · control) over its risks"
    )
    worst_case: float = Field(description="Σ amount · share over its risks")
    burden: float | None = Field(
        description="expected loss ÷ risk capacity (or ÷ the amounts of its risks when it "
        "states no capacity); null for a party that bears no risk"
    )
    capacity: float | None = Field(description="its risk_capacity, when it states one")


class AmountChange(_Model):
    """How much more (or less) of an issue a party receives under the pins, in its unit."""

    issue: str
    kind: Literal["resource", "risk"]
    free: float = Field(description="share under the free settlement")
    pinned: float = Field(description="share under the pins")
    amount: float = Field(description="(pinned − free) × the issue's amount, in its unit")
    unit: str
    value: float = Field(description="what the change is worth to the party, in its points")


class PartyEvaluation(_Model):
    """One party: the free settlement beside the pinned one, and what the pins cost it."""

    party: str
    free: Figures | None
    pinned: Figures | None
    changes: list[AmountChange] = Field(
        description="each issue whose share the pins move, in the issue's own unit"
    )
    cost: float | None = Field(
        description="utility lost to the pins (free − pinned), in the party's own points; "
        "negative for a party the pins favour"
    )
    cost_normalized: float | None = Field(
        description="the same as a fraction of its possible gain in the free case"
    )


class PinCheck(_Model):
    """One pin: where it stands, and the range it could take with the other pins held."""

    issue: str
    party: str
    pinned: float
    free: float | None = Field(description="the share the free settlement gives")
    low: float | None = Field(
        description="the least share possible with the other pins and every hard constraint "
        "held; null when no share is"
    )
    high: float | None
    held: Literal["red_lines", "other_pins", "red_lines_only"] = Field(
        description="what the range holds: the red lines (there are no other pins), the "
        "other pins too, or the red lines only because with the other pins no share is possible"
    )
    feasible: bool = Field(description="whether the pin lies within [low, high]")


class PinRef(_Model):
    """A pin taking part in a conflict."""

    issue: str
    party: str
    share: float


class PinMove(_Model):
    """A pin moved to ``proposed``: part of the cheapest way to a deal, or one on its own."""

    issue: str
    party: str
    pinned: float
    proposed: float


class Blocker(_Model):
    """Pins and red lines that cannot all hold together, and the single changes that end it."""

    pins: list[PinRef]
    red_lines: list[Conflict] = Field(description="the parties' red lines and the case's rules")
    pin_moves: list[PinMove] = Field(description="moving one pin alone resolves it")
    concessions: list[Concession] = Field(description="relaxing one red line alone resolves it")


class Evaluation(_Model):
    """A proposed split evaluated against the free settlement of the same case."""

    evaluation_version: str = EVALUATION_VERSION
    case_id: str
    rule: str
    pins: dict[str, dict[str, float]]
    complete: bool = Field(description="whether the pins fix every share (a split to check)")
    feasible: bool = Field(description="whether the pins leave a settlement")
    pin_checks: list[PinCheck]
    blockers: list[Blocker] = Field(
        description="when infeasible: each independent conflict, its pins named as pins"
    )
    nearest_pins: list[PinMove] = Field(
        description="when infeasible: the pins closest to the planner's (least total change "
        "of share) that make a deal possible with every red line kept; empty when none do"
    )
    pin_moves: list[PinMove] = Field(
        description="when infeasible: the pins moved in the diagnosis's jointly cheapest way "
        "to a deal (with the red lines relaxed in ``concessions``)"
    )
    concessions: list[Concession] = Field(
        description="when infeasible: the red lines relaxed in that jointly cheapest way"
    )
    parties: list[PartyEvaluation]
    fairness_free: Fairness | None
    fairness_pinned: Fairness | None = Field(
        description="the pinned allocation's fairness, its gains measured against the free "
        "case's ideals"
    )
    free: Settlement
    pinned: Settlement

    def body(self) -> dict[str, Any]:
        """Return the evaluation without the two settlements' provenance, as JSON data."""
        data = self.model_dump(mode="json")
        for key in ("free", "pinned"):
            data[key].pop("provenance", None)
        return data


def evaluation_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the evaluation contract, as a mapping."""
    schema = Evaluation.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/evaluation.schema.json"
    return schema
