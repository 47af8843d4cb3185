"""One split for many scenarios: a scenario-based robust LP, its scenario rows added lazily.

A planner's scenarios are variants of one base case that differ only in their numbers
(values, amounts, probabilities, capacities, disagreement points, weights, share bounds,
the extra constraints' coefficients and bounds). :func:`robust_split` finds one allocation
``x`` that

* meets every scenario's hard constraints: ``x`` within the tightest share bounds any
  scenario sets, every issue's shares summing to 1, every party's worst-case exposure
  ``Σ amount·x`` within its risk capacity and every extra constraint holding, in each
  scenario; and
* is best in the worst case: it maximises ``t``, the least over scenarios ``s`` and compared
  parties ``p`` of ``(u_p^s(x) − d_p^s) / (ρ_p · w_p^s)``, then, holding ``t``, the
  entitlement-weighted sum of gains ``Σ_p (w_p^s / ρ_p)(u_p^s(x) − d_p^s)`` averaged over
  the scenarios: the maximin rule of :mod:`mediation.rules.maximin` taken over the
  scenarios. With one scenario equal to the base case the split is the maximin settlement.

``ρ_p`` is the party's unit of comparison in the **base case**, as the maximin rule would
compare gains there on the base case's scale (its range ``ideal − disagreement`` under the
normalized scale, 1 under raw; a party with no room to gain is left out of the worst case,
as the rule leaves it out of its levels). One unit for all the scenarios keeps the problem
an LP and measures every scenario's gain against the same yardstick: a scenario in which a
party's no-deal outcome rises shows as a lower gain, not as a rescaled one. When the base
case has no allocation of its own (its red lines conflict), each party's own scale
``max(stake, |d|)`` is used. Individual rationality is not imposed: the worst case says how
far below its no-deal outcome a party falls in its worst scenario (a negative gain), and it
is at least 0 whenever some split keeps every party at its no-deal outcome in every
scenario. Probabilities do not enter the split (utilities are stated by values, exposure by
amounts); the base case's policy options of proportionality and envy-freeness are not
imposed either.

With many scenarios (100,000 and more) the LP starts from the first scenario's rows; each
round evaluates every scenario's rows at the current split with numpy, adds for each party
the scenario with its worst gain, for each capacity the most exceeded one and for each
extra constraint the most violated one, and re-solves warm (Kelley's cutting planes, or
constraint generation, for a scenario program): the rows that decide the split are usually
few. When the rows added cannot all hold, a deletion filter over them (and the share bounds)
names the scenarios and constraints in conflict.

References
----------
Calafiore, G. & Campi, M. C. (2005). Uncertain convex programs: randomized solutions and
confidence levels. *Mathematical Programming* 102(1), 25–46. DOI 10.1007/s10107-003-0499-y.
Kelley, J. E. (1960). The cutting-plane method for solving convex programs. *Journal of
the SIAM* 8(4), 703–712. DOI 10.1137/0108053.
Chinneck, J. W. & Dravnieks, E. W. (1991). Locating minimal infeasible constraint sets in
linear programs. *ORSA Journal on Computing* 3(2), 157–168. DOI 10.1287/ijoc.3.2.157.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..backends import Backend, Session, SolverOptions, Status, resolve_backend
from ..case import Case
from ..case.format11 import levered_problems
from ..errors import CaseError, PolicyError, Problem, SolverError
from ..fairness import own_scale
from ..numeric import CaseIndex, index_case
from ..robustness import (
    BindingRow,
    ConflictRow,
    Infeasibility,
    RobustSplit,
    WorstCase,
)
from ..rules import get_rule
from .assemble import tidy
from .model import AllocationModel, Column, Row, build_model
from .prepare import Unreachable, comparison, prepare
from .refine import clean_shares
from .timing import Timings

__all__ = [
    "HOLD",
    "MAX_BINDING",
    "ROW_TOLERANCE",
    "TIGHT",
    "RobustSplit",
    "robust_split",
]

logger = logging.getLogger(__name__)

#: A scenario row is violated, and added, when the split misses it by more than this
#: fraction of the row's scale (a gain row: the party's own scale; a capacity: the capacity
#: or the exposure at stake; a constraint: the larger of its bound and its coefficients).
ROW_TOLERANCE = 1e-8
#: A row holding within this fraction of its scale holds with equality (it binds), and the
#: final split may miss a row by at most this much before it is an error.
TIGHT = 1e-7
#: The worst case found in the first stage is held within this fraction of the smallest
#: compared party's scale while the second stage raises the weighted sum.
HOLD = 1e-9
#: Binding rows listed at most (``binding_total`` counts them all).
MAX_BINDING = 100
#: Problems of the scenarios' structure listed before the rest are left out.
_PROBLEMS_SHOWN = 20

RowKey = tuple[str, int, int]  # (kind, scenario, party or constraint)


@dataclass
class _Data:
    """Every scenario's numbers as arrays: one row per scenario."""

    value: np.ndarray  # S × n
    lower: np.ndarray  # S × n
    upper: np.ndarray  # S × n
    disagreement: np.ndarray  # S × P
    weight: np.ndarray  # S × P
    capacity: np.ndarray  # S × P, inf for none
    amount: np.ndarray  # S × m
    coef: list[np.ndarray]  # per constraint, S × terms
    rhs: np.ndarray  # S × J

    @property
    def count(self) -> int:
        """How many scenarios."""
        return int(self.value.shape[0])


