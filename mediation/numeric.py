"""The numeric view of a case: parties, issues and interests as numpy arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .case import Case, Term
from .case.model import Choice, Option

__all__ = ["CaseIndex", "Levers", "index_case", "separable_ideals"]


@dataclass(frozen=True)
class Levers:
    """The columns of an allocation beyond the interests' shares (case format 1.1).

    Column ``j`` (position ``n + j`` in an allocation vector, after the ``n`` shares) is a
    payment's amount ÷ its ``max``, a contribution's amount ÷ its ``max``, an option's
    choice (0 or 1), or the count of whole units of an interest on an issue with a
    ``unit_size``. ``scale[j]`` turns the column into money (or units): the payment's or
    contribution's ``max``, 1 for an option, the unit size for a count.
    """

    kind: list[str]  # "payment", "contribution", "option", "count"
    ident: list[str]  # the payment's, contribution's or option's id; the interest's position
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    scale: np.ndarray
    #: Utility triplets: column ``column[t]`` adds ``coef[t]`` per unit to party ``party[t]``.
    party: np.ndarray
    column: np.ndarray
    coef: np.ndarray
    #: Per choice (in case order): its option columns.
    choice_columns: list[np.ndarray] = field(default_factory=list)
    #: Per interest on a whole-unit issue: (interest, count column, units of the issue).
    counts: list[tuple[int, int, int]] = field(default_factory=list)
    #: Per funded issue (position): its contribution columns.
    funding: dict[int, np.ndarray] = field(default_factory=dict)
    #: Per funded choice (position): its contribution columns.
    choice_funding: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        """Return the number of lever columns."""
        return len(self.kind)

    @cached_property
    def position(self) -> dict[tuple[str, str], int]:
        """Column position (among the levers) by ``(kind, id)``."""
        return {(k, i): j for j, (k, i) in enumerate(zip(self.kind, self.ident, strict=True))}


_NO_LEVERS = Levers(
    kind=[],
    ident=[],
    lower=np.zeros(0),
    upper=np.zeros(0),
    integer=np.zeros(0, dtype=bool),
    scale=np.zeros(0),
    party=np.zeros(0, dtype=np.int64),
    column=np.zeros(0, dtype=np.int64),
    coef=np.zeros(0),
)


@dataclass(frozen=True)
class CaseIndex:
    """A numeric view of a case: parties, issues and interests as arrays.

    Interest ``k`` is ``case.interests[k]``: party ``pair_party[k]`` has a stake in issue
    ``pair_issue[k]`` with ``value[k]``; ``sign[k]`` is +1 for a resource and -1 for a risk.
    ``lower``/``upper`` are the share bounds in force (indivisible issues: 0 or 1).
    """

    parties: list[str]
    issues: list[str]
    party_of: dict[str, int]
    issue_of: dict[str, int]
    pair_party: np.ndarray
    pair_issue: np.ndarray
    value: np.ndarray
    sign: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    disagreement: np.ndarray
    capacity: np.ndarray  # inf when the party set no capacity
    amount: np.ndarray  # per issue
    likelihood: np.ndarray  # per issue, 1 for resources
    is_risk: np.ndarray  # per issue
    divisible: np.ndarray  # per issue
    interests_of_party: list[np.ndarray]
    interests_of_issue: list[np.ndarray]
    #: Per interest, the fraction of a risk's expected loss its bearer still suffers after
    #: what its control mitigates: 1 − mitigation · control (1 on resources; see mediation.risk).
    retained: np.ndarray
    #: The columns after the shares (payments, contributions, options, unit counts).
    levers: Levers = field(default=_NO_LEVERS)
    #: Per party, whether the rules compare it: not a fund, not an observer.
    compared: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: Per issue, whether its size is set by contributions (its shares sum to size ÷ amount).
    funded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def n(self) -> int:
        """How many interests (share columns) come before the levers."""
        return len(self.pair_party)

    @property
    def width(self) -> int:
        """The length of an allocation vector: the shares, then the levers."""
        return len(self.pair_party) + len(self.levers)

    @property
    def stake(self) -> np.ndarray:
        """Each party's total value over all its interests (1 when it has none)."""
        total = np.bincount(self.pair_party, weights=self.value, minlength=len(self.parties))
        levers = self.levers
        if len(levers):
            total += np.bincount(
                levers.party, weights=np.abs(levers.coef), minlength=len(self.parties)
            )
        return np.where(total > 0, total, 1.0)

    @property
    def resource_stake(self) -> np.ndarray:
        """Each party's total value over its resources (1 when it has none).

        It is the scale of the party's envy, which compares resources only (risks do not
        count).
        """
        resource = self.sign > 0
        total = np.bincount(
            self.pair_party[resource], weights=self.value[resource], minlength=len(self.parties)
        )
        return np.where(total > 0, total, 1.0)

    @property
    def coupled(self) -> bool:
        """Whether issues interact (extra constraints or a capacity on a party bearing risk).

        If not, each party's ideal can be computed issue by issue.
        """
        return self._coupled

    _coupled: bool = field(default=False, repr=False)

    @cached_property
    def pair_of(self) -> dict[tuple[str, str], int]:
        """Interest position by ``(stakeholder, issue)``."""
        parties, issues = self.parties, self.issues
        return {
            (parties[p], issues[q]): k
            for k, (p, q) in enumerate(
                zip(self.pair_party.tolist(), self.pair_issue.tolist(), strict=True)
            )
        }

    def term_value(self, term: Term, allocation: np.ndarray) -> float:
        """``coef ×`` the column a constraint's term names, in ``allocation``.

        A share is a fraction; a payment or contribution is money (its column × its most);
        an option is 1 when chosen.
        """
        kind, *ident = term.column
        if kind == "share":
            return float(term.coef * allocation[self.pair_of[ident[0], ident[1]]])
        j = self.levers.position[kind, ident[0]]
        return float(term.coef * self.levers.scale[j] * allocation[self.n + j])

    def chosen(self, choice: Choice, allocation: np.ndarray) -> Option:
        """Return the option of ``choice`` that ``allocation`` takes (its column at 1)."""
        at, n = self.levers.position, self.n
        return max(choice.options, key=lambda o: float(allocation[n + at["option", o.id]]))

    def utilities(self, shares: np.ndarray) -> np.ndarray:
        """Each party's utility under the allocation ``shares``.

        ``shares`` holds the per-interest shares, then (for a case with payments,
        contributions, choices or whole units) the levers' columns.
        """
        n = len(self.pair_party)
        own = np.bincount(
            self.pair_party,
            weights=self.sign * self.value * shares[:n],
            minlength=len(self.parties),
        )
        levers = self.levers
        if len(levers) and len(shares) > n:
            own += np.bincount(
                levers.party,
                weights=levers.coef * shares[n + levers.column],
                minlength=len(self.parties),
            )
        return own


