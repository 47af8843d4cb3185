"""The solver adapter: the one module that runs LP/MIP solvers on PuLP problems.

Rules formulate with PuLP; this module solves. HiGHS (through highspy, in-process) is the
default: the PuLP problem is handed to HiGHS as one sparse matrix and the HiGHS model is kept
live, so that rules solving a sequence of related LPs (leximin's levels, Nash's cutting
planes) edit bounds, objectives and rows in place and re-solve from the last basis. CBC
(through PuLP's ``COIN_CMD`` and the ``cbcbox`` binary) is the fallback; it re-solves from
scratch. Every solver status is normalised to :class:`Status`; values are only readable
after a solve that produced a solution, and a failed solve raises :class:`SolverError`.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Literal

import numpy as np
import pulp

from .errors import PolicyError, Problem, SolverError, TimeLimitError

__all__ = [
    "SOLVERS",
    "Session",
    "SolverOptions",
    "Status",
    "open_session",
    "solver_version",
]

SolverName = Literal["highs", "cbc"]
SOLVERS: tuple[str, ...] = ("highs", "cbc")
INF = math.inf

#: Above this many nonzeros an LP's first solve uses HiGHS's interior point method (with
#: crossover, so that duals and a basis for warm re-solves exist); below it, dual simplex.
#: Measured in bench/: at 1,000 x 200 the interior point is ~10x faster than simplex, at
#: 10 x 20 simplex is faster.
IPM_THRESHOLD = 20_000
#: Relative optimality gap at which a MIP stops: fairness rules compare small differences,
#: so the HiGHS default of 1e-4 is too loose; MIP cases here are small.
MIP_GAP = 1e-9
#: The integrality and row tolerance of a MIP's incumbent (HiGHS's default: 1e-6).
MIP_FEASIBILITY_TOLERANCE = 1e-9
#: HiGHS's primal and dual feasibility tolerances (its defaults are 1e-7).
FEASIBILITY_TOLERANCE = 1e-9
#: A warm re-solve may take this many times the first solve before it is redone cold.
WARM_PATIENCE = 10.0
#: HiGHS silently drops matrix coefficients at or below its ``small_matrix_value``; the
#: adapter sets it to HiGHS's own minimum and refuses a model whose scaled matrix still has a
#: coefficient within a factor 10 of it (see :func:`equilibrate`).
SMALL_MATRIX_VALUE = 1e-12
#: A model whose coefficients spread over less than this is solved as stated: scaling a
#: well-scaled market changed which parties leximin's dual test found saturated, and one
#: level of a sparse 1,000 x 200 market came out 1.5e-4 of a range short (bench/).
SCALE_SPREAD = 1e4
#: Passes of the geometric-mean scaling at most (it usually settles within a few).
EQUILIBRATION_PASSES = 24


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
class SolverOptions:
    """Which solver, how long, which algorithm.

    Parameters
    ----------
    solver
        ``highs`` (default, in-process) or ``cbc`` (fallback, a subprocess per solve).
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

    solver: SolverName = "highs"
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
        problems = []
        if self.solver not in SOLVERS:
            problems.append(
                Problem(
                    "solver", f"unknown solver '{self.solver}'; choose one of {', '.join(SOLVERS)}"
                )
            )
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
        self.status: Status | None = None
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
        """Column positions of ``variables``; remembered for lists asked for repeatedly (a
        model's share and utility columns), which must then not change."""
        key = id(variables)
        known = self._positions.get(key)
        if known is not None and known[0] is variables and len(known[1]) == len(variables):
            return known[1]
        found = np.fromiter(
            (self.index[id(v)] for v in variables), dtype=np.int32, count=len(variables)
        )
        if len(variables) > 1000:
            self._positions[key] = (variables, found)
        return found

    # -- solving ----------------------------------------------------------------------------
    def solve(self) -> Status:
        """Solve the current model; raise :class:`SolverError` when no solution can be trusted."""
        start = time.perf_counter()
        try:
            self.status = self._solve()
        finally:
            self.seconds += time.perf_counter() - start
            self.solves += 1
        return self.status

    @abstractmethod
    def _solve(self) -> Status: ...

    def _require_solution(self) -> None:
        if self.status is None or not self.status.solved:
            raise SolverError(f"no solution to read: the last solve ended {self.status}")

    # -- reading ----------------------------------------------------------------------------
    @abstractmethod
    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray: ...

    def value(self, variable: pulp.LpVariable) -> float:
        return float(self.values([variable])[0])

    @abstractmethod
    def objective_value(self) -> float: ...

    @abstractmethod
    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        """Rate of change of the optimal objective per unit increase of each row's bound.

        ``None`` for a MIP or a solver that gives no duals.
        """

    @abstractmethod
    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        """Rate of change of the optimal objective per unit increase of each variable's active
        bound (``None`` when the solve gave no duals)."""

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
        for v, lo, hi in zip(variables, lower, upper, strict=True):
            v.lowBound = None if lo == -INF else float(lo)
            v.upBound = None if hi == INF else float(hi)
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