def _shape(case: Case) -> tuple[object, ...]:
    """Return everything of a case but its numbers: what its scenarios must share."""
    return (
        [s.id for s in case.stakeholders],
        [(i.id, i.kind, i.divisible) for i in case.issues],
        [(x.stakeholder, x.issue) for x in case.interests],
        [(c.name, c.sense, [(t.stakeholder, t.issue) for t in c.terms]) for c in case.constraints],
    )


_PARTS = (
    ("stakeholders", "the same parties"),
    ("issues", "the same issues, of the same kinds and divisibility"),
    ("interests", "the same interests, in the same order"),
    ("constraints", "the same extra constraints (names, senses and terms)"),
)


def _read(base: Case, index: CaseIndex, scenarios: Sequence[Case]) -> _Data:
    """Check that every scenario has the base case's structure and read its numbers.

    One pass over the scenarios; a part a scenario shares with the base case (the same list
    object, as a copy that changed other parts leaves it) is not compared again.

    Raises
    ------
    CaseError
        For each scenario that differs in more than numbers (the first 20 are listed).
    """
    shape = _shape(base)
    count, n = len(scenarios), len(index.value)
    n_parties, n_issues = len(index.parties), len(index.issues)
    value, lower, upper = np.empty((count, n)), np.empty((count, n)), np.empty((count, n))
    disagreement, weight = np.empty((count, n_parties)), np.empty((count, n_parties))
    capacity, amount = np.empty((count, n_parties)), np.empty((count, n_issues))
    coef = [np.empty((count, len(c.terms))) for c in base.constraints]
    rhs = np.empty((count, len(base.constraints)))
    problems: list[Problem] = []
    for k, case in enumerate(scenarios):
        if not isinstance(case, Case):
            problems.append(
                Problem(
                    f"scenarios[{k}]",
                    f"expected a validated Case, got {type(case).__name__}",
                    "type",
                )
            )
        else:
            lists = (case.stakeholders, case.issues, case.interests, case.constraints)
            own = (base.stakeholders, base.issues, base.interests, base.constraints)
            found = (
                _shape(case) if any(a is not b for a, b in zip(lists, own, strict=True)) else shape
            )
            problems.extend(
                Problem(
                    f"scenarios[{k}].{part}",
                    f"a scenario must have {what} as the base case '{base.id}'; only numbers "
                    "may differ",
                    "scenario_structure",
                )
                for (part, what), mine, theirs in zip(_PARTS, found, shape, strict=True)
                if mine != theirs
            )
        if problems:
            if len(problems) >= _PROBLEMS_SHOWN:
                break
            continue
        interests = case.interests
        value[k] = [x.value for x in interests]
        lower[k] = [0.0 if x.min_share is None else x.min_share for x in interests]
        upper[k] = [1.0 if x.max_share is None else x.max_share for x in interests]
        parties = case.stakeholders
        disagreement[k] = [s.disagreement for s in parties]
        weight[k] = [s.weight for s in parties]
        capacity[k] = [math.inf if s.risk_capacity is None else s.risk_capacity for s in parties]
        amount[k] = [i.amount for i in case.issues]
        for j, c in enumerate(case.constraints):
            coef[j][k] = [t.coef for t in c.terms]
            rhs[k, j] = c.rhs
    if problems:
        raise CaseError(problems[:_PROBLEMS_SHOWN])
    # an indivisible issue goes whole to one party: its bounds rounded as index_case does
    whole = ~index.divisible[index.pair_issue]
    lower = np.where(whole[None, :], np.ceil(lower), lower)
    upper = np.where(whole[None, :], np.floor(upper), upper)
    return _Data(value, lower, upper, disagreement, weight, capacity, amount, coef, rhs)


