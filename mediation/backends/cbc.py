"""CBC through PuLP's MPS writer and solution reader, a subprocess per solve: the fallback."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pulp

from ..errors import SolverError, TimeLimitError
from .base import Session, SolveResult, SolverOptions, Status
from .highs import MIP_GAP

__all__ = ["CBC_GRACE", "CbcBackend", "CbcSession"]


class CbcSession(Session):
    """CBC through PuLP's ``COIN_CMD``: each solve writes the problem and runs CBC afresh."""

    def __init__(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
        *,
        path: str | None = None,
    ) -> None:
        super().__init__(problem, variables, options)
        self._path, self._cbc_options = (path, []) if path is not None else _cbc_path()
        self._values: dict[pulp.LpVariable, float] = {}

    def _solve(self) -> SolveResult:
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
            return SolveResult(Status.INFEASIBLE, report={"status": pulp.LpStatus[status]})
        elif status == pulp.LpStatusUnbounded:
            return SolveResult(Status.UNBOUNDED, report={"status": pulp.LpStatus[status]})
        elif solution in (pulp.LpSolutionIntegerFeasible,):
            result = Status.FEASIBLE
        else:
            raise SolverError(f"CBC ended '{pulp.LpStatus[status]}' without a usable solution")
        self._values = {v: (v.varValue if v.varValue is not None else 0.0) for v in self.variables}
        objective = self.problem.objective
        has_duals = not self.is_mip and all(c.pi is not None for c in self.problem.constraints())
        return SolveResult(
            result,
            objective=float(pulp.value(objective)) if objective is not None else 0.0,
            has_duals=has_duals and all(v.dj is not None for v in self.variables),
            report={"status": pulp.LpStatus[status], "solution": pulp.LpSolution[solution]},
        )

    def _run_cbc(self, solver: Any, folder: str) -> None:
        """Do what PuLP's ``COIN_CMD.solve_CBC`` does, under a watchdog and a wall-clock stop.

        PuLP's MPS writer and solution reader are used. CBC is run under :data:`_WATCHDOG`,
        which takes CBC and ``folder`` down with the engine however it ends, and is stopped
        by the wall clock at the time limit plus :data:`CBC_GRACE` seconds should CBC not
        stop by itself.
        """
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
        """Return the values of ``variables`` at the last solution."""
        self._require_solution()
        return np.asarray([self._values[v] for v in variables], dtype=float)

    def row_duals(self, constraints: Sequence[pulp.LpConstraint]) -> np.ndarray | None:
        """Return the rows' duals as CBC reported them (``None`` without duals)."""
        self._require_solution()
        if not self._has_duals():
            return None
        return np.asarray([c.pi for c in constraints], dtype=float)

    def reduced_costs(self, variables: Sequence[pulp.LpVariable]) -> np.ndarray | None:
        """Return the variables' reduced costs as CBC reported them (``None`` without duals)."""
        self._require_solution()
        if not self._has_duals():
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
    """Return the CBC binary and the options it needs.

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


class CbcBackend:
    r"""Opens :class:`CbcSession`\ s: CBC re-solves from scratch at every solve.

    Parameters
    ----------
    path
        A CBC binary to run instead of the one installed (cbcbox's, or ``cbc`` on the
        ``PATH``); it gets no extra options.
    """

    name = "cbc"

    def __init__(self, *, path: str | None = None) -> None:
        self.path = path

    def open(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
    ) -> CbcSession:
        """Check that CBC is installed and prepare to run it on ``problem``."""
        return CbcSession(problem, variables, options, path=self.path)

    def version(self) -> str:
        """Return the cbcbox package's version (PuLP's when cbcbox is absent)."""
        try:
            from importlib.metadata import version

            return f"cbcbox {version('cbcbox')}"
        except Exception:  # the package is absent: report PuLP's own
            return f"pulp {pulp.__version__}"
