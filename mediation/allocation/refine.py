"""Refine a rule's allocation: the risk-control tie-break, and solver noise clipped."""

from __future__ import annotations

import numpy as np

from ..errors import SolverError
from ..numeric import CaseIndex
from ..rules.base import Context

__all__ = ["HOLD_UTILITY", "clean_shares", "control_tiebreak"]

#: Slack, relative to a party's unit of comparison, when its utility is held while something
#: else is optimised (the risk-control tie-break).
HOLD_UTILITY = 1e-9


def control_tiebreak(ctx: Context, shares: np.ndarray) -> np.ndarray:
    """Put risks on the parties best able to control them, keeping every party's utility.

    Among allocations giving every party the same utility, choose the one that puts risks
    on the parties best able to control them (the PPP principle); a no-op when no risk
    interest has ``control``.

    The policy's constraints stay (envy rows are still added as needed, through
    ``ctx.solve``); if the refinement fails, the rule's allocation stands.
    """
    model, session = ctx.model, ctx.session
    terms = [
        (model.x[k], float(x.control))
        for k, x in enumerate(ctx.case.interests)
        if x.control is not None and x.control > 0
    ]
    if not terms:
        return shares
    utilities = session.values(model.u)
    session.set_bounds(model.u, utilities - HOLD_UTILITY * ctx.rho, np.full(len(utilities), np.inf))
    session.set_objective(model.expression(terms), maximize=True)
    try:
        status = ctx.solve()
    except SolverError:
        return shares
    return session.values(model.x) if status.solved else shares


#: A share this close to one of its bounds (0, 1, a floor or a cap) is at it: the rest is
#: the solver's tolerance, and a settlement reports the bound itself.
SNAP = 1e-9


#: A lever (a payment's or contribution's amount ÷ its most) this close to a bound is at it:
#: the solver meets the rows within its feasibility tolerance (~1e-7), and a payment its
#: reasons call "at its most" is reported at its most, to the cent.
LEVER_SNAP = 1e-7


def clean_shares(index: CaseIndex, shares: np.ndarray) -> np.ndarray:
    """Clip solver noise: shares within their bounds, indivisible issues exactly 0 or 1.

    A share within :data:`SNAP` of a bound is set to the bound; each issue's shares still
    sum to 1 (what clipping and snapping moved is given back to the shares with room).
    """
    n, levers = index.n, index.levers
    tail = None
    if len(levers) and len(shares) > n:
        tail = np.clip(shares[n:], levers.lower, levers.upper)
        for bound in (levers.lower, levers.upper):
            tail = np.where(np.abs(tail - bound) <= LEVER_SNAP, bound, tail)
        tail = np.where(levers.integer, np.round(tail), tail)
        shares = shares[:n]
    shares = np.clip(shares, index.lower, index.upper)
    for bound in (index.lower, index.upper):
        shares = np.where(np.abs(shares - bound) <= SNAP, bound, shares)
    whole = ~index.divisible[index.pair_issue]
    shares = np.where(whole, np.round(shares), shares)
    shares = np.where(np.abs(shares) < 1e-12, 0.0, shares)
    target = np.ones(len(index.issues))
    if tail is not None:
        for k, j, units in levers.counts:  # a share in whole units is its count ÷ units
            shares[k] = tail[j] / units
        for q, columns in levers.funding.items():  # a funded issue's shares add up to its size
            target[q] = float(levers.scale[columns] @ tail[columns]) / float(index.amount[q])
    # clipping a share the solver left just outside its bound (within its feasibility
    # tolerance, ~1e-8) moves the issue's total off 1: give the difference back to the
    # shares with room for it
    residual = target - np.bincount(index.pair_issue, weights=shares, minlength=len(index.issues))
    if levers.counts:
        residual[[int(index.pair_issue[k]) for k, _, _ in levers.counts]] = 0.0
    for q in np.flatnonzero((np.abs(residual) > 1e-12) & index.divisible).tolist():
        ks = index.interests_of_issue[q]
        up = residual[q] > 0
        room = index.upper[ks] - shares[ks] if up else shares[ks] - index.lower[ks]
        left = abs(float(residual[q]))
        for j in np.argsort(-room, kind="stable").tolist():
            step = min(left, float(room[j]))
            shares[ks[j]] += step if up else -step
            left -= step
            if left <= 0.0:
                break
    return shares if tail is None else np.concatenate([shares, tail])