@dataclass(frozen=True)
class _Units:
    """The base case's yardstick: each party's ρ, whether it is compared, its own scale."""

    scale: Literal["raw", "normalized"]
    rho: np.ndarray
    compared: np.ndarray
    span: np.ndarray


def _scale(base: Case) -> Literal["raw", "normalized"]:
    """Return the scale the base case's settlement compares gains on."""
    if get_rule(base.policy.rule).compares == "normalized":
        return "normalized"
    return base.policy.scale


def _units(base: Case, index: CaseIndex, backend: Backend, options: SolverOptions) -> _Units:
    """Return how the maximin rule would compare gains in the base case (see the module)."""
    scale = _scale(base)
    policy = base.policy.with_overrides({"rule": "maximin", "scale": scale})
    prepared = prepare(
        base, policy, get_rule("maximin"), options=options, backend=backend, timings=Timings()
    )
    ctx = comparison(prepared) if prepared.ideal is not None else None
    if ctx is None or isinstance(ctx, Unreachable):
        own = own_scale(index.stake, index.disagreement)
        rho = own if scale == "normalized" else np.ones(len(index.parties))
        return _Units(scale, rho, np.ones(len(index.parties), dtype=bool), own)
    return _Units(scale, ctx.rho, np.asarray(ctx.compared, dtype=bool), ctx.span)


