"""The case's entities, as Pydantic models, each validated on its own.

They are the parties, the issues, the interests and relations between them, extra
constraints, and the case that holds them.

Cross-field rules (ids that must exist, floors that must fit) are checked by
:func:`mediation.case.referential_problems`; :func:`mediation.case.parse_case` applies both.
"""

from __future__ import annotations

import datetime
import math
import sys
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..errors import describe, lone_surrogate
from .base import StrictModel
from .limits import MAX_MAGNITUDE, MAX_TEXT, MAX_WEIGHT, MIN_MAGNITUDE, MIN_WEIGHT
from .policy import Policy

__all__ = [
    "RELATION_KINDS",
    "STAKEHOLDER_KINDS",
    "Case",
    "CaseTranslation",
    "Choice",
    "Contribution",
    "Interest",
    "Issue",
    "LinearConstraint",
    "Option",
    "Payment",
    "Relation",
    "Stakeholder",
    "Term",
    "Translation",
]

StakeholderKind = Literal[
    "government",
    "social_organization",
    "resident_group",
    "enterprise",
    "third_party",
    "other",
    "fund",
]
#: Where a bound comes from: a party's position (negotiable), a policy the parties cannot
#: change among themselves, or the law. A diagnosis never offers a legal bound as a concession.
Basis = Literal["negotiable", "policy", "legal"]
IssueKind = Literal["resource", "risk"]
RelationKind = Literal["funds", "supervises", "cooperates", "conflicts", "represents", "dialogue"]
Sense = Literal["<=", ">=", "=="]

STAKEHOLDER_KINDS: tuple[str, ...] = get_args(StakeholderKind)
RELATION_KINDS: tuple[str, ...] = get_args(RelationKind)

Slug = Annotated[str, StringConstraints(pattern=r"^[\w-]+$", min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
#: Where a bound is written down (a regulation and its article, a contract clause).
Source = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _not_tiny(value: float) -> float:
    if value and abs(value) < MIN_MAGNITUDE:
        raise PydanticCustomError(
            "magnitude",
            "must be 0 or at least {least} in absolute value, got {got}",
            {"least": _number(MIN_MAGNITUDE), "got": repr(value)},
        )
    return value


def _not_below_least(value: float) -> float:
    if value < MIN_MAGNITUDE:
        raise PydanticCustomError(
            "magnitude",
            "must be at least {least}, got {got}",
            {"least": _number(MIN_MAGNITUDE), "got": repr(value)},
        )
    return value


#: A magnitude: 0, or between MIN_MAGNITUDE and MAX_MAGNITUDE in absolute value.
Magnitude = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE), AfterValidator(_not_tiny)]
#: A magnitude that is not negative.
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_MAGNITUDE), AfterValidator(_not_tiny)]
#: A magnitude that is positive.
Positive = Annotated[float, Field(gt=0.0, le=MAX_MAGNITUDE), AfterValidator(_not_below_least)]