def index_case(case: Case) -> CaseIndex:
    """Build the numeric view of ``case``."""
    parties = [s.id for s in case.stakeholders]
    issues = [i.id for i in case.issues]
    party_of = {p: k for k, p in enumerate(parties)}
    issue_of = {i: k for k, i in enumerate(issues)}
    n = len(case.interests)
    pair_party = np.fromiter(
        (party_of[x.stakeholder] for x in case.interests), dtype=np.int64, count=n
    )
    pair_issue = np.fromiter((issue_of[x.issue] for x in case.interests), dtype=np.int64, count=n)
    value = np.fromiter((x.value for x in case.interests), dtype=float, count=n)
    lower = np.fromiter((x.floor for x in case.interests), dtype=float, count=n)
    upper = np.fromiter((x.cap for x in case.interests), dtype=float, count=n)
    funded = np.array([i.id in case.contributions_to for i in case.issues], dtype=bool)
    if case.levered or any(
        x.min_amount is not None or x.max_amount is not None for x in case.interests
    ):
        lower, upper = _amount_bounds(case, pair_issue, lower, upper)
    is_risk = np.array([i.kind == "risk" for i in case.issues], dtype=bool)
    divisible = np.array([i.divisible for i in case.issues], dtype=bool)
    whole = ~divisible[pair_issue]
    # an indivisible issue goes whole to one party: a floor above 0 means "must receive it",
    # a cap below 1 means "cannot receive it"
    lower = np.where(whole, np.ceil(lower), lower)
    upper = np.where(whole, np.floor(upper), upper)
    levers = _levers(case, party_of, pair_issue, lower, upper) if _has_levers(case) else _NO_LEVERS
    if levers.counts:  # whole units: the bounds in force are whole numbers of units
        for k, _, units in levers.counts:
            lower[k] = math.ceil(lower[k] * units - 1e-9) / units
            upper[k] = math.floor(upper[k] * units + 1e-9) / units
    compared_ids = set(case.compared)
    compared = np.array([p in compared_ids for p in parties], dtype=bool)
    capacity = np.array(
        [math.inf if s.risk_capacity is None else s.risk_capacity for s in case.stakeholders]
    )
    order_p = np.argsort(pair_party, kind="stable")
    cuts_p = np.searchsorted(pair_party[order_p], np.arange(len(parties) + 1))
    order_i = np.argsort(pair_issue, kind="stable")
    cuts_i = np.searchsorted(pair_issue[order_i], np.arange(len(issues) + 1))
    bears_risk = np.zeros(len(parties), dtype=bool)
    bears_risk[pair_party[is_risk[pair_issue]]] = True
    coupled = (
        bool(case.constraints)
        or bool(np.any(np.isfinite(capacity) & bears_risk))
        or len(levers) > 0
        or bool(funded.any())
    )
    disagreement = np.array([s.disagreement for s in case.stakeholders])
    if not compared.all():  # a fund or an observer has no utility and no no-deal point
        disagreement = np.where(compared, disagreement, 0.0)
    return CaseIndex(
        parties=parties,
        issues=issues,
        party_of=party_of,
        issue_of=issue_of,
        pair_party=pair_party,
        pair_issue=pair_issue,
        value=value,
        sign=np.where(is_risk[pair_issue], -1.0, 1.0),
        lower=lower,
        upper=upper,
        weight=np.array([s.weight for s in case.stakeholders]),
        disagreement=disagreement,
        capacity=capacity,
        amount=np.array([i.amount for i in case.issues]),
        likelihood=np.array([i.likelihood for i in case.issues]),
        is_risk=is_risk,
        divisible=divisible,
        interests_of_party=[order_p[cuts_p[p] : cuts_p[p + 1]] for p in range(len(parties))],
        interests_of_issue=[order_i[cuts_i[q] : cuts_i[q + 1]] for q in range(len(issues))],
        retained=1.0
        - case.mitigation
        * np.fromiter((x.control or 0.0 for x in case.interests), dtype=float, count=n),
        _coupled=coupled,
        levers=levers,
        compared=compared,
        funded=funded,
    )