class _Rows:
    """Every scenario's rows, evaluated with numpy at a split, and made into LP rows."""

    def __init__(self, case: Case, index: CaseIndex, data: _Data, units: _Units) -> None:
        self.case, self.index, self.data, self.units = case, index, data, units
        n, n_parties = len(index.value), len(index.parties)
        self.incidence = np.zeros((n, n_parties))
        self.incidence[np.arange(n), index.pair_party] = 1.0
        risky = index.is_risk[index.pair_issue]
        self.exposure_coef = data.amount[:, index.pair_issue] * risky  # S × n
        self.capacity_parties = [
            p
            for p in range(n_parties)
            if np.any(risky[index.interests_of_party[p]])
            and np.any(np.isfinite(data.capacity[:, p]))
        ]
        self.terms = [
            np.array(
                [index.pair_of[str(t.stakeholder), str(t.issue)] for t in c.terms], dtype=np.int64
            )
            for c in case.constraints
        ]
        self.compared = np.flatnonzero(units.compared).tolist()
        # each level row's tolerance, in level units: its own scale over ρ·w
        self.level_unit = units.span[None, :] / (units.rho[None, :] * data.weight)

    def gains(self, x: np.ndarray) -> np.ndarray:
        """``u_p^s(x) − d_p^s``, S × P."""
        signed = self.data.value * (self.index.sign * x)[None, :]
        return np.asarray(signed @ self.incidence - self.data.disagreement, dtype=float)

    def levels(self, x: np.ndarray) -> np.ndarray:
        """``(u − d) / (ρ · w)``, S × P."""
        return np.asarray(self.gains(x) / (self.units.rho[None, :] * self.data.weight))

    def exposures(self, x: np.ndarray) -> np.ndarray:
        """Worst-case exposures ``Σ amount · x`` over each party's risks, S × P."""
        return np.asarray((self.exposure_coef * x[None, :]) @ self.incidence, dtype=float)

    def capacity_scale(self) -> np.ndarray:
        """Each capacity row's scale: its capacity, or the exposure at stake, S × P."""
        stake = self.exposure_coef @ self.incidence
        cap = np.where(np.isfinite(self.data.capacity), self.data.capacity, 0.0)
        return np.asarray(np.maximum(np.maximum(cap, stake), 1e-300), dtype=float)

    def constraint_lhs(self, j: int, x: np.ndarray) -> np.ndarray:
        """Return the left-hand side of extra constraint ``j`` in every scenario, S."""
        return np.asarray(self.data.coef[j] @ x[self.terms[j]], dtype=float)

    def constraint_scale(self, j: int) -> np.ndarray:
        """Extra constraint ``j``'s scale in every scenario: max(|rhs|, Σ|coef|), S."""
        top = np.maximum(np.abs(self.data.rhs[:, j]), np.abs(self.data.coef[j]).sum(axis=1))
        return np.asarray(np.maximum(top, 1e-300), dtype=float)

    def constraint_gap(self, j: int, x: np.ndarray) -> np.ndarray:
        """How far each scenario misses constraint ``j``, relative to its scale (≤ 0: met)."""
        lhs, rhs = self.constraint_lhs(j, x), self.data.rhs[:, j]
        sense = self.case.constraints[j].sense
        miss = rhs - lhs if sense == ">=" else lhs - rhs if sense == "<=" else np.abs(lhs - rhs)
        return np.asarray(miss / self.constraint_scale(j), dtype=float)

    def capacity_gap(self, x: np.ndarray) -> np.ndarray:
        """How far each exposure exceeds its capacity, relative to its scale (≤ 0: within)."""
        return np.asarray(
            (self.exposures(x) - self.data.capacity) / self.capacity_scale(), dtype=float
        )

    def violated(self, x: np.ndarray, t: float | None, present: set[RowKey]) -> list[RowKey]:
        """Return, for each party, capacity and constraint, its most violated row not yet added.

        ``t`` is the level the gain rows must reach (``None``: no gain rows).
        """
        found: list[RowKey] = []
        if t is not None and self.compared:
            slack = (t - self.levels(x)) / self.level_unit  # in the party's own scale
            for p in self.compared:
                s = int(np.argmax(slack[:, p]))
                if slack[s, p] > ROW_TOLERANCE and ("gain", s, p) not in present:
                    found.append(("gain", s, p))
        if self.capacity_parties:
            gap = self.capacity_gap(x)
            for p in self.capacity_parties:
                s = int(np.argmax(gap[:, p]))
                if gap[s, p] > ROW_TOLERANCE and ("capacity", s, p) not in present:
                    found.append(("capacity", s, p))
        for j in range(len(self.terms)):
            gap_j = self.constraint_gap(j, x)
            s = int(np.argmax(gap_j))
            if gap_j[s] > ROW_TOLERANCE and ("constraint", s, j) not in present:
                found.append(("constraint", s, j))
        return found

    def row(self, model: AllocationModel, key: RowKey, t: Column | None) -> Row:
        """Return scenario row ``key`` of the LP (a gain row needs the level column ``t``)."""
        kind, s, p = key
        index, data = self.index, self.data
        if kind == "gain":
            assert t is not None
            ks = index.interests_of_party[p].tolist()
            terms = [(model.x[k], float(index.sign[k] * data.value[s, k])) for k in ks]
            unit = float(self.units.rho[p] * data.weight[s, p])
            return model.row(
                [*terms, (t, -unit)], ">=", float(data.disagreement[s, p]), f"gain{s}_{p}"
            )
        if kind == "capacity":
            ks = index.interests_of_party[p].tolist()
            terms = [(model.x[k], float(self.exposure_coef[s, k])) for k in ks]
            terms = [(v, a) for v, a in terms if a]
            return model.row(terms, "<=", float(data.capacity[s, p]), f"capacity{s}_{p}")
        constraint = self.case.constraints[p]
        terms = [
            (model.x[int(k)], float(a)) for k, a in zip(self.terms[p], data.coef[p][s], strict=True)
        ]
        return model.row(terms, constraint.sense, float(data.rhs[s, p]), f"extra{s}_{p}")

    def total(self) -> int:
        """How many scenario rows there are."""
        per = len(self.compared) + len(self.capacity_parties) + len(self.terms)
        return self.data.count * per


def _skeleton(base: Case) -> Case:
    """Return the base case without capacities and extra constraints: the scenarios state them."""
    fields = {name: getattr(base, name) for name in type(base).model_fields}
    fields["constraints"] = []
    fields["stakeholders"] = [
        s.model_copy(update={"risk_capacity": None}) for s in base.stakeholders
    ]
    return Case.model_construct(**fields)


@dataclass
class _Outcome:
    """How a stage's rounds ended."""

    kind: Literal["converged", "stopped", "infeasible", "error"]
    x: np.ndarray | None = None
    t: float | None = None
    message: str | None = None


def _rounds(
    run: _Run,
    model: AllocationModel,
    t_column: Column | None,
    options: SolverOptions,
    *,
    floor: float | None = None,
) -> _Outcome:
    """Solve, add the violated scenario rows, re-solve warm, until none is violated.

    ``floor`` is the level the gain rows must keep in the second stage (the first stage
    checks them against the LP's own level).
    """
    session, present = run.session, run.present
    while True:
        try:
            result = session.solve()
        except SolverError as exc:
            return _Outcome("error", message=str(exc))
        run.counter[0] += 1
        if result.status == Status.INFEASIBLE:
            return _Outcome("infeasible")
        if not result.solved:
            return _Outcome("error", message=f"the solver ended {result.status.value}")
        x = session.values(model.x)
        t = None if t_column is None else session.value(t_column)
        new = run.rows.violated(x, floor if floor is not None else t, set(present))
        if not new:
            stopped = result.status != Status.OPTIMAL
            return _Outcome("stopped" if stopped else "converged", x=x, t=t)
        if options.expired():
            return _Outcome("stopped", x=x, t=t)
        added = [run.rows.row(model, key, t_column) for key in new]
        present.update(zip(new, added, strict=True))
        session.add_constraints(added)


