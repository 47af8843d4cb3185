"""The solver seam: what every backend gives the engine, whatever solver runs behind it.

A :class:`Backend` opens a :class:`Session` on a PuLP problem; the session solves it, is
edited in place (bounds, objective, new rows) and re-solved, and returns a
:class:`SolveResult` per solve whose status is normalised to :class:`Status`. Values and
duals are read through the session, in the model's own units, and only after a solve that
produced a solution. ``settle(case, solver=...)`` takes a backend's name or a backend
object (networkx's ``flow_func`` pattern): tests pass a scripted one, an application its own.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pulp

from ..errors import PolicyError, Problem, SolverError

__all__ = [
    "FEASIBILITY_TOLERANCE",
    "Backend",
    "ModelArrays",
    "Session",
    "SolveResult",
    "SolverOptions",
    "Status",
]

INF = math.inf
#: HiGHS's primal and dual feasibility tolerances (its defaults are 1e-7); the default a
#: session solves LPs to.
FEASIBILITY_TOLERANCE = 1e-9


class Status(StrEnum):
    """A solve's outcome, whatever the solver."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # stopped at a limit with a feasible, perhaps suboptimal, solution
    INFEASIBLE = "infeasible"  # proved
    UNBOUNDED = "unbounded"
    #: The solver ended without a trustworthy answer while time remained (numerical
    #: trouble): not a proof of infeasibility. A rule that holds earlier results may hold
    #: them more loosely and try again; otherwise it is an error.
    UNKNOWN = "unknown"

    @property
    def solved(self) -> bool:
        """Whether the solve produced a solution (optimal or stopped at a limit)."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True, slots=True)
class SolveResult:
    """How one solve ended (linopy's ``Result`` is the model).

    Parameters
    ----------
    status
        The normalised outcome.
    objective
        The objective's value at the solution, in the model's units (``None`` without one).
    has_duals
        Whether row duals and reduced costs can be read (not for a MIP, nor for a solve
        stopped before optimality).
    seconds
        Wall-clock seconds of the solve, as the session measured it.
    report
        What the solver said about the solve (its own status, the algorithm, ...).
    """

    status: Status
    objective: float | None = None
    has_duals: bool = False
    seconds: float = 0.0
    report: Mapping[str, Any] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        """Whether the solve produced a solution (optimal or stopped at a limit)."""
        return self.status.solved

    def stopped(self) -> SolveResult:
        """Return this result as if the time limit had stopped the solve.

        The status becomes ``feasible`` (when it had a solution), and there are no duals.
        """
        status = Status.FEASIBLE if self.status == Status.OPTIMAL else self.status
        return replace(self, status=status, has_duals=False)


@dataclass(frozen=True, slots=True)
class SolverOptions:
    """Which solver, how long, which algorithm.

    Parameters
    ----------
    solver
        The name of the backend that solves (``highs``, ``cbc`` or a custom one's); it is
        reported in the settlement.
    time_limit
        Seconds allowed for each solve; a solve stopped by it yields :attr:`Status.FEASIBLE`
        when it has a solution and raises :class:`SolverError` when it has none.
    deadline
        A ``time.perf_counter()`` instant no solve may run past (a settlement's own time
        limit, shared by all its solves); ``None`` for none.
    method
        ``auto`` (interior point for a large LP's first solve, simplex otherwise), ``simplex``
        or ``ipm``. HiGHS only.
    """

    solver: str = "highs"
    time_limit: float = 60.0
    method: Literal["auto", "simplex", "ipm"] = "auto"
    deadline: float | None = None

    def seconds_left(self) -> float:
        """Seconds the next solve may take: the time limit, or less as the deadline nears."""
        if self.deadline is None:
            return float(self.time_limit)
        return max(min(float(self.time_limit), self.deadline - time.perf_counter()), 1e-3)

    def expired(self) -> bool:
        """Whether the deadline has passed (never, without one)."""
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def __post_init__(self) -> None:
        """Check the time limit and the method, raising :class:`PolicyError` on any problem."""
        problems = []
        if not (isinstance(self.time_limit, int | float) and self.time_limit > 0):
            problems.append(
                Problem(
                    "time_limit", f"must be a positive number of seconds, got {self.time_limit!r}"
                )
            )
        if self.method not in ("auto", "simplex", "ipm"):
            problems.append(
                Problem("method", f"unknown method '{self.method}'; choose auto, simplex or ipm")
            )
        if problems:
            raise PolicyError(problems)


@dataclass(frozen=True, slots=True)
class ModelArrays:
    """A model's columns and rows as arrays, in the order of its variables and rows.

    It is what a backend loads: each column's bounds (``-inf``/``inf`` for none) and whether
    it is integer, each row's bounds, and the rows' coefficients in compressed sparse row
    form (``starts`` has one entry per row and one more, zero coefficients left out).
    :func:`model_arrays` reads them off a PuLP problem; a sweep computes them from a case's
    numbers directly (:class:`mediation.allocation.model.ModelTemplate`).
    """

    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    starts: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    def same_as(self, other: ModelArrays) -> bool:
        """Whether both describe the same model, number for number (bit for bit)."""
        return all(
            a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
            for a, b in (
                (self.col_lower, other.col_lower),
                (self.col_upper, other.col_upper),
                (self.integer, other.integer),
                (self.row_lower, other.row_lower),
                (self.row_upper, other.row_upper),
                (self.starts, other.starts),
                (self.indices, other.indices),
                (self.values, other.values),
            )
        )


def _bounds(lo: float | None, hi: float | None) -> tuple[float, float]:
    return (-INF if lo is None else lo), (INF if hi is None else hi)


def row_arrays(
    constraints: Sequence[pulp.LpConstraint], column_of: Mapping[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the rows' lower and upper bounds and their coefficients, rowwise.

    ``column_of`` maps ``id(variable)`` to its column; zero coefficients are left out.
    """
    row_lower = np.empty(len(constraints))
    row_upper = np.empty(len(constraints))
    starts = np.zeros(len(constraints) + 1, dtype=np.int32)
    idx: list[int] = []
    val: list[float] = []
    for r, c in enumerate(constraints):
        row_lower[r], row_upper[r] = _bounds(c.getLb(), c.getUb())
        terms = [(v, a) for v, a in c.expr.items() if a]
        idx.extend([column_of[id(v)] for v, _ in terms])
        val.extend([a for _, a in terms])
        starts[r + 1] = len(idx)
    return (
        row_lower,
        row_upper,
        starts,
        np.asarray(idx, dtype=np.int32),
        np.asarray(val, dtype=float),
    )


def model_arrays(
    variables: Sequence[pulp.LpVariable], constraints: Sequence[pulp.LpConstraint]
) -> ModelArrays:
    """Read a PuLP model's columns (``variables``, in order) and rows off its objects."""
    n = len(variables)
    lower = np.empty(n)
    upper = np.empty(n)
    for k, v in enumerate(variables):
        lower[k], upper[k] = _bounds(v.lowBound, v.upBound)
    integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
    row_lower, row_upper, starts, indices, values = row_arrays(
        constraints, {id(v): k for k, v in enumerate(variables)}
    )
    return ModelArrays(lower, upper, integer, row_lower, row_upper, starts, indices, values)


class Session(ABC):
    """A PuLP problem loaded into a solver, edited and re-solved in place.

    Edits made through the session (bounds, objective, new rows) are applied to the PuLP
    problem as well, so the problem stays the single description of the model.
    """

    def __init__(
        self, problem: pulp.LpProblem, variables: Sequence[pulp.LpVariable], options: SolverOptions
    ) -> None:
        self.problem = problem
        self.variables = list(variables)
        self.options = options
        # keyed by id(): PuLP's LpVariable.__hash__ is a Python call, ~1.5 µs each
        self.index = {id(v): k for k, v in enumerate(self.variables)}
        self._positions: dict[int, tuple[Sequence[pulp.LpVariable], np.ndarray]] = {}
        #: The last solve's result (``None`` before the first solve).
        self.result: SolveResult | None = None
        self.solves = 0
        self.seconds = 0.0
        self.is_mip = any(v.cat == pulp.LpInteger for v in self.variables)
        #: The feasibility tolerance the backend solves to (HiGHS LPs: 1e-9; MIPs and CBC:
        #: their defaults, ~1e-6/1e-7), which bounds how finely a rule can certify a gap.
        self.tolerance = 1e-6
        #: The primal and dual feasibility tolerance an LP is solved to; a rule whose
        #: certificate needs more (Nash's gap, measured on tangent rows) may lower it.
        self.feasibility_tolerance = FEASIBILITY_TOLERANCE
        #: A rule's hint for the ``auto`` method: ``simplex`` for LPs the simplex solves
        #: quickly whatever their size (a utilitarian LP: 0.2 s by simplex, 1 s by the
        #: interior point at 1,000 x 200, measured in bench/).
        self.hint: Literal["simplex", "ipm"] | None = None

    def positions(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """Return the column positions of ``variables``.

        They are remembered for lists asked for repeatedly (a model's share and utility
        columns), which must then not change.
        """
        key = id(variables)
        known = self._positions.get(key)
        if known is not None and known[0] is variables and len(known[1]) == len(variables):
            return known[1]
        index = self.index
        # a list comprehension: a third cheaper than fromiter over a generator
        found = np.array([index[id(v)] for v in variables], dtype=np.int32)
        if len(variables) > 1000:
            self._positions[key] = (variables, found)
        return found

    # -- solving ----------------------------------------------------------------------------
    @property
    def status(self) -> Status | None:
        """The last solve's status (``None`` before the first solve)."""
        return None if self.result is None else self.result.status

    def solve(self) -> SolveResult:
        """Solve the current model.

        Returns
        -------
        SolveResult
            The normalised status, the objective and what the solver reported; values and
            duals are read through the session until the next solve.

        Raises
        ------
        SolverError
            When no solution can be trusted (:class:`TimeLimitError` when the time limit
            stopped the solve before it had one).
        """
        start = time.perf_counter()
        try:
            result = self._solve()
        finally:
            elapsed = time.perf_counter() - start
            self.seconds += elapsed
            self.solves += 1
        # built directly: dataclasses.replace costs as much as the rest of this method
        self.result = SolveResult(
            result.status, result.objective, result.has_duals, elapsed, result.report
        )
        return self.result

    @abstractmethod
    def _solve(self) -> SolveResult: ...

    def _require_solution(self) -> None:
        if self.result is None or not self.result.solved:
            raise SolverError(f"no solution to read: the last solve ended {self.status}")

    def _has_duals(self) -> bool:
        return self.result is not None and self.result.has_duals

    # -- reading ----------------------------------------------------------------------------
    @abstractmethod
    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """Return the values of ``variables`` at the last solution."""

    def value(self, variable: pulp.LpVariable) -> float:
        """Return the value of one variable at the last solution."""
        return float(self.values([variable])[0])

    def objective_value(self) -> float:
        """Return the objective at the last solution, in the model's own units."""
        self._require_solution()
        objective = None if self.result is None else self.result.objective
        if objective is None:
            raise SolverError("the last solve reported no objective value")
        return objective

    @abstractmethod
    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        """Rate of change of the optimal objective per unit increase of each row's bound.

        ``None`` for a MIP or a solver that gives no duals.
        """

    @abstractmethod
    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        """Rate of change of the optimal objective per unit increase of each variable's bound.

        The bound is the variable's active one; ``None`` when the solve gave no duals.
        """

    # -- editing ----------------------------------------------------------------------------
    def set_bounds(
        self,
        variables: Sequence[pulp.LpVariable],
        lower: Sequence[float] | np.ndarray,
        upper: Sequence[float] | np.ndarray,
    ) -> None:
        """Change variables' bounds (``-inf``/``inf`` for none)."""
        lower = np.asarray(lower, dtype=float)
        upper = np.asarray(upper, dtype=float)
        for v, lo, hi in zip(variables, lower.tolist(), upper.tolist(), strict=True):
            v.lowBound = None if lo == -INF else lo
            v.upBound = None if hi == INF else hi
        self._set_bounds(variables, lower, upper)

    @abstractmethod
    def _set_bounds(
        self, variables: Sequence[pulp.LpVariable], lower: np.ndarray, upper: np.ndarray
    ) -> None:
        """Apply a bound change to the solver's own copy of the model, if it keeps one."""

    def set_objective(self, expression: pulp.LpAffineExpression, *, maximize: bool) -> None:
        """Replace the objective."""
        self.problem.sense = pulp.LpMaximize if maximize else pulp.LpMinimize
        self.problem.setObjective(expression)
        self._set_objective(expression, maximize)

    @abstractmethod
    def _set_objective(self, expression: pulp.LpAffineExpression, maximize: bool) -> None:
        """Apply an objective change to the solver's own copy of the model, if it keeps one."""

    def add_constraints(
        self,
        constraints: Sequence[pulp.LpConstraint],
        new_variables: Sequence[pulp.LpVariable] = (),
    ) -> None:
        """Add rows (and the new columns they use, which must be listed in ``new_variables``)."""
        for v in new_variables:
            self.index[id(v)] = len(self.variables)
            self.variables.append(v)
        self.problem.extend(list(constraints))
        self._add_constraints(constraints, new_variables)

    @abstractmethod
    def _add_constraints(
        self, constraints: Sequence[pulp.LpConstraint], new_variables: Sequence[pulp.LpVariable]
    ) -> None:
        """Add rows and columns to the solver's own copy of the model, if it keeps one."""

    def set_start(self, variables: Sequence[pulp.LpVariable], values: np.ndarray) -> None:
        """Offer a (not necessarily feasible) point to start the next solve from.

        HiGHS builds its first simplex basis from it; CBC ignores it.
        """
        return None


@runtime_checkable
class Backend(Protocol):
    """A solver the engine can run: opens sessions on PuLP problems.

    ``name`` is reported in the settlement; ``version()`` says which build solved.
    """

    name: str

    def open(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
    ) -> Session:
        """Load ``problem`` (whose columns are exactly ``variables``, in this order)."""
        ...

    def version(self) -> str:
        """Return the solver's version string."""
        ...
