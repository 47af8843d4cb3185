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

from ..backends import ModelArrays, model_arrays
from ..case import Case, Policy, Term
from ..numeric import CaseIndex, index_case

__all__ = [
    "AllocationModel",
    "Column",
    "Expression",
    "Levels",
    "ModelTemplate",
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
    #: Rows of the levers (format 1.1): ``size{q}`` (a funded issue's size within its
    #: amount), ``choice{c}`` (one option), ``cost{c}`` (a funded choice's cost met),
    #: ``units{k}`` (a share in whole units).
    lever_rows: dict[str, pulp.LpConstraint] = field(default_factory=dict)

    @property
    def integer(self) -> bool:
        """Whether some issue is indivisible, or a lever integer, which makes the model a MIP."""
        return not bool(np.all(self.index.divisible)) or bool(self.index.levers.integer.any())

    @property
    def payment_columns(self) -> dict[str, Column]:
        """Each payment's column (amount ÷ its most), by payment id."""
        return self._levers_of("payment")

    @property
    def contribution_columns(self) -> dict[str, Column]:
        """Each contribution's column (amount ÷ its most), by contribution id."""
        return self._levers_of("contribution")

    def _levers_of(self, kind: str) -> dict[str, Column]:
        levers, n = self.index.levers, self.index.n
        return {
            i: self.x[n + j]
            for j, (k, i) in enumerate(zip(levers.kind, levers.ident, strict=True))
            if k == kind
        }

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
    levers = index.levers
    lever_x = [
        add(
            f"{kind[0]}{j}",
            float(lo),
            float(hi),
            pulp.LpInteger if whole else pulp.LpContinuous,
        )
        for j, (kind, lo, hi, whole) in enumerate(
            zip(levers.kind, levers.lower, levers.upper, levers.integer, strict=True)
        )
    ]
    x += lever_x
    u = [add(f"u{p}") for p in range(len(index.parties))]
    affine, constraint = pulp.LpAffineExpression, pulp.LpConstraint
    issue_rows = [
        constraint(affine([(x[k], 1.0) for k in ks]), pulp.LpConstraintEQ, f"issue{q}", 1.0)
        for q, ks in enumerate(index.interests_of_issue)
    ]
    lever_rows: dict[str, pulp.LpConstraint] = {}
    for q, columns in levers.funding.items():
        # a funded issue: the shares (of its largest size) add up to its size ÷ that size
        amount = float(index.amount[q])
        row = issue_rows[q]
        for j in columns.tolist():
            row.expr.addterm(lever_x[j], -float(levers.scale[j]) / amount)
        row.constant = 0.0
        lever_rows[f"size{q}"] = constraint(
            affine([(lever_x[j], float(levers.scale[j]) / amount) for j in columns.tolist()]),
            pulp.LpConstraintLE,
            f"size{q}",
            1.0,
        )
    for c, columns in enumerate(levers.choice_columns):
        lever_rows[f"choice{c}"] = constraint(
            affine([(lever_x[j], 1.0) for j in columns.tolist()]),
            pulp.LpConstraintEQ,
            f"choice{c}",
            1.0,
        )
    for c, columns in levers.choice_funding.items():
        # a funded choice: the contributions meet the chosen option's cost exactly
        costs = [o.cost for o in case.choices[c].options]
        top = max([*costs, *(float(levers.scale[j]) for j in columns.tolist())]) or 1.0
        terms = [(lever_x[j], float(levers.scale[j]) / top) for j in columns.tolist()]
        terms += [
            (lever_x[j], -cost / top)
            for j, cost in zip(levers.choice_columns[c].tolist(), costs, strict=True)
            if cost
        ]
        lever_rows[f"cost{c}"] = constraint(affine(terms), pulp.LpConstraintEQ, f"cost{c}", 0.0)
    for k, j, units in levers.counts:
        # whole units: the share is the count of units ÷ the issue's units
        lever_rows[f"units{k}"] = constraint(
            affine([(x[k], 1.0), (lever_x[j], -1.0 / units)]),
            pulp.LpConstraintEQ,
            f"units{k}",
            0.0,
        )
    coef = index.sign * index.value
    lever_terms: list[list[tuple[pulp.LpVariable, float]]] = [[] for _ in index.parties]
    for p, j, a in zip(
        levers.party.tolist(), levers.column.tolist(), levers.coef.tolist(), strict=True
    ):
        lever_terms[p].append((lever_x[j], -a))
    utility_rows = [
        constraint(
            affine([(u[p], 1.0), *((x[k], -float(coef[k])) for k in ks), *lever_terms[p]]),
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
            affine([term_column(index, x, t) for t in c.terms]),
            _SENSES[c.sense],
            f"extra{j}",
            c.rhs,
        )
        for j, c in enumerate(case.constraints)
    }
    problem.extend(
        [
            *issue_rows,
            *utility_rows,
            *capacity_rows.values(),
            *extra_rows.values(),
            *lever_rows.values(),
        ]
    )
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
        lever_rows=lever_rows,
    )


