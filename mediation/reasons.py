"""The reasons of a settlement as typed data: one code, one payload model per code.

A reason is a fact the engine found (a red line that binds and its price, a level leximin
reached, the steps of a procedure) stated as data; :func:`mediation.render` turns it into
sentences. :data:`Reason` is the discriminated union of every payload, keyed by ``code``:
JSON readers switch on ``code`` and find exactly the fields its model lists.

Conventions shared by the payloads:

* parties are named by their ids (``stakeholder``, ``parties``, the keys of ``shares``,
  ``points``, ``awards``), issues by theirs (``issue``);
* ``dual`` is the price of a bound: how much the rule's ``objective`` would rise if the
  bound gave way by one unit (a whole share, one money unit, one utility point or one unit
  of the constraint's left-hand side); ``None`` when the solve gave no duals;
* ``rank`` is the leximin round in which a bound or a level binds (1 for the first, and for
  every other rule);
* ``basis`` is where a bound comes from: ``negotiable`` (a party's own red line, the
  default), ``policy`` or ``legal`` (never a party's demand), and ``source`` where it is
  written down (a regulation and its article), when the case says;
* payments, contributions, choices and options (case format 1.1) are named by their ids
  (``payment``, ``contribution``, ``choice``, ``option``); money is in the payment's unit or
  the target's (``unit``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AwEquitable",
    "AwSplit",
    "AwTransfer",
    "AwWinner",
    "BurdenLevel",
    "CapBinding",
    "CapacityBinding",
    "ClaimsAwarded",
    "ConstraintBinding",
    "ContributionGiven",
    "DisagreementBinding",
    "FloorBinding",
    "FundShare",
    "Infeasible",
    "IssueAwarded",
    "IssueFunded",
    "IssueSplit",
    "LeastExpectedLoss",
    "LeximinLevel",
    "NashCertificate",
    "NashGapNotReached",
    "NoPositiveGain",
    "NoRoom",
    "NobodyToCompare",
    "NotCertifiedOptimal",
    "NotParetoOptimal",
    "Objective",
    "OptionChosen",
    "PaymentDue",
    "Reason",
    "ReasonCode",
    "RiskBorne",
    "RuleBelowDisagreement",
    "SolverFailed",
    "TimeLimit",
    "WeightedSum",
    "WorstOff",
    "reason_models",
]

#: What a rule's LP maximised, which the duals of the bounds are prices in.
Objective = Literal["min_gain", "min_normalized_gain", "weighted_sum", "nash_welfare"]
#: Where a bound comes from (case format 1.1): a party's position, a policy, or the law.
Basis = Literal["negotiable", "policy", "legal"]
#: What sets a payment's or a contribution's amount: ``max`` or ``min`` (above 0), the bound
#: binds; ``zero``, nothing is paid (its ``min`` is 0); in between, ``constraint`` (an extra
#: constraint sets it), ``disagreement`` (it leaves the party named exactly at its no-deal
#: outcome), ``balance`` (the rule balanced the gains of the parties named through it),
#: ``cost`` (with the other contributions it meets the chosen option's cost), or ``range``
#: (none of these: the rule's optimum as a whole sets it).
Why = Literal["max", "min", "zero", "constraint", "disagreement", "balance", "cost", "range"]


class ReasonCode(StrEnum):
    """Every code a reason can carry (each has its payload model in :data:`Reason`)."""

    WORST_OFF = "worst_off"
    LEXIMIN_LEVEL = "leximin_level"
    LEAST_EXPECTED_LOSS = "least_expected_loss"
    BURDEN_LEVEL = "burden_level"
    WEIGHTED_SUM = "weighted_sum"
    NASH_CERTIFICATE = "nash_certificate"
    NASH_GAP_NOT_REACHED = "nash_gap_not_reached"
    NOBODY_TO_COMPARE = "nobody_to_compare"
    FLOOR_BINDING = "floor_binding"
    CAP_BINDING = "cap_binding"
    CAPACITY_BINDING = "capacity_binding"
    CONSTRAINT_BINDING = "constraint_binding"
    DISAGREEMENT_BINDING = "disagreement_binding"
    NO_ROOM = "no_room"
    RISK_BORNE = "risk_borne"
    ISSUE_AWARDED = "issue_awarded"
    ISSUE_SPLIT = "issue_split"
    CLAIMS_AWARDED = "claims_awarded"
    AW_WINNER = "aw_winner"
    AW_TRANSFER = "aw_transfer"
    AW_SPLIT = "aw_split"
    AW_EQUITABLE = "aw_equitable"
    NOT_PARETO_OPTIMAL = "not_pareto_optimal"
    NOT_CERTIFIED_OPTIMAL = "not_certified_optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    NO_POSITIVE_GAIN = "no_positive_gain"
    RULE_BELOW_DISAGREEMENT = "rule_below_disagreement"
    SOLVER_ERROR = "solver_error"
    PAYMENT_DUE = "payment_due"
    CONTRIBUTION_GIVEN = "contribution_given"
    ISSUE_FUNDED = "issue_funded"
    OPTION_CHOSEN = "option_chosen"
    FUND_SHARE = "fund_share"


class _Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- what the rule reached ---------------------------------------------------------------


class WorstOff(_Reason):
    """Maximin and Kalai–Smorodinsky: the worst-off parties and the level they reach."""

    code: Literal["worst_off"] = "worst_off"
    parties: list[str]
    level: float = Field(description="their compared gain (a fraction when normalized)")


class LeximinLevel(_Reason):
    """One round of leximin: parties fixed at a level they cannot rise above."""

    code: Literal["leximin_level"] = "leximin_level"
    rank: int = Field(ge=1, description="the round, from the worst-off up")
    level: float = Field(description="their compared gain (a fraction when normalized)")
    parties: list[str]
    discrete: bool = Field(
        default=False,
        description="whole units, indivisible issues or choices made the split discrete: the "
        "level is the most they allow, not one no party could rise above (1.3)",
    )


class LeastExpectedLoss(_Reason):
    """Risk sharing: the risks go where they cost least in expectation, after mitigation."""

    code: Literal["least_expected_loss"] = "least_expected_loss"
    total: float = Field(description="the total expected loss after mitigation")
    unmitigated: float = Field(description="the same shares' expected loss before mitigation")
    unit: str = Field(description="the risks' unit, when they share one; else empty")
    tolerance: float = Field(
        ge=0, description="the fraction above the least total accepted to balance burdens"
    )


class BurdenLevel(_Reason):
    """Risk sharing: parties whose burden (expected loss ÷ capacity) cannot be lowered further."""

    code: Literal["burden_level"] = "burden_level"
    rank: int = Field(ge=1, description="the round, from the most burdened down")
    level: float = Field(description="their expected loss as a fraction of what they can bear")
    parties: list[str]


class WeightedSum(_Reason):
    """The utilitarian rule: the largest weighted sum of compared gains."""

    code: Literal["weighted_sum"] = "weighted_sum"
    value: float


class NashCertificate(_Reason):
    """Nash bargaining: how close the allocation is certified to be to the optimum."""

    code: Literal["nash_certificate"] = "nash_certificate"
    gap: float = Field(description="certified relative gap of the weighted geometric mean")
    rounds: int
    cuts: int


class NashGapNotReached(_Reason):
    """Nash bargaining stopped before its certified gap reached the target."""

    code: Literal["nash_gap_not_reached"] = "nash_gap_not_reached"
    gap: float
    target: float


class NobodyToCompare(_Reason):
    """No party has room to gain: every allocation serves everyone the same."""

    code: Literal["nobody_to_compare"] = "nobody_to_compare"


# --- what binds ----------------------------------------------------------------------------


class _Binding(_Reason):
    dual: float | None = Field(default=None, description="the bound's price (see the module)")
    objective: Objective | None = None
    rank: int = Field(default=1, ge=1, description="the leximin round in which it binds")


class _Based(_Binding):
    basis: Basis = Field(
        default="negotiable", description="negotiable (a party's red line), policy or legal"
    )
    source: str | None = Field(default=None, description="where the bound is written down")


#: The field of a floor's or cap's bound in the issue's unit.
_AMOUNT = Field(
    default=None,
    description="the bound in the issue's unit, when it is stated so (an amount bound in "
    "force, or any bound of an issue shared in whole units); null for a share",
)


class FloorBinding(_Based):
    """A party's floor (``min_share``) on an issue holds it exactly: its red line binds."""

    code: Literal["floor_binding"] = "floor_binding"
    stakeholder: str
    issue: str
    bound: float = Field(
        description="the floor in force, a share of the issue (of its most, when funded)"
    )
    amount: float | None = _AMOUNT


