"""The Pareto check.

Can any allocation make a party better off and none worse?
"""

from __future__ import annotations

import numpy as np

from ..backends import Session
from ..errors import SolverError
from .model import AllocationModel

__all__ = ["pareto_optimal"]


def pareto_optimal(
    model: AllocationModel, session: Session, utilities: np.ndarray, scale: np.ndarray
) -> bool | None:
    """Whether no allocation under the hard constraints makes a party better off and none worse.

    Solves ``max Σ u_s / scale_s`` subject to the hard constraints and ``u_s ≥ u*_s`` in the
    live session (policy rows released, the rule's own rows are monotone and cannot block an
    improvement), which starts from the rule's final basis. Pareto-optimal when the optimum
    adds nothing beyond solver noise. Leaves the session changed: call it last.

    Returns
    -------
    bool or None
        ``None`` when the check cannot be settled (the time limit, solver trouble).
    """
    slack = 1e-9 * scale
    session.set_bounds(model.u, utilities - slack, np.full(len(utilities), np.inf))
    released = model.policy_release
    if released:
        session.set_bounds(released, np.zeros(len(released)), np.full(len(released), np.inf))
    weights = 1.0 / scale
    session.set_objective(model.utility_expression(weights), maximize=True)
    try:
        status = session.solve().status
    except SolverError:
        return None
    if not status.solved:
        return None
    improvement = session.objective_value() - float(np.dot(weights, utilities))
    if status.value != "optimal":
        return None if improvement <= 1e-6 * max(1, len(utilities)) else False
    return improvement <= 1e-6 * max(1, len(utilities))
