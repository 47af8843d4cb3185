"""A scripted backend: HiGHS, with chosen solves ending otherwise.

Tests make the solver fail, stop at the time limit or lose its duals through the public
:class:`~mediation.backends.Backend` seam (``settle(case, solver=ScriptedBackend(...))``),
never by patching a solver's private methods.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulp

from mediation.backends import HighsBackend, HighsSession, SolveResult, SolverOptions, Status
from mediation.errors import SolverError

__all__ = [
    "ScriptedBackend",
    "fails_after",
    "only_first_stopped",
    "raises",
    "stopped",
    "stopped_from",
]

#: ``script(n, solve)``: the result of solve number ``n`` (0 first); ``solve()`` runs the real
#: solve and returns its result.
Script = Callable[[int, Callable[[], SolveResult]], SolveResult]


class ScriptedSession(HighsSession):
    """A HiGHS session whose solves go through a script."""

    def __init__(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
        script: Script,
    ) -> None:
        super().__init__(problem, variables, options)
        self.script = script

    def solve(self) -> SolveResult:
        n = self.solves
        try:
            self.result = self.script(n, lambda: HighsSession.solve(self))
        finally:
            self.solves = max(self.solves, n + 1)
        return self.result


class ScriptedBackend:
    """HiGHS, each solve's result chosen by ``script`` (see :data:`Script`)."""

    name = "highs"

    def __init__(self, script: Script) -> None:
        self.script = script

    def open(
        self,
        problem: pulp.LpProblem,
        variables: Sequence[pulp.LpVariable],
        options: SolverOptions,
    ) -> ScriptedSession:
        return ScriptedSession(problem, variables, options, self.script)

    def version(self) -> str:
        return HighsBackend().version()


def stopped(n: int, solve: Callable[[], SolveResult]) -> SolveResult:
    """Every solve ends as one stopped at the time limit with a solution: no duals."""
    return solve().stopped()


def stopped_from(first: int) -> Script:
    """Return a script that ends the solves from number ``first`` on as stopped at the time limit.

    The first ``first`` solves end normally.
    """

    def script(n: int, solve: Callable[[], SolveResult]) -> SolveResult:
        result = solve()
        return result.stopped() if n >= first else result

    return script


def only_first_stopped(n: int, solve: Callable[[], SolveResult]) -> SolveResult:
    """Stop the first solve at the time limit (no duals); let the later ones reach the optimum."""
    result = solve()
    return result.stopped() if n == 0 else result


def fails_after(solves: int, status: Status = Status.INFEASIBLE) -> Script:
    """Run the first ``solves`` solves normally and end the later ones with ``status``."""

    def script(n: int, solve: Callable[[], SolveResult]) -> SolveResult:
        result = solve()
        return result if n < solves else SolveResult(status)

    return script


def raises(error: SolverError, *, after: int = 0) -> Script:
    """Solves from number ``after`` on raise ``error``."""

    def script(n: int, solve: Callable[[], SolveResult]) -> SolveResult:
        if n >= after:
            raise error
        return solve()

    return script
