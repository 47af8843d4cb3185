"""The allocation model: share variables, utilities and a case's hard constraints, in PuLP.

For every interest (party s, issue i) a share variable ``x`` in [min_share, max_share]
(binary when the issue is indivisible); every issue's shares sum to 1; each party's utility
``u_s = Σ value·x over resources − Σ value·x over risks`` is a free variable defined by an
equality row; worst-case risk exposure ``Σ amount·x`` stays within ``risk_capacity``; the
case's extra constraints are rows. Rules add their own columns and rows on top. This module
only formulates: solving is a backend's job (:mod:`mediation.backends`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import pulp

from ..case import Case, Policy
from ..numeric import CaseIndex, index_case

__all__ = [
    "AllocationModel",
    "Column",
    "Expression",
    "Levels",
    "Row",
    "add_envy_row",
    "add_policy_constraints",
    "build_model",
]

_SENSES = {"<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "==": pulp.LpConstraintEQ}

#: The model's handles, for code that must not build PuLP objects itself (rules, the
#: diagnosis, the pipeline): a column, a linear expression, a row.
Column: TypeAlias = pulp.LpVariable
Expression: TypeAlias = pulp.LpAffineExpression
Row: TypeAlias = pulp.LpConstraint
Sense = Literal["<=", ">=", "=="]


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
        """Whether some issue is indivisible, which makes the model a MIP."""
        return not bool(np.all(self.index.divisible))

    def new_variable(
        self, name: str, low: float | None = None, up: float | None = None
    ) -> pulp.LpVariable:
        """Return a continuous column registered in :attr:`variables`.

        Add it to a session yourself.
        """
        v = self.problem.add_variable(name, low, up)
        self.variables.append(v)
        return v

    def add_rows(self, rows: Iterable[Row]) -> None:
        """Add rows to the model itself, before a session is opened on it."""
        self.problem.extend(list(rows))

    @staticmethod
    def let_grow(column: Column) -> None:
        """Lift a column's upper bound: a release held at 0 becomes an elastic column."""
        column.upBound = None

    def free_share(self, k: int, kind: str) -> None:
        """Take interest ``k``'s floor (``kind="floor"``) or cap off its column.

        The column keeps only the share's own range on that side (0 or 1), so that a row can
        state the bound instead and let it give way.
        """
        if kind == "floor":
            self.x[k].lowBound = 0.0
        else:
            self.x[k].upBound = 1.0

    def utility_expression(self, weights: np.ndarray) -> Expression:
        """``Σ weights[s] · u_s`` over parties with a nonzero weight."""
        return pulp.LpAffineExpression([(self.u[p], float(w)) for p, w in enumerate(weights) if w])

    @staticmethod
    def expression(terms: Iterable[tuple[Column, float]], constant: float = 0.0) -> Expression:
        """``Σ coefficient · column + constant``: an objective, or the left side of a row."""
        return pulp.LpAffineExpression([(v, float(a)) for v, a in terms], constant=float(constant))

    @staticmethod
    def row(
        lhs: Iterable[tuple[Column, float]] | Expression,
        sense: Sense,
        rhs: float,
        name: str | None = None,
    ) -> Row:
        """Return the row ``lhs sense rhs`` (not yet in the model: add it through the session)."""
        expression = (
            lhs if isinstance(lhs, pulp.LpAffineExpression) else (AllocationModel.expression(lhs))
        )
        return pulp.LpConstraint(expression, _SENSES[sense], name, float(rhs))

    @staticmethod
    def add_term(row: Row, column: Column, coefficient: float) -> None:
        """Add ``coefficient · column`` to a row not yet loaded into a session."""
        row.expr.addterm(column, float(coefficient))

    def level_rows(self, parties: Iterable[int], unit: np.ndarray) -> Levels:
        """Return the level ``t`` and one row per party ``p``.

        The row is ``(u_p − d_p) · unit_p − t + r_p ≥ 0``. ``r_p`` is a release column held
        at 0 while party ``p`` takes part in the level; freeing it (upper bound ∞) takes ``p``
        out without touching the row, so that all of leximin's edits are bound changes and
        HiGHS re-solves warm from the last basis.
        The caller adds the rows and :attr:`Levels.columns` to its session.
        """
        t = self.new_variable("t")
        release: dict[int, Column] = {}
        rows: dict[int, Row] = {}
        for p in parties:
            r = self.new_variable(f"r{p}", 0.0, 0.0)
            scale = float(unit[p])
            rows[p] = self.row(
                [(self.u[p], scale), (t, -1.0), (r, 1.0)],
                ">=",
                float(self.index.disagreement[p]) * scale,
                f"level{p}",
            )
            release[p] = r
        return Levels(t=t, release=release, rows=rows)


@dataclass
class Levels:
    """The columns and rows of a level (maximin, leximin, Kalai–Smorodinsky).

    See :meth:`AllocationModel.level_rows`.
    """

    t: Column
    release: dict[int, Column]
    rows: dict[int, Row]

    @property
    def columns(self) -> list[Column]:
        """The new columns: ``t`` and the release columns."""
        return [self.t, *self.release.values()]


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


def add_policy_constraints(model: AllocationModel, policy: Policy) -> list[pulp.LpConstraint]:
    """Add the proportionality rows asked for by ``policy`` to the model.

    Call it before a session is opened on the model; the rows are also recorded in
    ``policy_rows``.

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