class CapBinding(_Based):
    """A party's cap (``max_share``) on an issue binds."""

    code: Literal["cap_binding"] = "cap_binding"
    stakeholder: str
    issue: str
    bound: float = Field(
        description="the cap in force, a share of the issue (of its most, when funded)"
    )
    amount: float | None = _AMOUNT


class CapacityBinding(_Based):
    """A party bears as much risk as its ``risk_capacity`` allows."""

    code: Literal["capacity_binding"] = "capacity_binding"
    stakeholder: str
    bound: float = Field(description="the capacity, in money")
    unit: str | None = Field(default=None, description="the money unit of its risks")


class ConstraintBinding(_Based):
    """One of the case's extra constraints binds."""

    code: Literal["constraint_binding"] = "constraint_binding"
    constraint: str = Field(description="the constraint's name")
    sense: Literal["<=", ">=", "=="]
    bound: float


class DisagreementBinding(_Binding):
    """A party gets exactly its no-deal outcome (individual rationality binds)."""

    code: Literal["disagreement_binding"] = "disagreement_binding"
    stakeholder: str
    bound: float = Field(description="its disagreement point, in its utility points")


# --- who got what and why ------------------------------------------------------------------


class NoRoom(_Reason):
    """A party can gain nothing under the hard constraints (its ideal is its no-deal point)."""

    code: Literal["no_room"] = "no_room"
    stakeholder: str
    ideal: float
    disagreement: float


