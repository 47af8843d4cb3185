"""Is an allocation the only one that gives every party its utilities? The share ranges, by LP.

Many allocation LPs have a unique optimum in utilities and a whole face of optimal
allocations: two parties that value two goods alike can swap them in any proportion.
:func:`allocation_range` holds every party's utility at a settlement's and asks the solver
for the least and the largest share of each contested interest; a range wider than a
tolerance shows that the settlement's allocation is one of several optima.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..backends import Backend, SolverOptions, Status, resolve_backend
from ..case import Case
from ..case.format11 import levered_problems
from ..comparison import AllocationRange, ShareRange
from ..errors import PolicyError, Problem, SolverError
from ..fairness import no_room
from ..numeric import CaseIndex, index_case
from ..rules import RULES
from ..rules.base import ENVY_SLACK
from ..settlement import Settlement
from .assemble import tidy
from .model import AllocationModel, add_envy_row, add_policy_constraints, build_model

__all__ = [
    "RANGE_SHARE_TOLERANCE",
    "RANGE_UTILITY_TOLERANCE",
    "allocation_range",
    "contested_issues",
    "settlement_shares",
]

logger = logging.getLogger(__name__)

#: How far each party's utility may move in the range LPs, as a fraction of its range
#: (ideal − disagreement; its stake when it has no room to gain): the solver's feasibility
#: tolerance. The hold alone lets a share move by about ``hold · range / value``; at 1e-9 no
#: bundled case's share moved by more than 8e-7 that way (two orders below
#: :data:`RANGE_SHARE_TOLERANCE`; 1e-7 moved one by 6.5e-5), and at 1e-10 the elderly-care
#: case's MIP no longer found the settlement's own allocation within its tolerances.
RANGE_UTILITY_TOLERANCE = 1e-9
#: A share that can move by more than this (a hundredth of a percentage point) while every
#: utility is held makes the allocation not unique.
RANGE_SHARE_TOLERANCE = 1e-4
#: A share within this of its column's bound is at it: no LP is needed on that side.
_AT_BOUND = 1e-12


def contested_issues(index: CaseIndex) -> list[int]:
    """Return the positions of the issues in which more than one party has an interest.

    Only there can shares move: an issue with one interest goes whole to that party.
    """
    return [q for q, ks in enumerate(index.interests_of_issue) if len(ks) > 1]


def settlement_shares(case: Case, settlement: Settlement) -> np.ndarray:
    """Return a settlement's shares per interest, in the case's order of interests.

    Raises
    ------
    PolicyError
        When the settlement is not of ``case`` or has no share for one of its interests.
    """
    if settlement.case_id != case.id:
        raise PolicyError(
            [
                Problem(
                    "settlement.case_id",
                    f"the settlement is of case '{settlement.case_id}', not of '{case.id}'",
                    "wrong_case",
                )
            ]
        )
    out = np.empty(len(case.interests))
    for k, x in enumerate(case.interests):
        share = settlement.shares.get(x.issue, {}).get(x.stakeholder)
        if share is None:
            raise PolicyError(
                [
                    Problem(
                        f"settlement.shares.{x.issue}.{x.stakeholder}",
                        f"the settlement gives no share of '{x.issue}' to '{x.stakeholder}', "
                        "who has an interest in it",
                        "missing",
                    )
                ]
            )
        out[k] = share
    index = index_case(case)
    if not len(index.levers) and not index.funded.any():
        return out
    for q in np.flatnonzero(index.funded).tolist():  # shares of a size: in the model, of amount
        issue = case.issues[q]
        for k in index.interests_of_issue[q].tolist():
            x = case.interests[k]
            out[k] = settlement.amounts.get(issue.id, {}).get(x.stakeholder, 0.0) / issue.amount
    return np.concatenate([out, _lever_columns(case, index, settlement, out)])


def _lever_columns(
    case: Case, index: CaseIndex, settlement: Settlement, shares: np.ndarray
) -> np.ndarray:
    """Return a settlement's lever columns (payments, contributions, options, unit counts)."""
    levers = index.levers
    tail = np.zeros(len(levers))
    for j, (kind, ident) in enumerate(zip(levers.kind, levers.ident, strict=True)):
        if kind == "payment":
            paid = settlement.payments.get(ident)
            tail[j] = 0.0 if paid is None else paid.amount / levers.scale[j]
        elif kind == "contribution":
            given = settlement.contributions.get(ident)
            tail[j] = 0.0 if given is None else given.amount / levers.scale[j]
        elif kind == "option":
            choice, _ = case.option_by_id[ident]
            made = settlement.choices.get(choice.id)
            tail[j] = 1.0 if made is not None and made.chosen == ident else 0.0
    for k, j, units in levers.counts:
        tail[j] = round(float(shares[k]) * units)
    return tail


