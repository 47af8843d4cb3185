"""The settlement: the engine's answer, a versioned JSON contract shared by the CLI and service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Concession",
    "Conflict",
    "ConflictSet",
    "Diagnosis",
    "Exposure",
    "Fairness",
    "PartyOutcome",
    "Reason",
    "Settlement",
    "SolverInfo",
]

#: Version of the settlement contract; bumped on any incompatible change.
SCHEMA_VERSION = "1.0"

SettlementStatus = Literal["optimal", "feasible", "infeasible", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exposure(_Model):
    """Money a party stands to lose through the risks it bears."""

    expected: float = Field(description="Σ probability · amount · share over the party's risks")
    worst_case: float = Field(description="Σ amount · share over the party's risks")


class PartyOutcome(_Model):
    """What one party gets, in its own utility points."""

    utility: float | None
    disagreement: float
    gain: float | None = Field(description="utility − disagreement")
    ideal: float | None = Field(
        description="the most it could get under the hard constraints alone"
    )
    normalized_gain: float | None = Field(
        description="gain / (ideal − disagreement); null when ideal = disagreement "
        "(no room to gain)"
    )
    exposure: Exposure


class Fairness(_Model):
    """Fairness properties of the allocation, each computed, none assumed."""

    min_normalized_gain: float | None
    gini: float | None = Field(description="Gini coefficient of the normalized gains (0 = equal)")
    envy_free: bool
    max_envy: float = Field(
        description="largest envy over resources, in the envious party's points"
    )
    proportional: bool
    pareto_optimal: bool | None = Field(
        description="checked by an LP over the hard constraints; null if the check did not finish"
    )


class Reason(BaseModel):
    """One structured reason; ``code`` says which, the other fields depend on it.

    Rendering into sentences is done by :func:`mediation.render`.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    code: str
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    dual: float | None = None


class Conflict(_Model):
    """A hard constraint taking part in the conflict that makes a deal impossible."""

    kind: Literal[
        "floor",
        "cap",
        "capacity",
        "constraint",
        "disagreement",
        "proportional",
        "envy",
        "issue_total",
        "integrality",
    ]
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    bound: float | None = None
    unit: str | None = Field(default=None, description="share, a money unit, or 'points'")


class Concession(_Model):
    """A change of one red line that (with the others listed with it) makes a deal possible."""

    kind: Literal["floor", "cap", "capacity", "constraint", "disagreement", "proportional", "envy"]
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    current: float
    proposed: float
    change: float = Field(description="proposed − current, in the unit given")
    unit: str = Field(description="share (0–1 of the issue), a money unit, or 'points' (utility)")


class ConflictSet(_Model):
    """Red lines that cannot all hold together, and the single concessions that would end it."""

    constraints: list[Conflict]
    irreducible: bool = Field(
        description="true when dropping any one member makes the rest compatible"
    )
    alternatives: list[Concession] = Field(
        description="concessions on one member each that would each resolve this conflict"
    )


class Diagnosis(_Model):
    """Why no allocation meets every hard constraint, and what would change that."""

    code: str
    conflicts: list[ConflictSet] = Field(
        description="independent conflicts: resolving all of them makes a deal possible"
    )
    concessions: list[Concession] = Field(
        description="the jointly cheapest concessions (elastic LP) that make a deal possible"
    )


class SolverInfo(_Model):
    """Which solver found the settlement, and how long it took."""

    name: str
    version: str
    seconds: float = Field(description="time spent inside the solver")
    solves: int = 0
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")


class Settlement(_Model):
    """A proposed settlement of a case (or the diagnosis of why there is none)."""

    schema_version: str = SCHEMA_VERSION
    case_id: str
    rule: str
    scale: str
    status: SettlementStatus
    shares: dict[str, dict[str, float]]
    amounts: dict[str, dict[str, float]]
    parties: dict[str, PartyOutcome]
    fairness: Fairness | None
    reasons: list[Reason]
    diagnosis: Diagnosis | None = None
    solver: SolverInfo
    engine_version: str
    input_sha256: str
    policy: dict[str, Any] = Field(default_factory=dict, description="the policy applied")