def open_session(
    problem: pulp.LpProblem,
    variables: Sequence[pulp.LpVariable],
    options: SolverOptions | None = None,
) -> Session:
    """Load ``problem`` (whose columns are exactly ``variables``, in this order) into a solver.

    Raises
    ------
    SolverError
        When the chosen solver is not available on this machine.
    """
    options = options or SolverOptions()
    if options.solver == "cbc":
        return CbcSession(problem, variables, options)
    return HighsSession(problem, variables, options)


@cache
def solver_version(name: str) -> str:
    """The version string of a solver backend."""
    if name == "cbc":
        try:
            from importlib.metadata import version

            return f"cbcbox {version('cbcbox')}"
        except Exception:  # the package is absent: report PuLP's own
            return f"pulp {pulp.__version__}"

    h = _new_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


# --- HiGHS -------------------------------------------------------------------------------

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _new_highs() -> Any:
    """A silent ``highspy.Highs``.

    HiGHS prints its banner to the C-level stdout on the first construction in a process,
    whatever ``output_flag`` says; that first construction runs with file descriptor 1
    pointed at /dev/null so that the command line's JSON output stays clean.
    """
    import highspy

    global _BANNER_DONE
    if not _BANNER_DONE:
        with _BANNER_LOCK:
            if not _BANNER_DONE:
                sys.stdout.flush()
                saved = os.dup(1)
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                    h = highspy.Highs()  # type: ignore[no-untyped-call]
                finally:
                    os.dup2(saved, 1)
                    os.close(saved)
                    os.close(devnull)
                _BANNER_DONE = True
                h.setOptionValue("output_flag", False)
                return h
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    return h


def _bounds(lo: float | None, hi: float | None) -> tuple[float, float]:
    return (-INF if lo is None else lo), (INF if hi is None else hi)


def _power_of_two(x: np.ndarray) -> np.ndarray:
    """The powers of two nearest to ``x`` (> 0): scaling by them is exact in floating point."""
    return np.asarray(np.exp2(np.round(np.log2(x))), dtype=float)


