"""The settlement: the engine's answer, a versioned JSON contract shared by the CLI and service.

A settlement is a result *body* (status, shares, amounts, each party's outcome, fairness,
typed reasons, the diagnosis) and a *provenance* header (the input's hash, the policy
applied, engine and solver versions, time spent). The body depends on the input alone: two
runs of the same case under the same policy give identical bodies; only the provenance's
timings differ. :meth:`Settlement.body` gives the body alone.

Numbers in the body are the engine's exact values cleaned of solver noise: shares within
1e-9 of 0, 1 or a party's bound are snapped to it, every computed number is rounded to 14
significant digits (the floating-point noise of ``0.8500000000000008`` goes; any tolerance
a validator or a person uses is far wider), and the shares of each issue sum to exactly 1
(``math.fsum``). Numbers taken from the case (a disagreement point) are reported as given.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .reasons import Reason

__all__ = [
    "SCHEMA_VERSION",
    "Alternative",
    "ChoiceMade",
    "Concession",
    "Conflict",
    "ConflictSet",
    "ContributionMade",
    "Diagnosis",
    "Explanation",
    "Exposure",
    "Fairness",
    "PartyOutcome",
    "PaymentMade",
    "Provenance",
    "Reason",
    "Settlement",
    "SolverInfo",
    "settlement_json_schema",
]

#: Version of the settlement contract; bumped on any incompatible change.
SCHEMA_VERSION = "1.3"

SettlementStatus = Literal["optimal", "feasible", "infeasible", "error"]
Basis = Literal["negotiable", "policy", "legal"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exposure(_Model):
    """Money a party stands to lose through the risks it bears."""

    expected: float = Field(description="Σ probability · amount · share over the party's risks")
    worst_case: float = Field(description="Σ amount · share over the party's risks")
    mitigated: float | None = Field(
        default=None,
        description="the expected loss after what the party's control mitigates: "
        "Σ probability · amount · share · (1 − mitigation · control) (absent before 1.2)",
    )


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


#: The fields a conflict's member and a concession share about the bound they name (1.3).
PaymentRef = Annotated[str | None, Field(description="the payment whose bound it is (1.3)")]
ContributionRef = Annotated[
    str | None, Field(description="the contribution whose bound it is (1.3)")
]
BoundBasis = Annotated[
    Basis,
    Field(
        description="negotiable (a party's position), policy, or legal; a legal bound is never "
        "conceded (1.3)"
    ),
]
BoundSource = Annotated[str | None, Field(description="where the bound is written down (1.3)")]


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
        "payment_floor",
        "payment_cap",
        "contribution_floor",
        "contribution_cap",
        "choice",
    ]
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    bound: float | None = None
    unit: str | None = Field(default=None, description="share, a money unit, or 'points'")
    payment: PaymentRef = None
    contribution: ContributionRef = None
    basis: BoundBasis = "negotiable"
    source: BoundSource = None


class Concession(_Model):
    """A change of one red line that (with the others listed with it) makes a deal possible."""

    kind: Literal[
        "floor",
        "cap",
        "capacity",
        "constraint",
        "disagreement",
        "proportional",
        "envy",
        "payment_floor",
        "payment_cap",
        "contribution_floor",
        "contribution_cap",
    ]
    stakeholder: str | None = None
    issue: str | None = None
    constraint: str | None = None
    payment: PaymentRef = None
    contribution: ContributionRef = None
    basis: BoundBasis = "negotiable"
    source: BoundSource = None
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


class PaymentMade(_Model):
    """Money one party pays another (or a fund) under the settlement (1.3)."""

    payer: str
    payee: str
    amount: float
    unit: str


class ContributionMade(_Model):
    """Money a party gives towards a funded issue or a choice's cost (1.3)."""

    stakeholder: str
    to: str
    amount: float
    unit: str


class Alternative(_Model):
    """What one option of a choice would have given each party, settled under the same rule."""

    status: SettlementStatus
    utilities: dict[str, float | None] = Field(
        description="each compared party's utility with this option imposed"
    )


class ChoiceMade(_Model):
    """The option chosen, its cost, and what each alternative would have given (1.3)."""

    chosen: str
    cost: float
    unit: str
    alternatives: dict[str, Alternative] = Field(
        default_factory=dict, description="by option id, the chosen one included"
    )


class Explanation(_Model):
    """The reasons as sentences in one language, added on request beside the typed reasons."""

    lang: Literal["en", "zh"]
    sentences: list[str]


class SolverInfo(_Model):
    """Which solver found the settlement, and how much it worked."""

    name: str
    version: str
    seconds: float = Field(description="time spent inside the solver")
    solves: int = Field(default=0, description="how many LPs (or MIPs) it solved")


class Provenance(_Model):
    """Where a settlement comes from: its input, the policy applied, versions and timings."""

    input_sha256: str = Field(
        description="SHA-256 of the validated case's canonical JSON and the policy applied"
    )
    policy: dict[str, Any] = Field(description="the policy applied (the case's, overridden)")
    engine_version: str
    solver: SolverInfo
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")


class Settlement(_Model):
    """A proposed settlement of a case (or the diagnosis of why there is none)."""

    schema_version: str = SCHEMA_VERSION
    case_id: str
    rule: str
    scale: str = Field(description="the scale gains were compared on (raw or normalized)")
    status: SettlementStatus
    shares: dict[str, dict[str, float]]
    amounts: dict[str, dict[str, float]]
    parties: dict[str, PartyOutcome] = Field(
        description="the compared parties (1.3: funds and observers are listed apart)"
    )
    payments: dict[str, PaymentMade] = Field(
        default_factory=dict, description="by payment id (1.3)"
    )
    contributions: dict[str, ContributionMade] = Field(
        default_factory=dict, description="by contribution id (1.3)"
    )
    sizes: dict[str, float] = Field(
        default_factory=dict,
        description="each funded issue's size: the sum of the contributions to it (1.3)",
    )
    choices: dict[str, ChoiceMade] = Field(default_factory=dict, description="by choice id (1.3)")
    funds: list[str] = Field(
        default_factory=list, description="accounts that hold shares but are never compared (1.3)"
    )
    observers: list[str] = Field(
        default_factory=list, description="stakeholders with no stake, never compared (1.3)"
    )
    fairness: Fairness | None
    reasons: list[Reason]
    diagnosis: Diagnosis | None = None
    explanation: Explanation | None = Field(
        default=None, description="the reasons as sentences, when asked for (e.g. --lang)"
    )
    provenance: Provenance

    def body(self) -> dict[str, Any]:
        """Return the result without its provenance, as JSON-ready data."""
        return self.model_dump(mode="json", exclude={"provenance"})


def settlement_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the settlement contract, as a mapping."""
    schema = Settlement.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/mediation-engine/mediation/settlement.schema.json"
    return schema