def _has_levers(case: Case) -> bool:
    return case.levered or any(i.unit_size is not None for i in case.issues)


def _amount_bounds(
    case: Case, pair_issue: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the share bounds in force: the tighter of each share bound and amount bound.

    An amount bound is a share of the issue's amount (of its largest size, on a funded
    issue, whose shares are fractions of that amount in the model).
    """
    lower, upper = lower.copy(), upper.copy()
    amounts = [i.amount for i in case.issues]
    for k, x in enumerate(case.interests):
        amount = amounts[int(pair_issue[k])]
        lower[k], upper[k] = x.floor_of(amount), x.cap_of(amount)
    return lower, upper


def _levers(
    case: Case,
    party_of: dict[str, int],
    pair_issue: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> Levers:
    """Return the lever columns of a case: payments, contributions, options, unit counts."""
    kind: list[str] = []
    ident: list[str] = []
    lo: list[float] = []
    hi: list[float] = []
    integer: list[bool] = []
    scale: list[float] = []
    party: list[int] = []
    column: list[int] = []
    coef: list[float] = []
    funds = set(case.funds)

    def add(k: str, i: str, low: float, up: float, whole: bool, size: float) -> int:
        kind.append(k)
        ident.append(i)
        lo.append(low)
        hi.append(up)
        integer.append(whole)
        scale.append(size)
        return len(kind) - 1

    for p in case.payments:
        j = add("payment", p.id, p.min / p.max, 1.0, False, p.max)
        party.append(party_of[p.payer])
        column.append(j)
        coef.append(-p.payer_rate * p.max)
        if p.payee not in funds:
            party.append(party_of[p.payee])
            column.append(j)
            coef.append(p.payee_rate * p.max)
    contribution_column: dict[str, int] = {}
    for c in case.contributions:
        j = add("contribution", c.id, c.min / c.max, 1.0, False, c.max)
        contribution_column[c.id] = j
        if c.rate:
            party.append(party_of[c.stakeholder])
            column.append(j)
            coef.append(-c.rate * c.max)
    choice_columns: list[np.ndarray] = []
    for choice in case.choices:
        columns = []
        for o in choice.options:
            j = add("option", o.id, 0.0, 1.0, True, 1.0)
            columns.append(j)
            for who, v in o.values.items():
                if v:
                    party.append(party_of[who])
                    column.append(j)
                    coef.append(v)
        choice_columns.append(np.array(columns, dtype=np.int64))
    counts: list[tuple[int, int, int]] = []
    units_of: dict[int, int] = {}
    for q, issue in enumerate(case.issues):
        if issue.units is not None:
            units_of[q] = issue.units
    if units_of:
        for k in range(len(pair_issue)):
            q = int(pair_issue[k])
            if q in units_of:
                units = units_of[q]
                size = case.issues[q].unit_size or 1.0
                j = add(
                    "count",
                    str(k),
                    math.ceil(lower[k] * units - 1e-9),
                    math.floor(upper[k] * units + 1e-9),
                    True,
                    size,
                )
                counts.append((k, j, units))
    issue_of = {i.id: q for q, i in enumerate(case.issues)}
    choice_of = {c.id: q for q, c in enumerate(case.choices)}
    funding: dict[int, np.ndarray] = {}
    choice_funding: dict[int, np.ndarray] = {}
    for target, given in case.contributions_to.items():
        given_columns = np.array([contribution_column[c.id] for c in given], dtype=np.int64)
        if target in issue_of:
            funding[issue_of[target]] = given_columns
        elif target in choice_of:
            choice_funding[choice_of[target]] = given_columns
    return Levers(
        kind=kind,
        ident=ident,
        lower=np.array(lo, dtype=float),
        upper=np.array(hi, dtype=float),
        integer=np.array(integer, dtype=bool),
        scale=np.array(scale, dtype=float),
        party=np.array(party, dtype=np.int64),
        column=np.array(column, dtype=np.int64),
        coef=np.array(coef, dtype=float),
        choice_columns=choice_columns,
        counts=counts,
        funding=funding,
        choice_funding=choice_funding,
    )


def separable_ideals(index: CaseIndex) -> np.ndarray | None:
    """Return each party's ideal utility when issues do not interact.

    ``None`` if the per-issue bounds cannot all hold.

    On each issue a party can get at most ``min(cap, 1 − Σ others' floors)`` of a resource and
    must bear at least ``max(floor, 1 − Σ others' caps)`` of a risk; the ideal adds these up.
    Valid only when ``index.coupled`` is false (no extra constraints, no capacity on a party
    that bears risk).
    """
    n_issues = len(index.issues)
    floors = np.bincount(index.pair_issue, weights=index.lower, minlength=n_issues)
    caps = np.bincount(index.pair_issue, weights=index.upper, minlength=n_issues)
    if np.any(floors > 1 + 1e-9) or np.any(caps < 1 - 1e-9):
        return None
    others_floor = floors[index.pair_issue] - index.lower
    others_cap = caps[index.pair_issue] - index.upper
    best_resource = np.minimum(index.upper, 1.0 - others_floor)
    least_risk = np.maximum(index.lower, 1.0 - others_cap)
    share = np.where(index.sign > 0, best_resource, least_risk)
    return index.utilities(np.clip(share, 0.0, 1.0))