def term_column(index: CaseIndex, x: list[pulp.LpVariable], term: Term) -> tuple[Column, float]:
    """Return the column a constraint's term names and its coefficient on that column.

    A payment's or contribution's term counts money, so its coefficient on the column (the
    amount ÷ its most) is ``coef × max``.
    """
    kind, *ident = term.column
    if kind == "share":
        return x[index.pair_of[ident[0], ident[1]]], float(term.coef)
    j = index.levers.position[kind, ident[0]]
    return x[index.n + j], float(term.coef * index.levers.scale[j])


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
        total_weight = float(index.weight[index.compared].sum())  # funds, observers: no due
        for p, ks in enumerate(index.interests_of_party):
            own = [k for k in ks if resource[k] and index.value[k] > 0]
            if not own or not index.compared[p]:
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


#: What makes two cases share one model: their parties, issues, interests, constraints'
#: terms and policy, everything but the numbers (see :meth:`ModelTemplate.structure`).
Structure: TypeAlias = tuple[object, ...]


class ModelTemplate:
    """The model of a case built once, and the numbers of any case of the same structure.

    A sweep settles many cases that differ only in their numbers (values, amounts,
    probabilities, capacities, weights, no-deal points, share bounds, constraint coefficients
    and right-hand sides): their models have the same columns and rows. The template builds
    the PuLP model of the first case once. For each case of that structure,
    :meth:`instance` gives a model whose columns and rows are the template's own PuLP
    objects, used as handles by the rules and the session (their numbers are not read), with
    a fresh problem for the columns and rows a rule adds, and the case's numbers as
    :class:`~mediation.backends.ModelArrays`: what :func:`build_model` and
    :func:`add_policy_constraints` state for that case, bit for bit (the template checks
    this on its own case when built; :attr:`usable` says whether it held).

    Parameters
    ----------
    case
        The case whose structure the template takes.
    policy
        The policy applied (its proportionality adds rows).

    Examples
    --------
    >>> from mediation.case import load_case
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues: [{id: g, name: G, kind: resource, amount: 10}]
    ... interests: [{stakeholder: a, issue: g, value: 3}, {stakeholder: b, issue: g, value: 1}]
    ... ''')
    >>> template = ModelTemplate(case, case.policy)
    >>> template.usable
    True
    >>> model, arrays = template.instance(case, index_case(case))
    >>> model.x is template.x, arrays.values.tolist()
    (True, [1.0, 1.0, 1.0, -3.0, 1.0, -1.0])
    """

    def __init__(self, case: Case, policy: Policy) -> None:
        index = index_case(case)
        base = build_model(case, index)
        add_policy_constraints(base, policy)
        self.key = self.structure(case, policy)
        self._base = base
        #: The shared columns of every instance (shares, utilities, policy releases).
        self.x, self.u = base.x, base.u
        #: The rows, in the order of the arrays.
        self.rows: list[Row] = base.problem.constraints()
        n_x, n_parties = len(base.x), len(base.u)
        n_cols = len(base.variables)
        self._n_x = n_x
        self._n_cols = n_cols
        whole = ~index.divisible[index.pair_issue]
        self._integer = np.concatenate([whole, np.zeros(n_cols - n_x, dtype=bool)])
        # the terms every row can have, in the order PuLP states them; per term, where its
        # coefficient comes from: a fixed number, an interest (utility, exposure, value)
        # or a constraint's term
        rows: list[int] = []
        cols: list[int] = []
        r = 0
        for ks in index.interests_of_issue:
            rows += [r] * len(ks)
            cols += ks.tolist()
            r += 1
        self._issue_terms = len(rows)
        utility_src: list[int] = []
        for p, ks in enumerate(index.interests_of_party):
            rows += [r] * (1 + len(ks))
            cols += [n_x + p, *ks.tolist()]
            utility_src += [-1, *ks.tolist()]
            r += 1
        self._utility_src = np.array(utility_src, dtype=np.int64)
        risky_of = {
            p: [k for k in ks.tolist() if index.is_risk[index.pair_issue[k]]]
            for p, ks in enumerate(index.interests_of_party)
        }
        self._capacity_parties = list(base.capacity_rows)
        capacity_src: list[int] = []
        for p in self._capacity_parties:
            rows += [r] * len(risky_of[p])
            cols += risky_of[p]
            capacity_src += risky_of[p]
            r += 1
        self._capacity_src = np.array(capacity_src, dtype=np.int64)
        # an extra row holds one coefficient per share: a share named twice keeps its first
        # place and its last coefficient, as a PuLP expression built from pairs does
        self._extra_src: list[list[tuple[int, int]]] = []
        for j, c in enumerate(case.constraints):
            place: dict[int, int] = {}
            last: dict[int, int] = {}
            for i, t in enumerate(c.terms):
                if t.stakeholder is None or t.issue is None:
                    continue  # a lever's term: such a case is settled on its own
                k = index.pair_of[t.stakeholder, t.issue]
                place.setdefault(k, len(place))
                last[k] = i
            order = sorted(place, key=place.__getitem__)
            rows += [r] * len(order)
            cols += order
            self._extra_src.append([(j, last[k]) for k in order])
            r += 1
        self._senses = [c.sense for c in case.constraints]
        release_col = {id(v): n_x + n_parties + m for m, v in enumerate(base.policy_release)}
        self._proportional: list[tuple[int, list[int]]] = []
        for name, row in base.policy_rows.items():
            p = index.party_of[name.partition(":")[2]]
            own = [k for k in index.interests_of_party[p].tolist() if index.sign[k] > 0]
            own = [k for k in own if index.value[k] > 0]
            release = next(v for v in row.expr if id(v) in release_col)
            self._proportional.append((p, own))
            rows += [r] * (len(own) + 1)
            cols += [*own, release_col[id(release)]]
            r += 1
        self._term_row = np.array(rows, dtype=np.int64)
        self._term_col = np.array(cols, dtype=np.int32)
        self._n_rows = r
        # a case with levers (payments, contributions, choices, whole units) or funded issues
        # is settled on its own: the template states shares, utilities and rows of 1.0 only
        self.usable = (
            not len(index.levers)
            and not index.funded.any()
            and len(self.rows) == r
            and self.arrays(case, index).same_as(model_arrays(base.variables, self.rows))
        )

    @staticmethod
    def structure(case: Case, policy: Policy) -> Structure:
        """Return what two cases must share to share a template.

        That is the parties and the issues (ids, kinds, divisibility), the interests
        (which party in which issue, in order), which parties set a risk capacity, the
        extra constraints (names, senses and terms) and the policy; with proportionality
        also which resource values are positive (they make the proportionality rows).
        """
        positive: tuple[bool, ...] = ()
        if policy.proportional:
            positive = tuple(x.value > 0 for x in case.interests)
        return (
            tuple(s.id for s in case.stakeholders),
            tuple(s.risk_capacity is None for s in case.stakeholders),
            tuple((i.id, i.kind, i.divisible) for i in case.issues),
            tuple((x.stakeholder, x.issue) for x in case.interests),
            tuple((c.name, c.sense, tuple(t.column for t in c.terms)) for c in case.constraints),
            positive,
            policy,
        )

    def instance(self, case: Case, index: CaseIndex) -> tuple[AllocationModel, ModelArrays]:
        """Return the model of ``case`` (of the template's structure) and its numbers.

        The model's problem is new and empty: the columns and rows a rule adds go there.
        """
        base = self._base
        model = AllocationModel(
            case=case,
            index=index,
            problem=pulp.LpProblem(base.problem.name, pulp.LpMaximize),
            variables=list(base.variables),
            x=base.x,
            u=base.u,
            issue_rows=base.issue_rows,
            utility_rows=base.utility_rows,
            capacity_rows=base.capacity_rows,
            extra_rows=base.extra_rows,
            policy_rows=base.policy_rows,
            policy_release=list(base.policy_release),
        )
        return model, self.arrays(case, index)

    def arrays(self, case: Case, index: CaseIndex) -> ModelArrays:
        """Return the numbers of ``case``'s model, as the backends load them."""
        coef = index.sign * index.value
        utility = np.where(self._utility_src >= 0, -coef[self._utility_src], 1.0)
        exposure = index.amount[index.pair_issue][self._capacity_src]
        terms = [
            np.ones(self._issue_terms),
            utility,
            exposure,
            np.array(
                [case.constraints[j].terms[i].coef for src in self._extra_src for j, i in src],
                dtype=float,
            ),
        ]
        n_parties = len(index.parties)
        row_lower = np.empty(self._n_rows)
        row_upper = np.empty(self._n_rows)
        q = len(index.issues)
        # PuLP keeps a row's bound as the negated constant 0.0 − rhs: a right-hand side of 0
        # reads back as −0.0
        row_lower[:q] = row_upper[:q] = -(0.0 - 1.0)
        row_lower[q : q + n_parties] = row_upper[q : q + n_parties] = -(0.0 - 0.0)
        r = q + n_parties
        for p in self._capacity_parties:
            row_lower[r], row_upper[r] = -np.inf, -(0.0 - float(index.capacity[p]))
            r += 1
        for c, sense in zip(case.constraints, self._senses, strict=True):
            bound = -(0.0 - c.rhs)
            row_lower[r] = bound if sense in (">=", "==") else -np.inf
            row_upper[r] = bound if sense in ("<=", "==") else np.inf
            r += 1
        if self._proportional:
            total_weight = float(index.weight.sum())
            values: list[float] = []
            for p, own in self._proportional:
                fair = index.weight[p] / total_weight * float(index.value[own].sum())
                row_lower[r], row_upper[r] = -(0.0 - fair), np.inf
                values += [*index.value[own].tolist(), 1.0]
                r += 1
            terms.append(np.array(values, dtype=float))
        full = np.concatenate(terms)
        kept = full != 0.0
        counts = np.bincount(self._term_row[kept], minlength=self._n_rows)
        starts = np.zeros(self._n_rows + 1, dtype=np.int32)
        np.cumsum(counts, out=starts[1:])
        n_other = self._n_cols - self._n_x
        col_lower = np.concatenate([index.lower, np.full(n_parties, -np.inf)])
        col_upper = np.concatenate([index.upper, np.full(n_parties, np.inf)])
        released = n_other - n_parties
        if released:
            col_lower = np.concatenate([col_lower, np.zeros(released)])
            col_upper = np.concatenate([col_upper, np.zeros(released)])
        return ModelArrays(
            col_lower=col_lower,
            col_upper=col_upper,
            integer=self._integer,
            row_lower=row_lower,
            row_upper=row_upper,
            starts=starts,
            indices=self._term_col[kept],
            values=full[kept],
        )