def equilibrate(
    starts: np.ndarray, indices: np.ndarray, values: np.ndarray, n_cols: int, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column scale factors (powers of two) that centre a rowwise sparse matrix's
    coefficients on 1, no coefficient above 1.

    Geometric-mean scaling: divide every row and then every column by the geometric mean of
    its largest and smallest magnitudes, repeatedly; a last pass divides each row by its
    largest entry. A utility column ``u_b`` defined by ``u_b = 1e-9 · x`` is thereby measured
    in units of 1e-9 (a max-norm equilibration would leave it at 1 and the 1e-9 beside it).
    Columns marked ``fixed`` keep the factor 1 (integer ones, which scaled would no longer
    be integer, and bounded ones such as shares, whose size is known: fixing them also pins
    the scaling's free factor, which would otherwise drift between rows and columns).

    In the scaled model ``Ã = R A C`` a utility measured in 元 becomes a utility measured in
    units of the party's own values, a level row one in units of its range: the solver's
    absolute tolerances and its drop threshold then act relative to each party's and each
    issue's scale, which is what the allocation rules compare.

    References
    ----------
    Curtis, A. R. & Reid, J. K. (1972). On the automatic scaling of matrices for Gaussian
    elimination. *IMA Journal of Applied Mathematics* 10(1), 118–124.
    DOI 10.1093/imamat/10.1.118.
    Gill, P. E., Murray, W. & Wright, M. H. (1981). *Practical Optimization*, §8.7.
    Academic Press.
    """
    m = len(starts) - 1
    row_scale = np.ones(m)
    col_scale = np.ones(n_cols)
    if m == 0 or len(values) == 0:
        return row_scale, col_scale
    magnitude = np.abs(values)
    counts = np.diff(starts)
    rows = np.repeat(np.arange(m), counts)
    nonempty = counts > 0
    heads = starts[:-1][nonempty]
    free = ~fixed

    def row_extremes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        high, low = np.ones(m), np.ones(m)
        high[nonempty] = np.maximum.reduceat(a, heads)
        low[nonempty] = np.minimum.reduceat(a, heads)
        return high, low

    for _ in range(EQUILIBRATION_PASSES):
        high, low = row_extremes(magnitude * row_scale[rows] * col_scale[indices])
        row_scale /= np.sqrt(high * low)
        a = magnitude * row_scale[rows] * col_scale[indices]
        col_high = np.zeros(n_cols)
        col_low = np.full(n_cols, np.inf)
        np.maximum.at(col_high, indices, a)
        np.minimum.at(col_low, indices, a)
        step = np.ones(n_cols)
        present = (col_high > 0) & free
        step[present] = np.sqrt(col_high[present] * col_low[present])
        col_scale /= step
        if np.all(np.abs(np.log2(step)) < 0.25) and np.all(np.abs(np.log2(high * low)) < 0.5):
            break
    col_scale = _power_of_two(col_scale)
    high, _ = row_extremes(magnitude * col_scale[indices])
    # rounded down, so that no scaled coefficient exceeds 1
    return np.exp2(np.floor(np.log2(1.0 / high))), col_scale


class HighsSession(Session):
    """HiGHS through highspy, with the model kept live between solves."""

    def __init__(
        self, problem: pulp.LpProblem, variables: Sequence[pulp.LpVariable], options: SolverOptions
    ) -> None:
        super().__init__(problem, variables, options)
        import highspy

        self._hs = highspy
        self.highs = _new_highs()
        self.rows: dict[int, int] = {}  # id(constraint) -> row index
        self._start: tuple[np.ndarray, np.ndarray] | None = None
        self._first_seconds = 0.0
        self.tolerance = 1e-6 if self.is_mip else FEASIBILITY_TOLERANCE
        self._row_list: list[pulp.LpConstraint] = []
        self._load()

    def _load(self) -> None:
        hs = self._hs
        n = len(self.variables)
        lower = np.empty(n)
        upper = np.empty(n)
        for k, v in enumerate(self.variables):
            lower[k], upper[k] = _bounds(v.lowBound, v.upBound)
        constraints = self.problem.constraints()
        row_lower, row_upper, starts, indices, values = self._rows(constraints)
        self.nonzeros = len(values)
        # bounded columns (shares in [0, 1]) are already O(1) and integer ones must stay
        # integer: only the free columns (utilities, levels) and the rows are scaled
        fixed = np.array([v.cat == pulp.LpInteger for v in self.variables], dtype=bool)
        fixed |= np.isfinite(lower) & np.isfinite(upper)
        magnitude = np.abs(values)
        if len(values) and magnitude.max() > SCALE_SPREAD * magnitude.min():
            self._row_scale, self._col_scale = equilibrate(starts, indices, values, n, fixed)
        else:  # already well scaled: left as it is (rows added later are still scaled)
            self._row_scale, self._col_scale = np.ones(len(constraints)), np.ones(n)
        rows = np.repeat(np.arange(len(constraints)), np.diff(starts))
        scaled = values * self._row_scale[rows] * self._col_scale[indices]
        self._refuse_lost_coefficients(constraints, starts, indices, values, scaled)

        lp = hs.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(constraints)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = lower / self._col_scale
        lp.col_upper_ = upper / self._col_scale
        lp.row_lower_ = row_lower * self._row_scale
        lp.row_upper_ = row_upper * self._row_scale
        lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = indices
        lp.a_matrix_.value_ = scaled
        if self.is_mip:
            lp.integrality_ = [
                hs.HighsVarType.kInteger if v.cat == pulp.LpInteger else hs.HighsVarType.kContinuous
                for v in self.variables
            ]
        self.highs.setOptionValue("small_matrix_value", SMALL_MATRIX_VALUE)
        self._check(self.highs.passModel(lp), "load the model")
        self._row_list = list(constraints)
        self.rows = {id(c): k for k, c in enumerate(constraints)}
        objective = self.problem.objective
        self._set_objective(
            objective if objective is not None else pulp.LpAffineExpression(),
            self.problem.sense == pulp.LpMaximize,
        )

    def _check(self, status: Any, what: str) -> None:
        if status == self._hs.HighsStatus.kError:
            raise SolverError(f"HiGHS could not {what}")

    def _refuse_lost_coefficients(
        self,
        constraints: Sequence[pulp.LpConstraint],
        starts: np.ndarray,
        indices: np.ndarray,
        values: np.ndarray,
        scaled: np.ndarray,
    ) -> None:
        """Raise :class:`SolverError` when a scaled coefficient is so small that HiGHS would
        drop it (or lose it to its tolerances): the model spans more orders of magnitude
        within one row than double precision and the solver's tolerances can carry, and any
        "optimal" found would be optimal for another model."""
        tiny = np.flatnonzero(np.abs(scaled) < 10 * SMALL_MATRIX_VALUE)
        if not len(tiny):
            return
        k = int(tiny[0])
        r = int(np.searchsorted(starts, k, side="right") - 1)
        column = self.variables[int(indices[k])].name
        name = constraints[r].name
        where = "a row the rule added" if name is None else f"row '{name}'"
        raise SolverError(
            f"the model is too badly scaled to solve reliably: in {where} "
            f"the coefficient on '{column}' is {abs(scaled[k]):.1e} of the row's largest even "
            "after scaling, which the solver would treat as 0; bring the numbers of one "
            "party, issue or constraint within 1e10 of each other"
        )

    def _rows(self, constraints: Sequence[pulp.LpConstraint]) -> tuple[np.ndarray, ...]:
        index = self.index
        row_lower = np.empty(len(constraints))
        row_upper = np.empty(len(constraints))
        starts = np.zeros(len(constraints) + 1, dtype=np.int32)
        idx: list[int] = []
        val: list[float] = []
        for r, c in enumerate(constraints):
            row_lower[r], row_upper[r] = _bounds(c.getLb(), c.getUb())
            terms = [(v, a) for v, a in c.expr.items() if a]
            idx.extend([index[id(v)] for v, _ in terms])
            val.extend([a for _, a in terms])
            starts[r + 1] = len(idx)
        return (
            row_lower,
            row_upper,
            starts,
            np.asarray(idx, dtype=np.int32),
            np.asarray(val, dtype=float),
        )

    def set_start(self, variables: Sequence[pulp.LpVariable], values: np.ndarray) -> None:
        # applied just before the next run: model edits in between would discard it
        idx = self.positions(variables)
        self._start = (idx, np.asarray(values, dtype=float) / self._col_scale[idx])

    def _choose_method(self) -> str:
        method = self.options.method
        if method != "auto":
            return "ipm" if method == "ipm" else "simplex"
        if self.is_mip:
            return "choose"
        if self.hint is not None:
            return self.hint
        if self._start is not None:
            return "simplex"  # the interior point method would ignore the start
        if self.solves == 0 and self.nonzeros > IPM_THRESHOLD:
            return "ipm"
        return "simplex"

    def _solve(self) -> Status:
        """Solve; a warm re-solve that stalls is cut short and redone from scratch.

        A warm re-solve normally takes a fraction of the first solve; on nearly degenerate
        level LPs of ill-conditioned markets the simplex can instead wander until the time
        limit or end "unknown" (a sparse 1,000 x 200 leximin, bench/). It is given
        :data:`WARM_PATIENCE` times the first solve's time (at least 1 s); past that, or on
        an end that is neither optimal nor a proof, the basis is dropped and the LP solved
        from scratch by the interior point, without then with presolve (each rescued a level
        LP that every simplex variant lost).
        """
        h = self.highs
        started = time.perf_counter()
        limit = self.options.seconds_left()
        warm = self.solves > 0 and not self.is_mip and self._start is None
        if not warm:
            h.setOptionValue("time_limit", limit)
            outcome = self._run(self._choose_method())
            elapsed = time.perf_counter() - started
            if self.solves == 0:
                self._first_seconds = elapsed
            return self._settle(outcome, limit, ran_out=elapsed >= 0.99 * limit)
        h.setOptionValue("time_limit", min(limit, max(1.0, WARM_PATIENCE * self._first_seconds)))
        outcome = self._run(self._choose_method())
        for presolve in ("off", "on"):
            remaining = limit - (time.perf_counter() - started)
            # a warm run stopped by its patience (or stalled) is redone cold while time remains
            if outcome[0] not in ("retry", "time") or remaining <= 1e-3:
                break
            h.clearSolver()
            h.setOptionValue("time_limit", remaining)
            outcome = self._run("ipm", robust=True, presolve=presolve)
        return self._settle(outcome, limit, ran_out=time.perf_counter() - started >= 0.99 * limit)

    def _settle(self, outcome: tuple[str, bool], limit: float, *, ran_out: bool) -> Status:
        """A run's end as a :class:`Status` (or an error when nothing can be used)."""
        kind, has_solution = outcome
        if kind in ("optimal", "infeasible", "unbounded"):
            return Status(kind)
        if has_solution:
            return Status.FEASIBLE  # stopped with a usable, perhaps suboptimal, solution
        if not ran_out and kind != "time":
            return Status.UNKNOWN
        raise TimeLimitError(
            f"HiGHS found no feasible solution within its time limit ({limit:.3g} s); raise it"
        )

    def _run(self, method: str, *, robust: bool = False, presolve: str = "off") -> tuple[str, bool]:
        """One HiGHS run with ``method``: how it ended (``optimal``, ``infeasible``,
        ``unbounded`` or ``retry``) and whether it holds a primal feasible solution.

        ``robust`` runs with HiGHS's default tolerances and ``presolve``.
        """
        hs = self._hs
        h = self.highs
        h.setOptionValue("solver", method)
        if self._start is not None:
            idx, values = self._start
            h.setSolution(len(idx), idx, values)
            self._start = None
        # HiGHS's presolve spends up to 40x the solve time on allocation LPs (13 s of 13.3 s
        # on a 1,000 x 200 utilitarian LP, measured in bench/) and never paid off on them;
        # it stays on for MIPs, where it matters.
        h.setOptionValue("presolve", "choose" if self.is_mip else (presolve if robust else "off"))
        # Fairness rules solve sequences of LPs whose later stages hold what the earlier ones
        # found, and an error there is passed on multiplied by the parties' trade-off ratios
        # (~4,000 on a sparse 500 x 100 market): a first level found 2.2e-8 short with the
        # default tolerances (1e-7) moved later levels by 8e-5 (bench/).
        tolerance = 1e-7 if robust else self.feasibility_tolerance
        h.setOptionValue("primal_feasibility_tolerance", tolerance)
        h.setOptionValue("dual_feasibility_tolerance", tolerance)
        if self.is_mip:
            h.setOptionValue("mip_rel_gap", MIP_GAP)
            # HiGHS's default (1e-6) let a leximin stage breach a risk capacity by 0.474 元 of
            # exposure and hold later stages out of reach; the MIPs here are small
            h.setOptionValue("mip_feasibility_tolerance", MIP_FEASIBILITY_TOLERANCE)
        h.run()
        status = h.getModelStatus()
        s = hs.HighsModelStatus
        if status == s.kUnboundedOrInfeasible and self.is_mip:
            # presolve could not tell which; the solve without presolve can
            h.setOptionValue("presolve", "off")
            h.run()
            status = h.getModelStatus()
        has_solution = bool(h.getInfo().primal_solution_status == 2)  # feasible
        if status == s.kOptimal and has_solution:
            return "optimal", True
        if status == s.kInfeasible:
            return "infeasible", False
        if status == s.kUnbounded:
            return "unbounded", has_solution
        if status == s.kTimeLimit:
            return "time", has_solution
        return "retry", has_solution

    # Values and duals are read back in the model's own units: x = C x̃, and the scaled
    # objective is κ times the model's, so y = R ỹ / κ for rows and d = d̃ / (C κ) for columns.
    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        self._require_solution()
        col = np.asarray(self.highs.getSolution().col_value)
        idx = self.positions(variables)
        return np.asarray(col[idx] * self._col_scale[idx], dtype=float)

    def objective_value(self) -> float:
        self._require_solution()
        return float(self.highs.getInfo().objective_function_value) / self._cost_scale

    def _duals_ok(self) -> bool:
        return not self.is_mip and self.highs.getInfo().dual_solution_status == 2

    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        self._require_solution()
        if not self._duals_ok():
            return None
        if not len(constraints):
            return np.zeros(0)
        dual = np.asarray(self.highs.getSolution().row_dual)
        rows = [self.rows[id(c)] for c in constraints]
        return np.asarray(dual[rows] * self._row_scale[rows] / self._cost_scale, dtype=float)

    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        self._require_solution()
        if not self._duals_ok():
            return None
        dual = np.asarray(self.highs.getSolution().col_dual)
        idx = self.positions(variables)
        return np.asarray(dual[idx] / (self._col_scale[idx] * self._cost_scale), dtype=float)

    def _set_bounds(
        self, variables: Sequence[pulp.LpVariable], lower: np.ndarray, upper: np.ndarray
    ) -> None:
        idx = self.positions(variables)
        if len(idx):
            scale = self._col_scale[idx]
            self.highs.changeColsBounds(len(idx), idx, lower / scale, upper / scale)

    def _set_objective(self, expression: pulp.LpAffineExpression, maximize: bool) -> None:
        n = len(self.variables)
        cost = np.zeros(n)
        for v, a in expression.items():
            cost[self.index[id(v)]] = a
        cost *= self._col_scale
        top = float(np.abs(cost).max()) if n else 0.0
        # the objective scaled to a largest coefficient of about 1, as the rows are
        self._cost_scale = float(np.exp2(-np.round(np.log2(top)))) if top > 0 else 1.0
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost * self._cost_scale)
        self.highs.changeObjectiveOffset(float(expression.constant) * self._cost_scale)
        self.highs.changeObjectiveSense(
            self._hs.ObjSense.kMaximize if maximize else self._hs.ObjSense.kMinimize
        )

    def _add_constraints(
        self, constraints: Sequence[pulp.LpConstraint], new_variables: Sequence[pulp.LpVariable]
    ) -> None:
        h = self.highs
        row_lower, row_upper, starts, indices, values = self._rows(constraints)
        if new_variables:
            scale = self._new_column_scales(new_variables, starts, indices, values)
            self._col_scale = np.concatenate([self._col_scale, scale])
            lower = np.empty(len(new_variables))
            upper = np.empty(len(new_variables))
            for k, v in enumerate(new_variables):
                lower[k], upper[k] = _bounds(v.lowBound, v.upBound)
            self._check(h.addVars(len(new_variables), lower / scale, upper / scale), "add columns")
            for v in new_variables:
                if v.cat == pulp.LpInteger:
                    h.changeColIntegrality(self.index[id(v)], self._hs.HighsVarType.kInteger)
                    self.is_mip = True
        if not constraints:
            return
        rows = np.repeat(np.arange(len(constraints)), np.diff(starts))
        row_max = np.ones(len(constraints))
        nonempty = np.diff(starts) > 0
        if nonempty.any():
            a = np.abs(values) * self._col_scale[indices]
            row_max[nonempty] = np.maximum.reduceat(a, starts[:-1][nonempty])
        row_scale = np.exp2(np.floor(np.log2(1.0 / row_max)))
        scaled = values * row_scale[rows] * self._col_scale[indices]
        self._refuse_lost_coefficients(constraints, starts, indices, values, scaled)
        first = len(self._row_list)
        self._check(
            h.addRows(
                len(constraints),
                row_lower * row_scale,
                row_upper * row_scale,
                len(values),
                starts[:-1],
                indices,
                scaled,
            ),
            "add rows",
        )
        self._row_scale = np.concatenate([self._row_scale, row_scale])
        for k, c in enumerate(constraints):
            self.rows[id(c)] = first + k
            self._row_list.append(c)
        self.nonzeros += len(values)

    def _new_column_scales(
        self,
        new_variables: Sequence[pulp.LpVariable],
        starts: np.ndarray,
        indices: np.ndarray,
        values: np.ndarray,
    ) -> np.ndarray:
        """Scale factors for columns added with rows: each new column is measured so that
        its coefficients straddle, in its rows, the scale the existing columns give
        (a new level ``t`` in units of the compared gains, a Nash cut's column in log units)."""
        known = len(self._col_scale)
        scale = np.ones(len(new_variables))
        if not len(values):
            return scale
        rows = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
        old = indices < known
        # each row's largest coefficient on existing (scaled) columns; 1 if it has none
        row_max = np.zeros(len(starts) - 1)
        if old.any():
            np.maximum.at(row_max, rows[old], np.abs(values[old]) * self._col_scale[indices[old]])
        row_max[row_max == 0] = 1.0
        new = ~old
        relative = np.abs(values[new]) / row_max[rows[new]]
        peak = np.zeros(len(new_variables))
        low = np.full(len(new_variables), np.inf)
        np.maximum.at(peak, indices[new] - known, relative)
        np.minimum.at(low, indices[new] - known, relative)
        # integer and bounded columns keep their own units, as in the first load
        fixed = np.array(
            [
                v.cat == pulp.LpInteger or (v.lowBound is not None and v.upBound is not None)
                for v in new_variables
            ],
            dtype=bool,
        )
        grow = (peak > 0) & ~fixed
        # matched to its largest entry, unless its entries spread so far (a level column
        # meeting parties whose weights are 1e12 apart) that the smallest would be lost:
        # then the geometric middle of them
        middle = np.where(peak > 1e6 * low, np.sqrt(peak * low), peak)
        scale[grow] = _power_of_two(1.0 / middle[grow])
        return scale


# --- CBC ---------------------------------------------------------------------------------


class CbcSession(Session):
    """CBC through PuLP's ``COIN_CMD``: each solve writes the problem and runs CBC afresh."""

    def __init__(
        self, problem: pulp.LpProblem, variables: Sequence[pulp.LpVariable], options: SolverOptions
    ) -> None:
        super().__init__(problem, variables, options)
        self._path, self._cbc_options = _cbc_path()
        self._values: dict[pulp.LpVariable, float] = {}
        self._objective = 0.0

    def _solve(self) -> Status:
        solver = pulp.COIN_CMD(
            path=self._path,
            msg=False,
            timeLimit=self.options.seconds_left(),
            gapRel=MIP_GAP,
            options=self._cbc_options,
        )
        objective = self.problem.objective
        if objective is None or objective.isNumericalConstant():
            # PuLP writes an empty objective with a "__dummy" column, and keeps writing that
            # column's bound in every later file without the column, which CBC rejects ("no
            # match for column"): a zero term keeps the objective non-empty instead
            constant = 0.0 if objective is None else float(objective.constant)
            self.problem.setObjective(
                pulp.LpAffineExpression([(self.variables[0], 0.0)], constant=constant)
            )
        # every file of this solve lives in its own directory, removed whatever happens
        with tempfile.TemporaryDirectory(prefix="mediation-cbc-") as folder:
            self._run_cbc(solver, folder)
        status = self.problem.status
        solution = self.problem.sol_status
        if status == pulp.LpStatusOptimal:
            # PuLP labels a time-limited MIP "Optimal": the solution status tells the truth
            result = Status.OPTIMAL if solution == pulp.LpSolutionOptimal else Status.FEASIBLE
        elif status == pulp.LpStatusInfeasible:
            return Status.INFEASIBLE
        elif status == pulp.LpStatusUnbounded:
            return Status.UNBOUNDED
        elif solution in (pulp.LpSolutionIntegerFeasible,):
            result = Status.FEASIBLE
        else:
            raise SolverError(f"CBC ended '{pulp.LpStatus[status]}' without a usable solution")
        self._values = {v: (v.varValue if v.varValue is not None else 0.0) for v in self.variables}
        objective = self.problem.objective
        self._objective = float(pulp.value(objective)) if objective is not None else 0.0
        return result

    def _run_cbc(self, solver: Any, folder: str) -> None:
        """What PuLP's ``COIN_CMD.solve_CBC`` does (its MPS writer and solution reader are
        used), with CBC run under :data:`_WATCHDOG`, which takes CBC and ``folder`` down
        with the engine however it ends, and a wall-clock stop at the time limit plus
        :data:`CBC_GRACE` seconds should CBC not stop by itself."""
        problem = self.problem
        mps, solution = os.path.join(folder, "model.mps"), os.path.join(folder, "model.sol")
        columns, column_names, row_names, _ = problem.writeMPS(mps, rename=1)
        # what is left once the file is written (1.5 s at 1,000 x 200)
        limit = self.options.seconds_left()
        args = [self._path, mps, *(["-max"] if problem.sense == pulp.LpMaximize else [])]
        args += ["-sec", f"{limit:.3f}", "-ratio", str(MIP_GAP)]
        for option in self._cbc_options:
            args += [f"-{option.split()[0]}", *option.split()[1:]]
        args += ["-solve" if self.is_mip else "-initialSolve", "-printingOptions", "all"]
        args += ["-solution", solution]
        process = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, folder, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            code = process.wait(timeout=limit + CBC_GRACE)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            if process.poll() is None:  # overran, or the engine is being interrupted
                process.terminate()
                try:
                    process.wait(timeout=CBC_GRACE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if code is None:
            raise TimeLimitError(
                f"CBC did not stop at its time limit ({limit:.3g} s) and was stopped"
            )
        if code != 0 or not os.path.exists(solution):
            raise SolverError(f"CBC failed (exit code {code}) on a model of {len(columns)} columns")
        status, values, reduced, prices, slacks, solution_status = solver.readsol_MPS(
            solution, problem, columns, column_names, row_names
        )
        problem.assignVarsVals(values)
        problem.assignVarsDj(reduced)
        problem.assignConsPi(prices)
        problem.assignConsSlack(slacks, activity=True)
        problem.assignStatus(status, solution_status)

    # CBC is given the PuLP problem afresh at every solve: edits need no mirroring.
    def _set_bounds(
        self, variables: Sequence[pulp.LpVariable], lower: np.ndarray, upper: np.ndarray
    ) -> None:
        return None

    def _set_objective(self, expression: pulp.LpAffineExpression, maximize: bool) -> None:
        return None

    def _add_constraints(
        self, constraints: Sequence[pulp.LpConstraint], new_variables: Sequence[pulp.LpVariable]
    ) -> None:
        return None

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        self._require_solution()
        return np.asarray([self._values[v] for v in variables], dtype=float)

    def objective_value(self) -> float:
        self._require_solution()
        return self._objective

    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        self._require_solution()
        if self.is_mip or any(c.pi is None for c in constraints):
            return None
        return np.asarray([c.pi for c in constraints], dtype=float)

    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        self._require_solution()
        if self.is_mip or any(v.dj is None for v in variables):
            return None
        return np.asarray([v.dj for v in variables], dtype=float)


#: Seconds CBC may run past its time limit before it is stopped (and as long again to stop).
CBC_GRACE = 1.0

#: Runs CBC as its child and goes down with the engine: on Linux the kernel sends it SIGTERM
#: when the engine's process ends, even by SIGKILL (``PR_SET_PDEATHSIG``), and CBC gets
#: SIGKILL when the watchdog ends; on SIGTERM, SIGINT or SIGHUP it kills CBC and removes the
#: solve's folder (the .mps of a 1,000 x 200 model is 27 MB). Without it, a killed engine
#: left CBC running ~45 s and its files behind.
_WATCHDOG = """
import os, shutil, signal, subprocess, sys
folder, args = sys.argv[1], sys.argv[2:]
def die_with_parent(sig):
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None).prctl(1, sig)  # PR_SET_PDEATHSIG
die_with_parent(signal.SIGTERM)
child = None
def stop(*_):
    # no child.wait() here: the main thread is inside it, holding its lock
    if child is not None:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, stop)
if os.getppid() == 1:
    stop()
child = subprocess.Popen(
    args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    preexec_fn=lambda: die_with_parent(signal.SIGKILL),
)
sys.exit(child.wait())
"""


def _cbc_path() -> tuple[str, list[str]]:
    """The CBC binary and the options it needs.

    cbcbox's CBC tightens bounds before the first LP and, on allocation LPs, "proves"
    infeasibility wrongly (a feasible maximin stage: "FBBT divergence detected") or writes
    "Status unknown" instead of "Infeasible" for a truly infeasible LP; its bound propagation
    is switched off. Other CBC builds do not know the option and get none.
    """
    options: list[str] = []
    try:
        import cbcbox  # type: ignore[import-untyped]

        path = str(cbcbox.cbc_bin_path())
        options = ["boundPropLevel off"]
    except Exception:
        path = pulp.COIN_CMD().path or "cbc"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        from shutil import which

        found = which("cbc")
        if found is None:
            raise SolverError("CBC is not available: install it with `pip install cbcbox`")
        path, options = found, []
    return path, options