@dataclass
class _Run:
    """What one robust split keeps while it runs, and makes its result from."""

    base: Case
    index: CaseIndex
    rows: _Rows
    present: dict[RowKey, Row]
    session: Session
    counter: list[int]

    def result(
        self,
        status: Literal["optimal", "feasible", "infeasible", "error"],
        *,
        level: float | None = None,
        shares: dict[str, dict[str, float]] | None = None,
        worst: dict[str, WorstCase] | None = None,
        binding: list[BindingRow] | None = None,
        binding_total: int = 0,
        infeasibility: Infeasibility | None = None,
        message: str | None = None,
    ) -> RobustSplit:
        """Return the split as the contract states it."""
        units = self.rows.units
        return RobustSplit(
            case_id=self.base.id,
            status=status,
            scenarios=self.rows.data.count,
            scale=units.scale,
            rho={p: tidy(float(r)) for p, r in zip(self.index.parties, units.rho, strict=True)},
            level=level,
            shares=shares or {},
            worst=worst or {},
            binding=binding or [],
            binding_total=binding_total,
            rows_used=len(self.present),
            rows_total=self.rows.total(),
            rounds=self.counter[0],
            lps=self.session.solves,
            infeasibility=infeasibility,
            message=message,
        )


def robust_split(
    base: Case,
    scenarios: Sequence[Case],
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
) -> RobustSplit:
    """Return one split that meets every scenario's hard constraints, best in the worst case.

    See the module for the problem solved, the unit ``ρ`` taken from the base case, and how
    the scenario rows are added lazily.

    Parameters
    ----------
    base
        The case the scenarios vary: it gives the structure and each party's ``ρ``.
    scenarios
        Variants of ``base`` with the same parties, issues, interests and extra constraints
        (in the same order); only numbers differ. The base case itself is not among them
        unless it is given.
    solver
        The backend's name (``highs``, ``cbc``).
    time_limit
        Seconds for the whole split; when it runs out, the best split found that meets every
        scenario is returned as ``feasible`` (``error`` when none was found yet).

    Returns
    -------
    RobustSplit
        ``optimal`` with the shares, each party's worst case and its scenario, the rows that
        bind and the rows used; ``infeasible`` with the conflicting scenarios' constraints.

    Raises
    ------
    CaseError
        When there is no scenario, or a scenario differs from the base case in more than its
        numbers (the path names the scenario and the part).
    PolicyError
        When the solver is unknown or the time limit is not a positive number.

    Examples
    --------
    Two scenarios of a noise risk: it costs 10 or 30, and each party can bear at most 20.

    >>> from mediation.case import parse_case
    >>> def scenario(amount):
    ...     return parse_case({"id": "noise", "title": "noise",
    ...         "stakeholders": [{"id": "a", "name": "A", "kind": "other", "risk_capacity": 20},
    ...                          {"id": "b", "name": "B", "kind": "other", "risk_capacity": 20}],
    ...         "issues": [{"id": "hall", "name": "Hall", "kind": "resource", "amount": 1},
    ...                    {"id": "noise", "name": "Noise", "kind": "risk", "amount": amount}],
    ...         "interests": [{"stakeholder": "a", "issue": "hall", "value": 2},
    ...                       {"stakeholder": "b", "issue": "hall", "value": 2},
    ...                       {"stakeholder": "a", "issue": "noise", "value": 1},
    ...                       {"stakeholder": "b", "issue": "noise", "value": 1}]})
    >>> split = robust_split(scenario(10), [scenario(10), scenario(30)])
    >>> split.status, split.level, split.rows_used, split.rows_total
    ('optimal', 0.5, 5, 8)
    >>> all(30 * share <= 20 + 1e-9 for share in split.shares["noise"].values())
    True
    """
    started = time.perf_counter()
    levered = levered_problems(base, "the robust split")
    if levered:
        raise PolicyError(levered)
    if not scenarios:
        raise CaseError([Problem("scenarios", "no scenario given; give at least one", "missing")])
    backend = resolve_backend(solver)
    options = SolverOptions(
        solver=backend.name, time_limit=time_limit, deadline=started + time_limit
    )
    index = index_case(base)
    data = _read(base, index, scenarios)
    try:
        return _split(base, index, data, backend, options)
    except SolverError as exc:  # the ideal points, or loading a model, failed
        logger.warning("robust split of %s failed: %s", base.id, exc)
        return RobustSplit(
            case_id=base.id,
            status="error",
            scenarios=data.count,
            scale=_scale(base),
            rho={},
            level=None,
            shares={},
            worst={},
            binding=[],
            binding_total=0,
            rows_used=0,
            rows_total=0,
            rounds=0,
            lps=0,
            message=str(exc),
        )