def _spans(index: CaseIndex, settlement: Settlement) -> np.ndarray:
    """Each party's own scale: its range (ideal − disagreement), or its stake without room."""
    outcomes = [settlement.parties.get(p) for p in index.parties]  # none for funds, observers
    ideal = np.array(
        [np.nan if o is None or o.ideal is None else o.ideal for o in outcomes], dtype=float
    )
    known = ~np.isnan(ideal)
    filled = np.where(known, ideal, index.disagreement)
    flat = ~known | no_room(filled, index.disagreement, index.stake)
    return np.asarray(np.where(flat, index.stake, filled - index.disagreement), dtype=float)


def _model(case: Case, index: CaseIndex, settlement: Settlement) -> AllocationModel:
    """Return the case's hard constraints, with the policy's when an LP rule settled it.

    A procedural rule (Adjusted Winner, claims) takes no policy constraint, so its
    allocation is ranged over the hard constraints alone.
    """
    model = build_model(case, index, name="allocation_range")
    rule = RULES.get(settlement.rule)
    if rule is None or rule.kind != "lp":
        return model
    applied = settlement.provenance.policy
    policy = case.policy.model_copy(update={"proportional": bool(applied.get("proportional"))})
    add_policy_constraints(model, policy)
    if applied.get("envy_free"):
        resource = index.sign > 0
        with_resources = np.flatnonzero(
            np.bincount(index.pair_party[resource], minlength=len(index.parties)) > 0
        ).tolist()
        model.add_rows(
            add_envy_row(model, s, t, slack=ENVY_SLACK)
            for s in with_resources
            for t in range(len(index.parties))
            if s != t
        )
    return model