class RiskBorne(_Reason):
    """Who bears a risk, and whether it is the party best able to control it."""

    code: Literal["risk_borne"] = "risk_borne"
    issue: str
    stakeholder: str = Field(description="the party bearing the largest share")
    shares: dict[str, float]
    control: dict[str, float] | None = Field(
        default=None, description="each party's stated control of the risk, when any is stated"
    )
    to_controller: bool | None = Field(
        default=None, description="whether the main bearer has the most control"
    )


class IssueAwarded(_Reason):
    """An issue went whole to one party."""

    code: Literal["issue_awarded"] = "issue_awarded"
    issue: str
    stakeholder: str
    relative_value: float = Field(description="its value for the issue, relative to its range")
    runner_up: str | None
    runner_up_value: float | None
    highest: bool = Field(description="whether no other party values it more (relatively)")


class IssueSplit(_Reason):
    """An issue is shared between parties."""

    code: Literal["issue_split"] = "issue_split"
    issue: str
    shares: dict[str, float]
    relative_values: dict[str, float]


class ClaimsAwarded(_Reason):
    """A claims rule rationed an issue."""

    code: Literal["claims_awarded"] = "claims_awarded"
    issue: str
    method: Literal[
        "proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud"
    ]
    awards: dict[str, float]
    claims: dict[str, float]
    level: float | None = Field(
        default=None,
        description="equal awards: the cap λ every award meets; equal losses: the loss μ",
    )


class AwWinner(_Reason):
    """Adjusted Winner, first step: who values an issue more and wins it."""

    code: Literal["aw_winner"] = "aw_winner"
    issue: str
    stakeholder: str
    points: dict[str, float]


class AwTransfer(_Reason):
    """Adjusted Winner, equalising: an issue moves (wholly or partly) to the other party."""

    code: Literal["aw_transfer"] = "aw_transfer"
    issue: str
    stakeholder: str = Field(description="the party giving it up")
    to: str
    ratio: float = Field(description="the giver's points over the receiver's for the issue")
    partial: bool


class AwSplit(_Reason):
    """Adjusted Winner's one split issue, and the share its first winner keeps."""

    code: Literal["aw_split"] = "aw_split"
    issue: str
    stakeholder: str
    kept: float


class AwEquitable(_Reason):
    """Adjusted Winner's end: both parties have the same points."""

    code: Literal["aw_equitable"] = "aw_equitable"
    points: dict[str, float]


# --- money and alternatives (case format 1.1) ---------------------------------------------


class _Lever(_Based):
    amount: float = Field(description="the money, in ``unit``")
    unit: str
    least: float = Field(description="its ``min``")
    most: float = Field(description="its ``max``")
    why: Why = Field(description="what sets the amount (see the module)")
    constraint: str | None = Field(default=None, description="the extra constraint setting it")
    parties: list[str] = Field(
        default_factory=list,
        description="who it balances (balance), or who it leaves at its no-deal outcome",
    )