def _split(
    base: Case, index: CaseIndex, data: _Data, backend: Backend, options: SolverOptions
) -> RobustSplit:
    """Solve the robust LP in its two stages (see :func:`robust_split`)."""
    units = _units(base, index, backend, options)
    rows = _Rows(base, index, data, units)
    lower, upper = data.lower.max(axis=0), data.upper.min(axis=0)
    skeleton = _skeleton(base)
    model = build_model(skeleton, index_case(skeleton), name="robust")
    t_column = model.new_variable("t") if rows.compared else None
    present: dict[RowKey, Row] = {}
    first: list[RowKey] = [("gain", 0, p) for p in rows.compared]
    first += [("capacity", 0, p) for p in rows.capacity_parties]
    first += [("constraint", 0, j) for j in range(len(rows.terms))]
    initial = [rows.row(model, key, t_column) for key in first]
    present.update(zip(first, initial, strict=True))
    model.add_rows(initial)
    session = backend.open(model.problem, model.variables, options)
    run = _Run(base, index, rows, present, session, [0])
    if bool(np.any(lower > upper)):  # a scenario's floor above another's cap
        return run.result(
            "infeasible",
            infeasibility=_conflict(skeleton, rows, present, lower, upper, backend, options),
        )
    session.set_bounds(model.x, lower, upper)
    level: float | None = None
    if t_column is not None:
        session.set_objective(model.expression([(t_column, 1.0)]), maximize=True)
        outcome = _rounds(run, model, t_column, options)
    else:
        outcome = _Outcome("converged", x=None)
    first_rounds = run.counter[0]
    if outcome.kind == "infeasible":
        return run.result(
            "infeasible",
            infeasibility=_conflict(skeleton, rows, present, lower, upper, backend, options),
        )
    if outcome.kind == "error":
        return run.result("error", message=outcome.message)
    best = outcome.x
    stopped = outcome.kind == "stopped"
    if not stopped:
        if t_column is not None and outcome.t is not None:
            slack = HOLD * float(np.min(rows.level_unit[:, rows.compared]))
            level = outcome.t - slack
            session.set_bounds([t_column], [level], [math.inf])
        # the entitlement-weighted sum of gains, averaged over the scenarios
        weight = data.weight[:, index.pair_party] / units.rho[index.pair_party][None, :]
        coef = np.mean(data.value * weight * index.sign[None, :], axis=0)
        session.set_objective(
            model.expression((model.x[k], float(c)) for k, c in enumerate(coef) if c),
            maximize=True,
        )
        second = _rounds(run, model, t_column, options, floor=level)
        if second.kind == "converged":
            best = second.x
        else:  # the first stage's split stands unless the second's meets every scenario
            stopped = True
            if second.x is not None and _sound(rows, second.x, level):
                best = second.x
    logger.debug(
        "robust split of %s: %d scenarios, %d rows of %d, %d + %d rounds",
        base.id,
        data.count,
        len(present),
        rows.total(),
        first_rounds,
        run.counter[0] - first_rounds,
    )
    if best is None:
        return run.result("error", message="no split was found")
    clean = dataclasses.replace(index, lower=lower, upper=upper)
    x = clean_shares(clean, np.clip(best, lower, upper))
    if not _sound(rows, x, None):
        message = (
            "the time limit ran out before a split meeting every scenario was found; raise it"
            if stopped
            else "the solver's split misses a scenario's constraint beyond its tolerance"
        )
        return run.result("error", message=message)
    return _report(run, x, lower, upper, stopped=stopped)