def _json_data(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` when it is JSON data; else a validation error saying where it is not."""
    found = _not_json(value)
    if found is not None:
        where, what = found
        raise PydanticCustomError("json_data", "{what}", {"what": what, "where": where})
    return value


#: Data of the user's own, kept but never interpreted: it must survive JSON (the case's
#: digest, a settlement's echo, a service's response) unchanged.
Extensions = Annotated[dict[str, Any], AfterValidator(_json_data)]


_LONE = "lone surrogate (\\ud800-\\udfff without its pair)"
_VALID = "text must be valid Unicode"
_JSON_ONLY = (
    "extensions hold JSON data only (strings, finite numbers, true/false, null, lists, and "
    "mappings with string keys)"
)


def _not_json(value: object) -> tuple[list[int | str], str] | None:
    """Return where and why ``value`` is not JSON data; ``None`` when all of it is.

    The place given is the first one in document order that is not JSON data.
    """
    todo: list[tuple[list[int | str], object]] = [([], value)]
    while todo:
        loc, item = todo.pop()
        if isinstance(item, str):
            where = lone_surrogate(item)
            if where is not None:
                return loc, f"holds a {_LONE} at character {where + 1}; {_VALID}"
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return loc, f"keys must be strings, got {describe(key)}: {_JSON_ONLY}"
                if lone_surrogate(key) is not None:
                    return loc, f"a key holds a {_LONE}; {_VALID}"
            todo.extend(([*loc, k], v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            todo.extend(([*loc, k], v) for k, v in reversed(list(enumerate(item))))
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            most = sys.get_int_max_str_digits()  # 10**most has 3.3 * most bits
            if most and item.bit_length() > 3 * most and abs(item) >= 10**most:
                return loc, f"an integer of more than {most} digits is not allowed: {_JSON_ONLY}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return loc, f"{item!r} is not allowed: {_JSON_ONLY}"
        else:
            what, instead = _unlike_json(item)
            return loc, f"{what} is not allowed: {_JSON_ONLY}; {instead}"
    return None


def _unlike_json(item: object) -> tuple[str, str]:
    """Return what a value that JSON cannot hold is, and what to write instead."""
    if isinstance(item, bytes | bytearray):
        return "binary data (YAML !!binary)", "write it as a base64 string"
    if isinstance(item, datetime.date | datetime.time):
        return f"a date or time ({item.isoformat()})", "quote it to keep it a string"
    if isinstance(item, set | frozenset):
        return "a set", "write a list"
    if isinstance(item, tuple):
        return "a tuple", "write a list"
    return f"a {type(item).__name__}", "write a string, a number, a list or a mapping"


def _number(value: object) -> str:
    """Return a bound as messages show it: ``0``, ``0.5``, ``1e-9``, ``1e12``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = f"{value:g}"
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


#: Relative tolerance of "a whole multiple of the unit size".
UNIT_TOLERANCE = 1e-9


def whole_units(amount: float, unit_size: float) -> int | None:
    """Return how many whole units of ``unit_size`` make ``amount``; ``None`` if not whole.

    >>> whole_units(12, 1), whole_units(8000, 0.5), whole_units(10, 3)
    (12, 16000, None)
    """
    units = amount / unit_size
    near = round(units)
    if near < 1 or abs(units - near) > UNIT_TOLERANCE * max(1.0, units):
        return None
    return int(near)


def _label(name: str, translations: dict[str, Translation], lang: str | None) -> str:
    """Return ``name`` in ``lang`` when ``translations`` has one, else ``name`` itself."""
    tr = translations.get(lang) if lang else None
    return tr.name if tr is not None and tr.name else name


class Translation(StrictModel):
    """A party's or an issue's name and description in another language."""

    name: Name | None = None
    description: Text | None = None


class CaseTranslation(StrictModel):
    """A case's title and description in another language."""

    title: Name | None = None
    description: Text | None = None


class Stakeholder(StrictModel):
    """A party to the case."""

    id: Slug
    name: Name
    kind: StakeholderKind
    weight: float = Field(default=1.0, ge=MIN_WEIGHT, le=MAX_WEIGHT)
    disagreement: Magnitude = 0.0
    risk_capacity: NonNegative | None = None
    capacity_basis: Basis = "negotiable"
    capacity_source: Source | None = None
    size: int | None = Field(default=None, ge=0)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    @property
    def is_fund(self) -> bool:
        """Whether this is an account (``kind: fund``), not a party: it is never compared."""
        return self.kind == "fund"

    def label(self, lang: str | None = None) -> str:
        """Return the party's name in ``lang`` when the case translates it, else its own name."""
        return _label(self.name, self.translations, lang)


class Issue(StrictModel):
    """A resource to divide or a risk to bear."""

    id: Slug
    name: Name
    kind: IssueKind
    amount: Positive
    unit: Annotated[str, StringConstraints(max_length=40)] = ""
    divisible: bool = True
    #: Every party's amount is a whole multiple of it (a post, an hour slot).
    unit_size: Positive | None = None
    probability: float | None = Field(default=None, gt=0.0, le=1.0)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    @property
    def units(self) -> int | None:
        """How many whole units of ``unit_size`` the amount is (``None`` without a unit size)."""
        return None if self.unit_size is None else whole_units(self.amount, self.unit_size)

    @property
    def likelihood(self) -> float:
        """Probability that the risk materialises (1 for a resource or when not given)."""
        return 1.0 if self.probability is None else self.probability

    def label(self, lang: str | None = None) -> str:
        """Return the issue's name in ``lang`` when the case translates it, else its own name."""
        return _label(self.name, self.translations, lang)


class Interest(StrictModel):
    """A party's stake in an issue: an edge of the stakeholder–issue graph.

    ``value`` is required on a resource. On a risk it may be left out: it is then the
    party's expected loss from bearing the whole risk, after what its control mitigates,
    probability × amount × (1 − mitigation × control) in the issue's unit (see
    :mod:`mediation.risk`); the case fills it in when it is validated and leaves it out again
    when it is written.
    """

    stakeholder: Slug
    issue: Slug
    #: Left out (``None``) only on a risk, where the case derives it; always a number once
    #: the case is validated.
    value: NonNegative = Field(default=None)  # type: ignore[assignment]
    min_share: Share | None = None
    max_share: Share | None = None
    #: Bounds in the issue's unit (a red line stated as money or hours, not as a share).
    min_amount: NonNegative | None = None
    max_amount: NonNegative | None = None
    #: Where the interest's bounds (share and amount) come from.
    basis: Basis = "negotiable"
    source: Source | None = None
    claim: NonNegative | None = None
    control: Share | None = None
    note: Text | None = None
    extensions: Extensions | None = None

    #: The expected loss the case derived for a value left out (``None``: the value is stated).
    _derived: float | None = PrivateAttr(default=None)

    @property
    def derived(self) -> bool:
        """Whether ``value`` is the expected loss the case derived, not a value it states.

        A copy with another value (``model_copy(update={"value": ...})``) states its value.
        """
        return self._derived is not None and self.value == self._derived

    @model_serializer(mode="wrap")
    def _without_derived_value(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.derived:  # written as the user wrote it: derived again when read back
            data.pop("value", None)
        return data

    @property
    def floor(self) -> float:
        """The smallest share of the issue the party may receive: ``min_share``, else 0.

        An amount bound is converted by :func:`mediation.numeric.index_case`, which knows
        the issue's amount.
        """
        return 0.0 if self.min_share is None else self.min_share

    @property
    def cap(self) -> float:
        """The largest share of the issue the party may receive: ``max_share``, else 1."""
        return 1.0 if self.max_share is None else self.max_share

    def floor_of(self, amount: float) -> float:
        """Return the floor in force as a share of ``amount`` (the tighter of the two floors)."""
        if self.min_amount is None:
            return self.floor
        return max(self.floor, min(1.0, self.min_amount / amount))

    def cap_of(self, amount: float) -> float:
        """Return the cap in force as a share of ``amount`` (the tighter of the two caps)."""
        if self.max_amount is None:
            return self.cap
        return min(self.cap, self.max_amount / amount)

    @property
    def bounded(self) -> bool:
        """Whether the interest states a bound (a share or an amount)."""
        return (
            self.min_share is not None
            or self.max_share is not None
            or self.min_amount is not None
            or self.max_amount is not None
        )


class Relation(StrictModel):
    """A relation between two parties: an edge of the stakeholder graph."""

    source: Slug
    target: Slug
    kind: RelationKind
    strength: float = Field(default=1.0, gt=0.0, le=1.0)
    description: Text | None = None
    extensions: Extensions | None = None


class Term(StrictModel):
    """``coef`` times one column of the settlement.

    The column is the share of ``issue`` that ``stakeholder`` receives, or (format 1.1) the
    money a ``payment`` pays, the money a ``contribution`` gives, or 1 if ``option`` is chosen
    (0 otherwise). Exactly one of the three forms.
    """

    stakeholder: Slug | None = None
    issue: Slug | None = None
    payment: Slug | None = None
    contribution: Slug | None = None
    option: Slug | None = None
    coef: Magnitude

    @model_validator(mode="after")
    def _one_column(self) -> Term:
        share = self.stakeholder is not None or self.issue is not None
        forms = [share, self.payment is not None]
        forms += [self.contribution is not None, self.option is not None]
        if sum(forms) > 1:
            raise PydanticCustomError(
                "term_form",
                "a term names one column: stakeholder and issue (a share), or payment, or "
                "contribution, or option",
            )
        if share and (self.stakeholder is None or self.issue is None):
            missing = "stakeholder" if self.stakeholder is None else "issue"
            raise PydanticCustomError(
                "term_form",
                "a share's term needs both stakeholder and issue ({missing} is missing)",
                {"missing": missing},
            )
        if not any(forms):
            raise PydanticCustomError(
                "term_form",
                "a term needs stakeholder and issue (a share), or payment, or contribution, "
                "or option",
            )
        return self

    @property
    def column(self) -> tuple[str, ...]:
        """Return the column the term names, as a tuple.

        ``("share", stakeholder, issue)``, ``("payment", id)``, ``("contribution", id)`` or
        ``("option", id)``.
        """
        if self.payment is not None:
            return ("payment", self.payment)
        if self.contribution is not None:
            return ("contribution", self.contribution)
        if self.option is not None:
            return ("option", self.option)
        return ("share", str(self.stakeholder), str(self.issue))


class LinearConstraint(StrictModel):
    """An extra linear constraint: ``sum(coef * column) sense rhs``."""

    name: Slug
    terms: list[Term] = Field(min_length=1)
    sense: Sense
    rhs: Magnitude
    basis: Basis = "negotiable"
    source: Source | None = None
    description: Text | None = None


class Payment(StrictModel):
    """Money one party may pay another (or a fund): an amount in [min, max], chosen by the rule.

    The payer's utility falls by ``payer_rate`` per unit paid, the payee's rises by
    ``payee_rate`` per unit received (a fund has no utility).
    """

    id: Slug
    payer: Slug
    payee: Slug
    max: Positive
    min: NonNegative = 0.0
    unit: Annotated[str, StringConstraints(max_length=40)] = ""
    payer_rate: Positive = 1.0
    payee_rate: Positive = 1.0
    basis: Basis = "negotiable"
    source: Source | None = None
    description: Text | None = None
    extensions: Extensions | None = None


class Contribution(StrictModel):
    """Money a party gives towards a funded resource issue or the cost of a choice.

    The amount is in [min, max] in the target's unit, chosen by the rule; the contributor's
    utility falls by ``rate`` per unit given (0 for an earmarked subsidy that costs its giver
    nothing it could use otherwise).
    """

    id: Slug
    stakeholder: Slug
    to: Slug
    max: Positive
    min: NonNegative = 0.0
    rate: NonNegative = 1.0
    basis: Basis = "negotiable"
    source: Source | None = None
    description: Text | None = None
    extensions: Extensions | None = None


class Option(StrictModel):
    """One alternative of a choice: its cost and what it is worth to each party."""

    id: Slug
    name: Name
    cost: NonNegative = 0.0
    #: Party id → the utility the party gets if this option is chosen, on its own scale
    #: (negative: the option harms it); a party left out gets 0.
    values: dict[Slug, Magnitude] = Field(default_factory=dict)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    def label(self, lang: str | None = None) -> str:
        """Return the option's name in ``lang`` when the case translates it, else its own."""
        return _label(self.name, self.translations, lang)


class Choice(StrictModel):
    """Mutually exclusive alternatives (two lift schemes): exactly one option is chosen."""

    id: Slug
    name: Name
    unit: Annotated[str, StringConstraints(max_length=40)] = ""
    options: list[Option] = Field(min_length=2, max_length=50)
    description: Text | None = None
    translations: dict[LanguageCode, Translation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    def label(self, lang: str | None = None) -> str:
        """Return the choice's name in ``lang`` when the case translates it, else its own."""
        return _label(self.name, self.translations, lang)


class Case(StrictModel):
    """A dispute among several parties over resources and risks."""

    #: The case format's version, when the document states one ("1.0" refuses 1.1's keys).
    format_version: Literal["1.0", "1.1"] | None = None
    id: Slug
    title: Name
    description: Text | None = None
    stakeholders: list[Stakeholder] = Field(min_length=2)
    issues: list[Issue] = Field(min_length=1)
    interests: list[Interest] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    constraints: list[LinearConstraint] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    contributions: list[Contribution] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    #: How much of a risk's expected loss a party in full control of it avoids on the share it
    #: bears: the loss of bearing share x is probability × amount × x × (1 − mitigation ×
    #: control). See :mod:`mediation.risk`.
    mitigation: Share = 0.5
    policy: Policy = Field(default_factory=Policy)
    translations: dict[LanguageCode, CaseTranslation] = Field(default_factory=dict)
    extensions: Extensions | None = None

    @model_validator(mode="after")
    def _derive_risk_values(self) -> Case:
        """Fill in each risk interest's value left out: the expected loss after mitigation."""
        issues = {i.id: i for i in self.issues}
        funds = {s.id for s in self.stakeholders if s.kind == "fund"}
        for k, x in enumerate(self.interests):
            if x.value is None and x.stakeholder in funds:  # an account has no utility
                kept = x.model_copy(update={"value": 0.0})
                kept._derived = 0.0
                self.interests[k] = kept
                continue
            issue = issues.get(x.issue)
            if x.value is not None or issue is None or issue.kind != "risk":
                continue  # a resource without a value is reported by the checks
            factor = 1.0 - self.mitigation * (x.control or 0.0)
            loss = issue.likelihood * issue.amount * factor
            derived = x.model_copy(update={"value": loss})
            derived._derived = loss
            self.interests[k] = derived
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Case:
        """Return a copy of the case, ``update`` applied, without the views cached on it.

        The cached views (parties by id, interests by issue, observers, the digest, ...) are
        of this case: a copy that changes a list would otherwise inherit them stale (a
        scenario with other amounts reading the base case's issues).
        """
        copy = super().model_copy(update=update, deep=deep)
        if update:
            for name in _CACHED:
                copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def stakeholder_by_id(self) -> dict[str, Stakeholder]:
        """Parties keyed by id."""
        return {s.id: s for s in self.stakeholders}

    @cached_property
    def issue_by_id(self) -> dict[str, Issue]:
        """Issues keyed by id."""
        return {i.id: i for i in self.issues}

    @cached_property
    def interest_by_pair(self) -> dict[tuple[str, str], Interest]:
        """Interests keyed by ``(stakeholder, issue)``."""
        return {(x.stakeholder, x.issue): x for x in self.interests}

    @cached_property
    def interests_by_issue(self) -> dict[str, list[Interest]]:
        """Interests grouped by issue id, in case order; every issue has a list."""
        grouped: dict[str, list[Interest]] = {i.id: [] for i in self.issues}
        for x in self.interests:
            grouped[x.issue].append(x)
        return grouped

    @cached_property
    def interests_by_stakeholder(self) -> dict[str, list[Interest]]:
        """Interests grouped by party id, in case order; every party has a list."""
        grouped: dict[str, list[Interest]] = {s.id: [] for s in self.stakeholders}
        for x in self.interests:
            grouped[x.stakeholder].append(x)
        return grouped

    @cached_property
    def funds(self) -> list[str]:
        """Ids of the accounts (``kind: fund``): they hold shares but are never compared."""
        return [s.id for s in self.stakeholders if s.kind == "fund"]

    @cached_property
    def observers(self) -> list[str]:
        """Ids of the parties with no stake: no interest, payment, contribution or option value.

        They are listed once in a settlement and never compared. A stakeholder with no stake
        but a no-deal point of its own (``disagreement``) is a party still, as in format 1.0.
        """
        staked = {x.stakeholder for x in self.interests}
        staked |= {p.payer for p in self.payments} | {p.payee for p in self.payments}
        staked |= {c.stakeholder for c in self.contributions}
        staked |= {s for c in self.choices for o in c.options for s in o.values}
        # a party with a no-deal point of its own is a party still (format 1.0 settled it so)
        return [
            s.id
            for s in self.stakeholders
            if s.kind != "fund" and s.id not in staked and not s.disagreement
        ]

    @cached_property
    def compared(self) -> list[str]:
        """Ids of the parties the rules compare: neither funds nor observers."""
        left_out = set(self.funds) | set(self.observers)
        return [s.id for s in self.stakeholders if s.id not in left_out]

    @cached_property
    def contributions_to(self) -> dict[str, list[Contribution]]:
        """Contributions grouped by what they fund (a resource issue or a choice)."""
        grouped: dict[str, list[Contribution]] = {}
        for c in self.contributions:
            grouped.setdefault(c.to, []).append(c)
        return grouped

    @cached_property
    def option_by_id(self) -> dict[str, tuple[Choice, Option]]:
        """Each option with its choice, keyed by the option's id."""
        return {o.id: (c, o) for c in self.choices for o in c.options}

    @property
    def levered(self) -> bool:
        """Whether the case has payments, contributions or choices (money and alternatives)."""
        return bool(self.payments or self.contributions or self.choices)

    @cached_property
    def canonical_digest(self) -> bytes:
        """SHA-256 digest of the validated case's JSON, computed once per case.

        The JSON has a fixed key order and number format. The digest is bytes, not a live
        ``hashlib`` object, so that a case that has been settled can still be pickled (sent to
        a worker process, cached).
        """
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).digest()

    def title_in(self, lang: str | None = None) -> str:
        """Return the case's title in ``lang`` when the case translates it, else its own title."""
        tr = self.translations.get(lang) if lang else None
        return tr.title if tr is not None and tr.title else self.title


#: The views :class:`Case` caches (dropped from a copy that changes the case).
_CACHED = tuple(name for name, member in vars(Case).items() if isinstance(member, cached_property))

#: The lists of a case, each with the model of its items.
_SECTIONS: dict[str, type[StrictModel]] = {
    "stakeholders": Stakeholder,
    "issues": Issue,
    "interests": Interest,
    "relations": Relation,
    "constraints": LinearConstraint,
    "payments": Payment,
    "contributions": Contribution,
    "choices": Choice,
}