class PaymentDue(_Lever):
    """A payment the settlement makes: who pays whom how much, and what sets the amount.

    ``dual`` (with ``why`` ``max`` or ``min``) is the price of the bound per money unit;
    ``basis`` and ``source`` are the bound's.
    """

    code: Literal["payment_due"] = "payment_due"
    payment: str
    payer: str
    payee: str


class ContributionGiven(_Lever):
    """A contribution: who gives how much to a funded issue or to the cost of a choice.

    A contribution that costs its giver nothing (``rate`` 0, an earmarked budget) is a
    ``subsidy``: a contribution, never a risk the giver bears.
    """

    code: Literal["contribution_given"] = "contribution_given"
    contribution: str
    stakeholder: str
    issue: str | None = Field(default=None, description="the funded issue it goes to")
    choice: str | None = Field(default=None, description="the choice whose cost it meets")
    subsidy: bool = Field(description="whether it costs its giver nothing (rate 0)")


class IssueFunded(_Reason):
    """A funded resource issue: its size is the sum of the contributions to it."""

    code: Literal["issue_funded"] = "issue_funded"
    issue: str
    size: float = Field(description="the sum of the contributions, in ``unit``")
    most: float = Field(description="the most it can hold (the issue's amount)")
    unit: str
    contributions: dict[str, float] = Field(description="by contribution id, its amount")


class OptionChosen(_Reason):
    """Which option of a choice the settlement takes, and its cost.

    What each alternative would have given is the settlement's (``choices``, when settled).
    """

    code: Literal["option_chosen"] = "option_chosen"
    choice: str
    option: str
    cost: float
    unit: str


class FundShare(_Reason):
    """A fund's share of an issue: money set aside in an account, no party's gain."""

    code: Literal["fund_share"] = "fund_share"
    stakeholder: str = Field(description="the fund")
    issue: str
    share: float = Field(description="a fraction of the issue (of its size, when funded)")
    amount: float = Field(description="in the issue's unit")
    unit: str


# --- how the run ended ---------------------------------------------------------------------


class NotParetoOptimal(_Reason):
    """Another allocation would make a party better off and nobody worse off."""

    code: Literal["not_pareto_optimal"] = "not_pareto_optimal"


class NotCertifiedOptimal(_Reason):
    """The validator's own LP found a better value than the rule reached."""

    code: Literal["not_certified_optimal"] = "not_certified_optimal"
    message: str


class TimeLimit(_Reason):
    """The time limit stopped the rule; the allocation is its last stage's."""

    code: Literal["time_limit"] = "time_limit"
    seconds: float | None


class Infeasible(_Reason):
    """No allocation meets every hard constraint: see the diagnosis."""

    code: Literal["infeasible"] = "infeasible"


class NoPositiveGain(_Reason):
    """Nash's rule needs every party to gain; these cannot, all together."""

    code: Literal["no_positive_gain"] = "no_positive_gain"
    parties: list[str]


class RuleBelowDisagreement(_Reason):
    """A procedure left these parties below their no-deal outcome."""

    code: Literal["rule_below_disagreement"] = "rule_below_disagreement"
    parties: list[str]


class SolverFailed(_Reason):
    """The solver (or the validator) failed; the message says how."""

    code: Literal["solver_error"] = "solver_error"
    message: str


#: One reason: the payload model its ``code`` names.
Reason: TypeAlias = Annotated[
    WorstOff
    | LeximinLevel
    | LeastExpectedLoss
    | BurdenLevel
    | WeightedSum
    | NashCertificate
    | NashGapNotReached
    | NobodyToCompare
    | FloorBinding
    | CapBinding
    | CapacityBinding
    | ConstraintBinding
    | DisagreementBinding
    | NoRoom
    | RiskBorne
    | IssueAwarded
    | IssueSplit
    | ClaimsAwarded
    | AwWinner
    | AwTransfer
    | AwSplit
    | AwEquitable
    | NotParetoOptimal
    | NotCertifiedOptimal
    | TimeLimit
    | Infeasible
    | NoPositiveGain
    | RuleBelowDisagreement
    | SolverFailed
    | PaymentDue
    | ContributionGiven
    | IssueFunded
    | OptionChosen
    | FundShare,
    Field(discriminator="code"),
]


def reason_models() -> dict[str, type[BaseModel]]:
    """Return the payload model of each reason code."""
    union = get_args(Reason)[0]
    models: dict[str, type[BaseModel]] = {}
    for model in get_args(union):
        models[model.model_fields["code"].default] = model
    return models
