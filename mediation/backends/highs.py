"""HiGHS through highspy, in-process: the default backend.

The PuLP problem is handed to HiGHS as one sparse matrix, scaled (see
:mod:`mediation.backends.scaling`), and the HiGHS model is kept live, so that rules solving a
sequence of related LPs (leximin's levels, Nash's cutting planes) edit bounds, objectives and
rows in place and re-solve from the last basis.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pulp

from ..errors import SolverError, TimeLimitError
from .base import (
    FEASIBILITY_TOLERANCE,
    ModelArrays,
    Session,
    SolveResult,
    SolverOptions,
    Status,
    _bounds,
    model_arrays,
    row_arrays,
)
from .scaling import equilibrate, power_of_two

__all__ = [
    "IPM_THRESHOLD",
    "MIP_FEASIBILITY_TOLERANCE",
    "MIP_GAP",
    "SCALE_SPREAD",
    "SMALL_MATRIX_VALUE",
    "WARM_PATIENCE",
    "HighsBackend",
    "HighsSession",
]

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

_UNSET = object()
_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _new_highs() -> Any:
    """Return a silent ``highspy.Highs``.

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


class HighsSession(Session):
    """HiGHS through highspy, with the model kept live between solves."""

    def __init__(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
        *,
        as_stated: bool = False,
        arrays: ModelArrays | None = None,
        rows: Sequence[pulp.LpConstraint] | None = None,
    ) -> None:
        """Load ``problem`` into a new HiGHS instance.

        ``arrays`` (with ``rows``, the problem's rows in the order of the arrays) are the
        problem's numbers already read or computed (a sweep's scenario), loaded instead of
        reading the PuLP objects.
        """
        super().__init__(problem, variables, options)
        import highspy

        self.as_stated = as_stated
        self._hs = highspy
        # a new instance per model: one instance loaded with model after model drifts (after
        # ~700 community-hall variants its solutions differed from a new one's by 1e-14,
        # clearModel or clearSolver between models notwithstanding)
        self.highs = _new_highs()
        self.rows: dict[int, int] = {}  # id(constraint) -> row index
        self._start: tuple[np.ndarray, np.ndarray] | None = None
        self._first_seconds = 0.0
        self.tolerance = 1e-6 if self.is_mip else FEASIBILITY_TOLERANCE
        self._row_list: list[pulp.LpConstraint] = []
        self._info: Any = None  # HiGHS's report on the last run
        self._options: dict[str, object] = {}  # what this session set, to skip repeats
        self._solution: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._all_columns = np.zeros(0, dtype=np.int32)
        if arrays is None:
            constraints = self.problem.constraints()
            arrays = model_arrays(self.variables, constraints)
            rows = constraints
        elif rows is None or len(rows) != len(arrays.row_lower):
            raise SolverError("arrays given without their rows, one per row")
        self._load(arrays, rows)

    def _load(self, arrays: ModelArrays, constraints: Sequence[pulp.LpConstraint]) -> None:
        hs = self._hs
        n = len(self.variables)
        lower, upper = arrays.col_lower, arrays.col_upper
        row_lower, row_upper = arrays.row_lower, arrays.row_upper
        starts, indices, values = arrays.starts, arrays.indices, arrays.values
        self.nonzeros = len(values)
        # bounded columns (shares in [0, 1]) are already O(1) and integer ones must stay
        # integer: only the free columns (utilities, levels) and the rows are scaled
        fixed = arrays.integer | (np.isfinite(lower) & np.isfinite(upper))
        magnitude = np.abs(values)
        if not self.as_stated and len(values) and magnitude.max() > SCALE_SPREAD * magnitude.min():
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
                hs.HighsVarType.kInteger if whole else hs.HighsVarType.kContinuous
                for whole in arrays.integer.tolist()
            ]
        if not self.as_stated:
            self.highs.setOptionValue("small_matrix_value", SMALL_MATRIX_VALUE)
        self._check(self.highs.passModel(lp), "load the model")
        self._row_list = list(constraints)
        self.rows = {id(c): k for k, c in enumerate(constraints)}
        objective = self.problem.objective
        self._set_objective(
            objective if objective is not None else pulp.LpAffineExpression(),
            self.problem.sense == pulp.LpMaximize,
        )

    def _option(self, name: str, value: object) -> None:
        """Set a HiGHS option, unless this session last set it to the same value."""
        if self._options.get(name, _UNSET) != value:
            self.highs.setOptionValue(name, value)
            self._options[name] = value

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
        """Raise :class:`SolverError` when a scaled coefficient is too small for HiGHS to keep.

        HiGHS would drop such a coefficient (or lose it to its tolerances): the model spans
        more orders of magnitude within one row than double precision and the solver's
        tolerances can carry, and any "optimal" found would be optimal for another model.
        """
        tiny = np.flatnonzero(np.abs(scaled) < 10 * SMALL_MATRIX_VALUE)
        if self.as_stated or not len(tiny):
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
        return row_arrays(constraints, self.index)

    def set_start(self, variables: Sequence[pulp.LpVariable], values: np.ndarray) -> None:
        """Offer a point, in the model's units, to build the next run's first basis from."""
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

    def _solve(self) -> SolveResult:
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
            return self._result(self._settle(outcome, limit, ran_out=elapsed >= 0.99 * limit))
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
        ran_out = time.perf_counter() - started >= 0.99 * limit
        return self._result(self._settle(outcome, limit, ran_out=ran_out))

    def _result(self, status: Status) -> SolveResult:
        info = self._info  # read by the last run (a read costs ~8 µs, a small LP's tenth)
        solved = status.solved
        return SolveResult(
            status=status,
            objective=float(info.objective_function_value) / self._cost_scale if solved else None,
            has_duals=solved and not self.is_mip and info.dual_solution_status == 2,
            report={
                "model_status": self.highs.modelStatusToString(self.highs.getModelStatus()),
                "simplex_iterations": int(info.simplex_iteration_count),
                "ipm_iterations": int(info.ipm_iteration_count),
            },
        )

    def _settle(self, outcome: tuple[str, bool], limit: float, *, ran_out: bool) -> Status:
        """Return a run's end as a :class:`Status` (or an error when nothing can be used)."""
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
        """Run HiGHS once with ``method``.

        Return how the run ended (``optimal``, ``infeasible``, ``unbounded`` or ``retry``)
        and whether it holds a primal feasible solution.

        ``robust`` runs with HiGHS's default tolerances and ``presolve``.
        """
        hs = self._hs
        h = self.highs
        self._option("solver", method)
        if self._start is not None:
            idx, values = self._start
            h.setSolution(len(idx), idx, values)
            self._start = None
        # HiGHS's presolve spends up to 40x the solve time on allocation LPs (13 s of 13.3 s
        # on a 1,000 x 200 utilitarian LP, measured in bench/) and never paid off on them;
        # it stays on for MIPs, where it matters.
        self._option("presolve", "choose" if self.is_mip else (presolve if robust else "off"))
        # Fairness rules solve sequences of LPs whose later stages hold what the earlier ones
        # found, and an error there is passed on multiplied by the parties' trade-off ratios
        # (~4,000 on a sparse 500 x 100 market): a first level found 2.2e-8 short with the
        # default tolerances (1e-7) moved later levels by 8e-5 (bench/).
        tolerance = 1e-7 if robust else self.feasibility_tolerance
        self._option("primal_feasibility_tolerance", tolerance)
        self._option("dual_feasibility_tolerance", tolerance)
        if self.is_mip:
            self._option("mip_rel_gap", MIP_GAP)
            # HiGHS's default (1e-6) let a leximin stage breach a risk capacity by 0.474 元 of
            # exposure and hold later stages out of reach; the MIPs here are small
            self._option("mip_feasibility_tolerance", MIP_FEASIBILITY_TOLERANCE)
        h.run()
        status = h.getModelStatus()
        s = hs.HighsModelStatus
        if status == s.kUnboundedOrInfeasible and self.is_mip:
            # presolve could not tell which; the solve without presolve can
            self._option("presolve", "off")
            h.run()
            status = h.getModelStatus()
        self._info = h.getInfo()
        self._solution = None
        has_solution = bool(self._info.primal_solution_status == 2)  # feasible
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
    def _last_solution(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the last run's column values, column duals and row duals (read once a run)."""
        if self._solution is None:
            found = self.highs.getSolution()
            self._solution = (
                np.asarray(found.col_value),
                np.asarray(found.col_dual),
                np.asarray(found.row_dual),
            )
        return self._solution

    def values(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray:
        """Return the values of ``variables`` at the last solution, unscaled."""
        self._require_solution()
        col = self._last_solution()[0]
        idx = self.positions(variables)
        return np.asarray(col[idx] * self._col_scale[idx], dtype=float)

    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        """Return the rows' duals, unscaled (``None`` without duals)."""
        self._require_solution()
        if not self._has_duals():
            return None
        if not len(constraints):
            return np.zeros(0)
        dual = self._last_solution()[2]
        rows = [self.rows[id(c)] for c in constraints]
        return np.asarray(dual[rows] * self._row_scale[rows] / self._cost_scale, dtype=float)

    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        """Return the variables' reduced costs, unscaled (``None`` without duals)."""
        self._require_solution()
        if not self._has_duals():
            return None
        dual = self._last_solution()[1]
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
        top = 0.0
        if expression:
            index = self.index
            at = [index[id(v)] for v in expression]
            # only the objective's own columns are nonzero: scaled and measured alone
            scaled = np.array(list(expression.values()), dtype=float) * self._col_scale[at]
            cost[at] = scaled
            top = float(np.maximum.reduce(np.abs(scaled)))
        # the objective scaled to a largest coefficient of about 1, as the rows are (rint is
        # what np.round does with no decimals, without its Python wrapper)
        self._cost_scale = float(np.exp2(-np.rint(np.log2(top)))) if top > 0 else 1.0
        if len(self._all_columns) != n:
            self._all_columns = np.arange(n, dtype=np.int32)
        self.highs.changeColsCost(n, self._all_columns, cost * self._cost_scale)
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
        if self.as_stated:
            row_scale = np.ones(len(constraints))
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
        """Return the scale factors for columns added with rows.

        Each new column is measured so that its coefficients straddle, in its rows, the
        scale the existing columns give (a new level ``t`` in units of the compared gains, a
        Nash cut's column in log units).
        """
        if self.as_stated:
            return np.ones(len(new_variables))
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
        # integer columns keep their own units; in a MIP bounded ones too (a release column
        # scaled beside binary shares made HiGHS's MIP solver fail), while in an LP a release
        # column, freed later, must straddle its row like any free column (kept at 1 beside a
        # level column in units of 1e-7, leximin's next level came out unbounded)
        fixed = np.array(
            [
                v.cat == pulp.LpInteger
                or (self.is_mip and v.lowBound is not None and v.upBound is not None)
                for v in new_variables
            ],
            dtype=bool,
        )
        grow = (peak > 0) & ~fixed
        # matched to its largest entry, unless its entries spread so far (a level column
        # meeting parties whose weights are 1e12 apart) that the smallest would be lost:
        # then the geometric middle of them
        middle = np.where(peak > 1e6 * low, np.sqrt(peak * low), peak)
        scale[grow] = power_of_two(1.0 / middle[grow])
        return scale


# --- CBC ---------------------------------------------------------------------------------


class HighsBackend:
    r"""Opens :class:`HighsSession`\ s: HiGHS in-process, the model kept live.

    Parameters
    ----------
    as_stated
        Solve the model as PuLP states it: no scaling, HiGHS's own ``small_matrix_value``
        and no refusal of coefficients it would drop. How the engine solved before it scaled
        its models: for tests and comparisons, never for settlements.
    """

    name = "highs"

    def __init__(self, *, as_stated: bool = False) -> None:
        self.as_stated = as_stated

    def open(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
    ) -> HighsSession:
        """Load ``problem`` into a new HiGHS instance."""
        return HighsSession(problem, variables, options, as_stated=self.as_stated)

    def open_arrays(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
        *,
        arrays: ModelArrays,
        rows: Sequence[pulp.LpConstraint],
    ) -> HighsSession:
        """Load a model given by its numbers; its columns are ``variables``, its rows ``rows``.

        ``problem`` holds what is added later (a rule's columns and rows, the objective).
        """
        return HighsSession(
            problem, variables, options, as_stated=self.as_stated, arrays=arrays, rows=rows
        )

    def version(self) -> str:
        """HiGHS's version, ``major.minor.patch``."""
        h = _new_highs()
        return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
