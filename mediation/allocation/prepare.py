"""Prepare a case for a rule.

Preparing gives the case's numeric view, the model, a live session, the ideal points, and
the scale each party's gains are compared on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends import Backend, Session, SolverOptions, Status
from ..case import Case, Policy
from ..errors import SolverError, TimeLimitError
from ..fairness import no_room, own_scale
from ..numeric import CaseIndex, index_case, separable_ideals
from ..rules import Rule
from ..rules.base import Context
from .model import AllocationModel, add_policy_constraints, build_model
from .timing import Timings

__all__ = [
    "REACH",
    "Prepared",
    "Unreachable",
    "comparison",
    "ideal_points",
    "prepare",
    "trouble",
]

#: A no-deal point above what a party can reach by less than this fraction of its own scale
#: counts as reached (the party is held at its ideal): the diagnosis cannot tell so small a
#: gap from solver noise, and a case 1e-7 short ended in "error" instead of a settlement.
REACH = 1e-7


@dataclass
class Prepared:
    """A case made ready for a rule.

    It is what the what-if, sweep and cooperative-game tools reuse without the rest of the
    pipeline.

    ``ideal`` is ``None`` when no allocation meets the hard constraints (and individual
    rationality, when the policy asks for it).
    """

    case: Case
    policy: Policy
    rule: Rule
    options: SolverOptions
    index: CaseIndex
    model: AllocationModel
    session: Session
    ideal: np.ndarray | None

    @property
    def scale(self) -> str:
        """The scale the rule compares gains on.

        It is the policy's, or ``normalized`` for a rule that always normalizes.
        """
        return "normalized" if self.rule.compares == "normalized" else self.policy.scale


@dataclass(frozen=True)
class Unreachable:
    """Parties whose no-deal point is out of reach.

    Under individual rationality no deal exists (``rational``); under Nash's rule these
    parties cannot gain.
    """

    parties: list[int]
    rational: bool


def prepare(
    case: Case,
    policy: Policy,
    rule: Rule,
    *,
    options: SolverOptions,
    backend: Backend,
    timings: Timings,
) -> Prepared:
    """Index ``case``, build its model, open a session on it and find the ideal points.

    The model carries the policy's rows; an ideal point is found for every party.
    """
    with timings.clock("build"):
        index = index_case(case)
        model = build_model(case, index)
        add_policy_constraints(model, policy)
    with timings.clock("ideal"):
        session = backend.open(model.problem, model.variables, options)
        ideal = ideal_points(model, session, policy)
    return Prepared(case, policy, rule, options, index, model, session, ideal)


def ideal_points(model: AllocationModel, session: Session, policy: Policy) -> np.ndarray | None:
    """Return each party's best utility under the hard constraints.

    Individual rationality is added to the hard constraints when the policy asks for it
    (``None``: no allocation meets them).

    With individual rationality the ideal point is taken over the allocations that leave
    nobody below its disagreement point, as in Kalai & Smorodinsky (1975). Issue by
    issue (no LP) when issues do not interact and no disagreement point can bind (all
    at most 0 and no risks); otherwise one LP per party, re-solved warm.
    """
    index = model.index
    rational = policy.individually_rational
    binding = rational and (bool(np.any(index.disagreement > 0)) or bool(index.is_risk.any()))
    if not index.coupled and not binding:
        return separable_ideals(index)
    released = model.policy_release
    if released:
        session.set_bounds(released, np.zeros(len(released)), np.full(len(released), np.inf))
    floors = [index.disagreement] if rational else [np.full(len(index.parties), -np.inf)]
    if rational:  # no-deal points within REACH of reachable count as reached
        floors.append(index.disagreement - REACH * own_scale(index.stake, index.disagreement))
    ideal = np.empty(len(index.parties))
    for floor in floors:
        session.set_bounds(model.u, floor, np.full(len(index.parties), np.inf))
        for p, u in enumerate(model.u):
            session.set_objective(model.expression([(u, 1.0)]), maximize=True)
            status = session.solve().status
            if status == Status.UNKNOWN:
                raise trouble(session.options)
            if not status.solved:
                break
            ideal[p] = session.objective_value()
        else:
            break
    else:
        return None
    if released:
        session.set_bounds(released, np.zeros(len(released)), np.zeros(len(released)))
    return ideal


def comparison(prepared: Prepared) -> Context | Unreachable:
    """Return the rule's context.

    The context gives each party's unit of comparison, who is compared and who is held at
    its no-deal point (the held parties' bounds are set in the session).

    Returns :class:`Unreachable` when a no-deal point is out of reach and the policy or the
    rule needs it reached.
    """
    index, policy, ideal = prepared.index, prepared.policy, prepared.ideal
    assert ideal is not None, "comparison() needs the ideal points"
    disagreement = index.disagreement
    room = ideal - disagreement
    flat = no_room(ideal, disagreement, index.stake)
    below = room < -REACH * own_scale(index.stake, disagreement)  # not even no deal in reach
    if policy.individually_rational and below.any():
        return Unreachable(np.flatnonzero(below).tolist(), rational=True)
    holds_flat = prepared.rule.holds_flat
    if holds_flat and below.any():
        # the rule needs every gain positive; these parties cannot gain at all
        return Unreachable(np.flatnonzero(below).tolist(), rational=False)
    rho = (
        np.where(flat, index.stake, room) if prepared.scale == "normalized" else np.ones_like(room)
    )
    # who takes part in the comparisons, and who is held at its disagreement point: with
    # individual rationality everybody is held and a party with no room is left out of
    # the comparisons (its gain is fixed at 0); a rule that holds flat parties (Nash) holds
    # them; otherwise everybody is compared and nobody held
    if policy.individually_rational:
        compared, held = ~flat, np.ones_like(flat)
    elif holds_flat:
        compared, held = ~flat, flat
    else:
        compared, held = np.ones_like(flat), np.zeros_like(flat)
    compared = compared & index.compared  # a fund or an observer is never compared
    session, model = prepared.session, prepared.model
    if held.any():
        # a no-deal point within REACH above the ideal is held at the ideal
        lower = np.where(held, np.minimum(disagreement, ideal), -np.inf)
        session.set_bounds(model.u, lower, np.full(len(lower), np.inf))
    return Context(
        case=prepared.case,
        policy=policy,
        index=index,
        model=model,
        session=session,
        ideal=ideal,
        rho=rho,
        compared=compared,
        flat=flat,
    )


def trouble(options: SolverOptions) -> SolverError:
    """Return the error for a solve that ended without an answer.

    The error is the deadline, when it has passed (the solve was cut short), else numerical
    trouble.
    """
    if options.seconds_left() <= 2e-3:
        return TimeLimitError("the time limit ran out before any allocation was found; raise it")
    return SolverError("the solver ran into numerical trouble; try the other solver")