def _sound(rows: _Rows, x: np.ndarray, level: float | None) -> bool:
    """Whether ``x`` meets every scenario's hard rows (and keeps ``level``) within TIGHT."""
    if rows.capacity_parties and np.any(rows.capacity_gap(x)[:, rows.capacity_parties] > TIGHT):
        return False
    if any(np.any(rows.constraint_gap(j, x) > TIGHT) for j in range(len(rows.terms))):
        return False
    if level is not None and rows.compared:
        slack = (level - rows.levels(x)) / rows.level_unit
        if np.any(slack[:, rows.compared] > TIGHT):
            return False
    return True


def _report(
    run: _Run, x: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, stopped: bool
) -> RobustSplit:
    """Return the split with its worst cases and binding rows, evaluated over every scenario."""
    base, index, rows, present = run.base, run.index, run.rows, run.present
    data, units = rows.data, rows.units
    gains = rows.gains(x)
    levels = gains / (units.rho[None, :] * data.weight)
    compared = rows.compared
    level = float(np.min(levels[:, compared])) if compared else None
    worst: dict[str, WorstCase] = {}
    for p, pid in enumerate(index.parties):
        normalized = gains[:, p] / units.rho[p]
        s = int(np.argmin(normalized))
        worst[pid] = WorstCase(
            normalized_gain=tidy(float(normalized[s])),
            gain=tidy(float(gains[s, p])),
            scenario=s,
            compared=bool(units.compared[p]),
        )
    tight_gain = np.zeros_like(levels, dtype=bool)
    if level is not None:
        tight_gain[:, compared] = (levels[:, compared] - level) / rows.level_unit[
            :, compared
        ] <= TIGHT
    tight_capacity = np.zeros_like(levels, dtype=bool)
    if rows.capacity_parties:
        gap = rows.capacity_gap(x)
        tight_capacity[:, rows.capacity_parties] = gap[:, rows.capacity_parties] >= -TIGHT
    tight_constraint = [np.abs(rows.constraint_gap(j, x)) <= TIGHT for j in range(len(rows.terms))]
    if rows.terms:
        for j, c in enumerate(base.constraints):
            if c.sense != "==":
                tight_constraint[j] = rows.constraint_gap(j, x) >= -TIGHT
    total = int(
        tight_gain.sum() + tight_capacity.sum() + sum(int(t.sum()) for t in tight_constraint)
    )
    binding: list[BindingRow] = []
    for kind, s, p in sorted(present, key=lambda key: (key[1], key[0], key[2])):
        if kind == "gain" and tight_gain[s, p]:
            binding.append(BindingRow(scenario=s, kind="worst_gain", stakeholder=index.parties[p]))
        elif kind == "capacity" and tight_capacity[s, p]:
            binding.append(BindingRow(scenario=s, kind="capacity", stakeholder=index.parties[p]))
        elif kind == "constraint" and tight_constraint[p][s]:
            binding.append(
                BindingRow(scenario=s, kind="constraint", constraint=base.constraints[p].name)
            )
    for k in range(len(x)):
        pid, iid = index.parties[int(index.pair_party[k])], index.issues[int(index.pair_issue[k])]
        if lower[k] > 0 and x[k] <= lower[k] + 1e-12:
            s = int(np.argmax(data.lower[:, k]))
            binding.append(BindingRow(scenario=s, kind="floor", stakeholder=pid, issue=iid))
            total += int(np.sum(data.lower[:, k] == lower[k]))
        if upper[k] < 1 and x[k] >= upper[k] - 1e-12:
            s = int(np.argmin(data.upper[:, k]))
            binding.append(BindingRow(scenario=s, kind="cap", stakeholder=pid, issue=iid))
            total += int(np.sum(data.upper[:, k] == upper[k]))
    binding.sort(key=lambda r: r.scenario)
    shares: dict[str, dict[str, float]] = {i: {} for i in index.issues}
    for k in range(len(x)):
        shares[index.issues[int(index.pair_issue[k])]][index.parties[int(index.pair_party[k])]] = (
            tidy(float(x[k]))
        )
    return run.result(
        "feasible" if stopped else "optimal",
        level=None if level is None else tidy(level),
        shares=shares,
        worst=worst,
        binding=binding[:MAX_BINDING],
        binding_total=total,
    )


def _crossed(
    candidates: Sequence[tuple[ConflictRow, list[Column] | int]],
    active: Sequence[bool],
    lower: np.ndarray,
    upper: np.ndarray,
) -> bool:
    """Whether an active floor is above an active cap on the same share."""
    floors = {
        h
        for (m, h), on in zip(candidates, active, strict=True)
        if on and isinstance(h, int) and m.kind == "floor"
    }
    caps = {
        h
        for (m, h), on in zip(candidates, active, strict=True)
        if on and isinstance(h, int) and m.kind == "cap"
    }
    return any(lower[k] > upper[k] for k in floors & caps)


