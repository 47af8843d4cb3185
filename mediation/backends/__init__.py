"""Solver backends behind one seam: HiGHS (default, in-process) and CBC (fallback).

Only this package and the formulation (:mod:`mediation.allocation.model`) import PuLP or
highspy. A backend is chosen by name from :data:`BACKENDS`, or passed as an object that
follows the :class:`Backend` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulp

from ..errors import PolicyError, Problem
from .base import (
    FEASIBILITY_TOLERANCE,
    Backend,
    ModelArrays,
    Session,
    SolveResult,
    SolverOptions,
    Status,
    model_arrays,
)
from .cbc import CbcBackend, CbcSession
from .highs import HighsBackend, HighsSession

__all__ = [
    "BACKENDS",
    "FEASIBILITY_TOLERANCE",
    "Backend",
    "CbcBackend",
    "CbcSession",
    "HighsBackend",
    "HighsSession",
    "ModelArrays",
    "Session",
    "SolveResult",
    "SolverOptions",
    "Status",
    "model_arrays",
    "open_session",
    "resolve_backend",
    "solver_version",
]

#: The backends known by name: what ``settle(solver=...)`` and ``--solver`` accept.
BACKENDS: dict[str, Backend] = {"highs": HighsBackend(), "cbc": CbcBackend()}

_VERSIONS: dict[int, str] = {}


def resolve_backend(solver: str | Backend) -> Backend:
    """Return the backend named ``solver`` (or ``solver`` itself when it is a backend).

    Raises
    ------
    PolicyError
        When the name is not in :data:`BACKENDS`, or the object is not a backend.
    """
    if isinstance(solver, str):
        found = BACKENDS.get(solver)
        if found is None:
            known = ", ".join(BACKENDS)
            raise PolicyError(
                [Problem("solver", f"unknown solver '{solver}'; choose one of {known}")]
            )
        return found
    if not isinstance(solver, Backend):
        raise PolicyError(
            [
                Problem(
                    "solver",
                    f"expected a solver name ({', '.join(BACKENDS)}) or a Backend, got "
                    f"{type(solver).__name__}",
                )
            ]
        )
    return solver


def open_session(
    problem: pulp.LpProblem,
    variables: Sequence[pulp.LpVariable],
    options: SolverOptions | None = None,
    backend: str | Backend | None = None,
) -> Session:
    """Load ``problem`` (whose columns are exactly ``variables``, in this order) into a solver.

    ``backend`` defaults to the one named by ``options.solver``.

    Raises
    ------
    SolverError
        When the chosen solver is not available on this machine.
    """
    options = options or SolverOptions()
    return resolve_backend(options.solver if backend is None else backend).open(
        problem, variables, options
    )


def solver_version(backend: Backend) -> str:
    """Return the backend's version string, asked once per backend object."""
    key = id(backend)
    if key not in _VERSIONS:
        _VERSIONS[key] = backend.version()
    return _VERSIONS[key]
