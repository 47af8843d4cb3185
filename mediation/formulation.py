"""The allocation model: share variables, utilities and a case's hard constraints, in PuLP.

For every interest (party s, issue i) a share variable ``x`` in [min_share, max_share]
(binary when the issue is indivisible); every issue's shares sum to 1; each party's utility
``u_s = Σ value·x over resources − Σ value·x over risks`` is a free variable defined by an
equality row; worst-case risk exposure ``Σ amount·x`` stays within ``risk_capacity``; the
case's extra constraints are rows. Rules add their own columns and rows on top. This module
only formulates: solving is the adapter's job (:mod:`mediation.solver`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pulp

from .case import Case, Policy

__all__ = [
    "AllocationModel",
    "CaseIndex",
    "add_envy_row",
    "add_policy_constraints",
    "build_model",
    "index_case",
    "separable_ideals",
]

_SENSES = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}


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

    @property
    def stake(self) -> np.ndarray:
        """Each party's total value over all its interests (1 when it has none)."""
        total = np.bincount(self.pair_party, weights=self.value, minlength=len(self.parties))
        return np.where(total > 0, total, 1.0)

    @property
    def resource_stake(self) -> np.ndarray:
        """Each party's total value over its resources (1 when it has none): the scale of its
        envy, which compares resources only (risks do not count)."""
        resource = self.sign > 0
        total = np.bincount(
            self.pair_party[resource], weights=self.value[resource], minlength=len(self.parties)
        )
        return np.where(total > 0, total, 1.0)

    @property
    def coupled(self) -> bool:
        """Whether issues interact (extra constraints or a capacity on a party bearing risk);
        if not, each party's ideal can be computed issue by issue."""
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

    def utilities(self, shares: np.ndarray) -> np.ndarray:
        """Each party's utility under the per-interest shares ``shares``."""
        return np.bincount(
            self.pair_party, weights=self.sign * self.value * shares, minlength=len(self.parties)
        )


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
    is_risk = np.array([i.kind == "risk" for i in case.issues], dtype=bool)
    divisible = np.array([i.divisible for i in case.issues], dtype=bool)
    whole = ~divisible[pair_issue]
    # an indivisible issue goes whole to one party: a floor above 0 means "must receive it",
    # a cap below 1 means "cannot receive it"
    lower = np.where(whole, np.ceil(lower), lower)
    upper = np.where(whole, np.floor(upper), upper)
    capacity = np.array(
        [math.inf if s.risk_capacity is None else s.risk_capacity for s in case.stakeholders]
    )
    order_p = np.argsort(pair_party, kind="stable")
    cuts_p = np.searchsorted(pair_party[order_p], np.arange(len(parties) + 1))
    order_i = np.argsort(pair_issue, kind="stable")
    cuts_i = np.searchsorted(pair_issue[order_i], np.arange(len(issues) + 1))
    bears_risk = np.zeros(len(parties), dtype=bool)
    bears_risk[pair_party[is_risk[pair_issue]]] = True
    coupled = bool(case.constraints) or bool(np.any(np.isfinite(capacity) & bears_risk))
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
        disagreement=np.array([s.disagreement for s in case.stakeholders]),
        capacity=capacity,
        amount=np.array([i.amount for i in case.issues]),
        likelihood=np.array([i.likelihood for i in case.issues]),
        is_risk=is_risk,
        divisible=divisible,
        interests_of_party=[order_p[cuts_p[p] : cuts_p[p + 1]] for p in range(len(parties))],
        interests_of_issue=[order_i[cuts_i[q] : cuts_i[q + 1]] for q in range(len(issues))],
        _coupled=coupled,
    )


@dataclass
class AllocationModel:
    """A case's hard constraints as a PuLP problem, plus handles on its parts.

    ``variables`` lists every column in order (rules append theirs); the other fields name the
    columns and rows that rules, explanations and the diagnosis need.
    """

    case: Case
    index: CaseIndex
    problem: pulp.LpProblem
    variables: list[pulp.LpVariable]
    x: list[pulp.LpVariable]
    u: list[pulp.LpVariable]
    issue_rows: list[pulp.LpConstraint]
    utility_rows: list[pulp.LpConstraint]
    capacity_rows: dict[int, pulp.LpConstraint]
    extra_rows: dict[str, pulp.LpConstraint]
    policy_rows: dict[str, pulp.LpConstraint] = field(default_factory=dict)
    #: One column per policy row, held at 0; raising its upper bound switches the row off.
    policy_release: list[pulp.LpVariable] = field(default_factory=list)
    envy_rows: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)

    @property
    def integer(self) -> bool:
        return not bool(np.all(self.index.divisible))

    def new_variable(
        self, name: str, low: float | None = None, up: float | None = None
    ) -> pulp.LpVariable:
        """A continuous column registered in :attr:`variables` (add it to a session yourself)."""
        v = self.problem.add_variable(name, low, up)
        self.variables.append(v)
        return v

    def utility_expression(self, weights: np.ndarray) -> pulp.LpAffineExpression:
        """``Σ weights[s] · u_s`` over parties with a nonzero weight."""
        return pulp.LpAffineExpression([(self.u[p], float(w)) for p, w in enumerate(weights) if w])