def allocation_range(
    case: Case,
    settlement: Settlement,
    *,
    utility_tolerance: float = RANGE_UTILITY_TOLERANCE,
    share_tolerance: float = RANGE_SHARE_TOLERANCE,
    solver: str | Backend = "highs",
    time_limit: float = 60.0,
) -> AllocationRange:
    """Return how far each contested share can move while every party keeps its utility.

    Holding every party's utility within ``utility_tolerance`` of its range of the
    settlement's, under the case's hard constraints (red lines, issue totals, capacities,
    extra constraints; and the policy's proportionality and envy-freeness rows when an LP
    rule settled it), one LP finds the least and one the largest share of each interest in
    an issue that more than one party has an interest in. A side is skipped when an
    allocation already seen reaches the share's bound there, and in an issue of two
    interests the second range follows from the first. At most two LPs per contested
    interest, warm re-solves of one model.

    Parameters
    ----------
    case
        The case the settlement is of.
    settlement
        A settlement with an allocation (status ``optimal`` or ``feasible``).
    utility_tolerance
        How far each utility may move, as a fraction of the party's range.
    share_tolerance
        A range wider than this makes the allocation not unique.
    solver
        The backend's name (``highs``, ``cbc``) or a backend object.
    time_limit
        Seconds for all the LPs; the ranges found by then are returned, marked incomplete.

    Returns
    -------
    AllocationRange
        Every contested interest's range, widest first; ``unique`` is false as soon as one
        is wider than ``share_tolerance``.

    Raises
    ------
    PolicyError
        When the settlement has no allocation, is of another case, or the solver is unknown.

    Examples
    --------
    Two parties who value two goods alike: each gets half of what there is, in any mix.

    >>> from mediation.case import load_case
    >>> from mediation import settle
    >>> case = load_case('''
    ... id: twins
    ... title: twins
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues:
    ...   - {id: g, name: G, kind: resource, amount: 1}
    ...   - {id: h, name: H, kind: resource, amount: 1}
    ... interests:
    ...   - {stakeholder: a, issue: g, value: 1}
    ...   - {stakeholder: a, issue: h, value: 1}
    ...   - {stakeholder: b, issue: g, value: 1}
    ...   - {stakeholder: b, issue: h, value: 1}
    ... ''')
    >>> found = allocation_range(case, settle(case))
    >>> found.unique, [(r.issue, r.stakeholder, r.low, r.high) for r in found.ranges][:2]
    (False, [('g', 'a', 0.0, 1.0), ('h', 'a', 0.0, 1.0)])
    """
    started = time.perf_counter()
    levered = levered_problems(case, "the allocation range")
    if levered:
        raise PolicyError(levered)
    if settlement.status not in ("optimal", "feasible"):
        raise PolicyError(
            [
                Problem(
                    "settlement.status",
                    f"the settlement is {settlement.status}: it has no allocation whose "
                    "uniqueness could be checked",
                    "no_allocation",
                )
            ]
        )
    problems = [
        Problem(name, f"must be a positive number, got {value!r}", "not_positive")
        for name, value in (
            ("utility_tolerance", utility_tolerance),
            ("share_tolerance", share_tolerance),
        )
        if not (isinstance(value, int | float) and value > 0)
    ]
    if problems:
        raise PolicyError(problems)
    shares = settlement_shares(case, settlement)
    backend = resolve_backend(solver)
    options = SolverOptions(
        solver=backend.name, time_limit=time_limit, deadline=started + time_limit
    )
    index = index_case(case)
    targets: list[int] = []
    paired: dict[int, int] = {}  # second interest of a two-interest issue -> the first
    for q in contested_issues(index):
        ks = index.interests_of_issue[q].tolist()
        if len(ks) == 2:
            targets.append(ks[0])
            paired[ks[1]] = ks[0]
        else:
            targets.extend(ks)
    low = np.clip(shares.copy(), index.lower, index.upper)
    high = low.copy()
    complete = True
    lps = 0
    if targets:
        model = _model(case, index, settlement)
        session = backend.open(model.problem, model.variables, options)
        utilities = index.utilities(shares)
        hold = utility_tolerance * _spans(index, settlement)
        session.set_bounds(model.u, utilities - hold, utilities + hold)
        for k in sorted(targets):
            for maximize in (False, True):
                side = high if maximize else low
                bound = index.upper[k] if maximize else index.lower[k]
                if abs(side[k] - bound) <= _AT_BOUND:
                    continue
                if options.expired():
                    complete = False
                    break
                session.set_objective(model.expression([(model.x[k], 1.0)]), maximize=maximize)
                try:
                    status = session.solve().status
                except SolverError as exc:
                    logger.warning("range LP of %s on %s failed: %s", k, case.id, exc)
                    complete = False
                    continue
                if not status.solved:
                    complete = False
                    continue
                if status != Status.OPTIMAL:
                    complete = False  # a point, not the extreme
                seen = np.clip(session.values(model.x), index.lower, index.upper)
                np.minimum(low, seen, out=low)
                np.maximum(high, seen, out=high)
            if not complete and options.expired():
                break
        lps = session.solves
    for second, first in paired.items():
        low[second], high[second] = 1.0 - high[first], 1.0 - low[first]
    ranges = [
        ShareRange(
            issue=index.issues[int(index.pair_issue[k])],
            stakeholder=index.parties[int(index.pair_party[k])],
            low=tidy(float(low[k])),
            high=tidy(float(high[k])),
        )
        for k in sorted(k for q in contested_issues(index) for k in index.interests_of_issue[q])
    ]
    ranges.sort(key=lambda r: -r.width)  # stable: ties keep the case's order
    wide = any(r.width > share_tolerance for r in ranges)
    return AllocationRange(
        unique=False if wide else (True if complete else None),
        complete=complete,
        ranges=ranges,
        utility_tolerance=utility_tolerance,
        share_tolerance=share_tolerance,
        lps=lps,
    )