def _conflict(
    skeleton: Case,
    rows: _Rows,
    present: dict[RowKey, Row],
    lower: np.ndarray,
    upper: np.ndarray,
    backend: Backend,
    options: SolverOptions,
) -> Infeasibility:
    """Name the scenarios' constraints that cannot all hold: a deletion filter.

    The candidates are the hard rows the LP was given (capacities, extra constraints, each
    of one scenario) and the tightest floor and cap of every share (each set by a scenario);
    a candidate is dropped when the rest stay incompatible without it. Each check is one
    feasibility LP on a model whose rows carry release columns, so that dropping or keeping
    a candidate is a bound change and the LPs re-solve warm.
    """
    index, data = rows.index, rows.data
    model = build_model(skeleton, index_case(skeleton), name="robust_conflict")
    session = backend.open(model.problem, model.variables, options)
    candidates: list[tuple[ConflictRow, list[Column] | int]] = []
    added: list[Row] = []
    releases: list[Column] = []
    for kind, s, p in present:
        if kind == "gain":
            continue
        row = rows.row(model, (kind, s, p), None)
        sense = rows.case.constraints[p].sense if kind == "constraint" else "<="
        own: list[Column] = []
        for sign in (1.0,) if sense == ">=" else (-1.0,) if sense == "<=" else (1.0, -1.0):
            release = model.new_variable(f"release{len(releases)}", 0.0, 0.0)
            model.add_term(row, release, sign)
            own.append(release)
            releases.append(release)
        added.append(row)
        if kind == "capacity":
            member = ConflictRow(
                scenario=s,
                kind="capacity",
                stakeholder=index.parties[p],
                bound=tidy(float(data.capacity[s, p])),
            )
        else:
            member = ConflictRow(
                scenario=s,
                kind="constraint",
                constraint=rows.case.constraints[p].name,
                bound=tidy(float(data.rhs[s, p])),
            )
        candidates.append((member, own))
    session.add_constraints(added, releases)
    for k in range(len(lower)):
        pid, iid = index.parties[int(index.pair_party[k])], index.issues[int(index.pair_issue[k])]
        if lower[k] > 0:
            s = int(np.argmax(data.lower[:, k]))
            candidates.append(
                (
                    ConflictRow(
                        scenario=s,
                        kind="floor",
                        stakeholder=pid,
                        issue=iid,
                        bound=tidy(float(lower[k])),
                    ),
                    k,
                )
            )
        if upper[k] < 1:
            s = int(np.argmin(data.upper[:, k]))
            candidates.append(
                (
                    ConflictRow(
                        scenario=s,
                        kind="cap",
                        stakeholder=pid,
                        issue=iid,
                        bound=tidy(float(upper[k])),
                    ),
                    k,
                )
            )
    active = [True] * len(candidates)
    session.set_objective(model.expression([]), maximize=True)

    def apply() -> None:
        lo, hi = np.zeros(len(lower)), np.ones(len(upper))
        for (member, handle), on in zip(candidates, active, strict=True):
            if isinstance(handle, int):
                if on and member.kind == "floor":
                    lo[handle] = lower[handle]
                elif on:
                    hi[handle] = upper[handle]
            else:
                bound = 0.0 if on else math.inf
                session.set_bounds(handle, np.zeros(len(handle)), np.full(len(handle), bound))
        session.set_bounds(model.x, lo, hi)

    def infeasible() -> bool | None:
        if _crossed(candidates, active, lower, upper):
            return True  # a floor above a cap on the same share: no LP needed
        apply()
        try:
            status = session.solve().status
        except SolverError:
            return None
        if status == Status.INFEASIBLE:
            return True
        return False if status.solved else None

    if infeasible() is not True:  # the rows are compatible after all: solver trouble
        return Infeasibility(conflict=[m for m, _ in candidates], irreducible=False)
    irreducible = True
    for j in range(len(candidates)):
        if options.expired():
            irreducible = False
            break
        active[j] = False
        verdict = infeasible()
        if verdict is None:
            irreducible = False
            active[j] = True
        elif not verdict:
            active[j] = True  # needed: without it the rest are compatible
    members = [m for (m, _), on in zip(candidates, active, strict=True) if on]
    members.sort(key=lambda m: m.scenario)
    return Infeasibility(conflict=members, irreducible=irreducible)