def build_model(
    case: Case, index: CaseIndex | None = None, *, name: str = "allocation"
) -> AllocationModel:
    """Formulate the hard constraints of ``case``: bounds, issue sums, capacities, extra rows.

    The objective is left empty; rules set theirs. Policy constraints (individual
    rationality, proportionality, envy-freeness) are added by :func:`add_policy_constraints`.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: 示例
    ... stakeholders: [{id: a, name: 甲, kind: government}, {id: b, name: 乙, kind: enterprise}]
    ... issues: [{id: fund, name: 经费, kind: resource, amount: 10}]
    ... interests:
    ...   - {stakeholder: a, issue: fund, value: 1}
    ...   - {stakeholder: b, issue: fund, value: 3}
    ... ''')
    >>> model = build_model(case)
    >>> len(model.x), len(model.issue_rows), len(model.utility_rows)
    (2, 1, 2)
    """
    index = index or index_case(case)
    problem = pulp.LpProblem(name, pulp.LpMaximize)
    add = problem.add_variable
    whole = ~index.divisible[index.pair_issue]
    x = [
        add(f"x{k}", float(lo), float(hi), pulp.LpInteger if w else pulp.LpContinuous)
        for k, (lo, hi, w) in enumerate(zip(index.lower, index.upper, whole, strict=True))
    ]
    u = [add(f"u{p}") for p in range(len(index.parties))]
    affine, constraint = pulp.LpAffineExpression, pulp.LpConstraint
    issue_rows = [
        constraint(affine([(x[k], 1.0) for k in ks]), pulp.LpConstraintEQ, f"issue{q}", 1.0)
        for q, ks in enumerate(index.interests_of_issue)
    ]
    coef = index.sign * index.value
    utility_rows = [
        constraint(
            affine([(u[p], 1.0), *((x[k], -float(coef[k])) for k in ks)]),
            pulp.LpConstraintEQ,
            f"utility{p}",
            0.0,
        )
        for p, ks in enumerate(index.interests_of_party)
    ]
    capacity_rows: dict[int, pulp.LpConstraint] = {}
    exposure = index.amount[index.pair_issue]
    for p, ks in enumerate(index.interests_of_party):
        risky = [k for k in ks if index.is_risk[index.pair_issue[k]]]
        if risky and math.isfinite(index.capacity[p]):
            capacity_rows[p] = constraint(
                affine([(x[k], float(exposure[k])) for k in risky]),
                pulp.LpConstraintLE,
                f"capacity{p}",
                float(index.capacity[p]),
            )
    extra_rows = {
        c.name: constraint(
            affine([(x[index.pair_of[t.stakeholder, t.issue]], t.coef) for t in c.terms]),
            _SENSES[c.sense],
            f"extra{j}",
            c.rhs,
        )
        for j, c in enumerate(case.constraints)
    }
    problem.extend([*issue_rows, *utility_rows, *capacity_rows.values(), *extra_rows.values()])
    return AllocationModel(
        case=case,
        index=index,
        problem=problem,
        variables=[*x, *u],
        x=x,
        u=u,
        issue_rows=issue_rows,
        utility_rows=utility_rows,
        capacity_rows=capacity_rows,
        extra_rows=extra_rows,
    )


def separable_ideals(index: CaseIndex) -> np.ndarray | None:
    """Each party's ideal utility when issues do not interact, or ``None`` if the per-issue
    bounds cannot all hold.

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


def add_policy_constraints(model: AllocationModel, policy: Policy) -> list[pulp.LpConstraint]:
    """Add the proportionality rows asked for by ``policy`` to the model (before a session
    is opened on it); they are also recorded in ``policy_rows``.

    Individual rationality is a bound on the utility columns (set by the engine) and
    envy-freeness rows are added lazily by the rules, as violated pairs appear.
    """
    rows: list[pulp.LpConstraint] = []
    if policy.proportional:
        index = model.index
        resource = index.sign > 0
        total_weight = float(index.weight.sum())
        for p, ks in enumerate(index.interests_of_party):
            own = [k for k in ks if resource[k] and index.value[k] > 0]
            if not own:
                continue
            fair = index.weight[p] / total_weight * float(index.value[own].sum())
            release = model.new_variable(f"proportional_release{p}", 0.0, 0.0)
            model.policy_release.append(release)
            row = pulp.LpConstraint(
                pulp.LpAffineExpression(
                    [*((model.x[k], float(index.value[k])) for k in own), (release, 1.0)]
                ),
                pulp.LpConstraintGE,
                f"proportional{p}",
                fair,
            )
            model.policy_rows[f"proportional:{index.parties[p]}"] = row
            rows.append(row)
    model.problem.extend(rows)
    return rows


def add_envy_row(
    model: AllocationModel, s: int, t: int, *, slack: float = 0.0
) -> pulp.LpConstraint:
    """Add the row "``s`` does not envy ``t``'s resources" with its release column.

    ``v_s(x_s) ≥ (w_s / w_t) · v_s(x_t) − slack · v_s(all resources)`` (weighted
    envy-freeness); the release column (held at 0, appended to ``policy_release``) switches
    the row off, or, given a cost, lets it give way. Recorded in ``envy_rows``; the caller
    adds the row and the column to its session.
    """
    index = model.index
    own = [k for k in index.interests_of_party[s] if index.sign[k] > 0]
    value_of = {int(index.pair_issue[k]): float(index.value[k]) for k in own}
    ratio = float(index.weight[s] / index.weight[t])
    release = model.new_variable(f"envy_release{s}_{t}", 0.0, 0.0)
    model.policy_release.append(release)
    terms = [(model.x[k], float(index.value[k])) for k in own]
    terms += [
        (model.x[k], -ratio * value_of[int(index.pair_issue[k])])
        for k in index.interests_of_party[t]
        if index.sign[k] > 0 and int(index.pair_issue[k]) in value_of
    ]
    row = pulp.LpConstraint(
        pulp.LpAffineExpression([*terms, (release, 1.0)]),
        pulp.LpConstraintGE,
        f"envy{s}_{t}",
        -slack * float(index.resource_stake[s]),
    )
    model.envy_rows[s, t] = row
    return row
