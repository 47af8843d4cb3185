"""Brams and Taylor's Adjusted Winner: two parties, 100 points each, at most one issue split."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..backends import Status
from ..case import Case, Policy
from ..errors import PolicyError, Problem
from ..numeric import CaseIndex
from ..reasons import AwEquitable, AwSplit, AwTransfer, AwWinner, Reason
from .base import Context, ProcedureSteps, RuleResult

__all__ = [
    "NAME",
    "POINTS_TOTAL",
    "AdjustedWinnerOutcome",
    "adjusted_winner",
    "allocate",
    "case_problems",
    "solve",
]

POINTS_TOTAL = 100.0
"""The points each party distributes over the issues."""

_TOTAL_TOLERANCE = 1e-6
# Point differences this small are rounding in sums of the parties' points, not a lead: without
# this, a gap of 1e-14 left by a transfer would "split" the next issue at a fraction of 1 - 1e-16.
_ROUNDING = 1e-9

_PARTIES = ("a", "b")


@dataclass(frozen=True, slots=True)
class AdjustedWinnerOutcome:
    """The result of :func:`adjusted_winner`, with the steps that led to it.

    Attributes
    ----------
    share_a : dict of str to float
        Party a's share of each issue, in [0, 1]; party b holds the rest. Exactly one issue at
        most has a share strictly between 0 and 1.
    initial_winner : dict of str to str
        ``"a"`` or ``"b"``: who held each issue after the winner phase, tied issues included.
    transfers : list of str
        The issues moved in the adjusted phase from the party that led after the winner phase
        to the other, in the order moved; the last one may be moved only in part.
    split_issue : str or None
        The issue divided between the parties, or None when no issue is divided.
    split_fraction : float or None
        The fraction of ``split_issue`` its initial winner keeps, in (0, 1); None without split.
    points_a, points_b : float
        Each party's final total in its own points; they are equal.
    ratios : dict of str to float
        Each issue's ``points_a / points_b``: infinite when only party a values it, 1 when
        neither does. The adjusted phase moves the leader's issues in increasing order of the
        leader's ratio (this ratio for a leading party a, its reciprocal for a leading b).
    """

    share_a: dict[str, float]
    initial_winner: dict[str, str]
    transfers: list[str]
    split_issue: str | None
    split_fraction: float | None
    points_a: float
    points_b: float
    ratios: dict[str, float]


def adjusted_winner(
    points_a: Mapping[str, float], points_b: Mapping[str, float]
) -> AdjustedWinnerOutcome:
    """Divide issues between two parties by Brams and Taylor's Adjusted Winner procedure.

    Each party spreads 100 points over the same issues. The procedure:

    1. *Winner phase.* Each issue goes to the party that gives it more points. Issues both
       give the same points (including issues neither values) go, as in Brams and Taylor's
       worked divorce example, to the party that trails on the issues won outright; when both
       trail equally they go to party a — the only place where the labels a and b matter.
    2. *Adjusted phase.* If the totals differ, the leader (more points) hands its issues to
       the other party one by one in increasing order of the ratio leader's points / other's
       points (all >= 1; issues only the leader values come last), ties in the ratio broken
       by increasing issue id. An issue whose whole transfer would put the other party ahead
       is split: if the leader keeps the fraction ``p`` of issue ``i`` it solves
       ``leader_total - (1 - p) * l_i == other_total + (1 - p) * o_i``, i.e.
       ``1 - p = (leader_total - other_total) / (l_i + o_i)``. The procedure then stops.
       Issues neither party values are never moved: moving them changes no total.

    The result is equitable (equal final points), envy-free (each party values its own
    bundle at least as much as the other's) and efficient (no other division gives both at
    least as much and one more), with at most one issue split. The tie conventions only decide
    which of several interchangeable issues is moved or split: the final points are the same
    under any of them, since the efficient frontier crosses the line of equal points once.
    Differences below 1e-9 points are treated as rounding.

    Parameters
    ----------
    points_a, points_b : mapping of str to float
        Each party's points on the same issues: finite, ``>= 0``, adding up to 100 (within
        1e-6).

    Returns
    -------
    AdjustedWinnerOutcome
        The shares, the winner phase, the transfers, the split and the final totals.

    Raises
    ------
    PolicyError
        If the parties score different issues, a score is negative or not finite, or a
        party's points do not add up to 100. Every problem found is reported.

    Examples
    --------
    Brams and Taylor's divorce example, Carol as party a and Bob as party b:

    >>> carol = {"retirement": 50, "home": 20, "cottage": 15, "investments": 10, "other": 5}
    >>> bob = {"retirement": 40, "home": 30, "cottage": 10, "investments": 10, "other": 10}
    >>> outcome = adjusted_winner(carol, bob)
    >>> outcome.transfers, outcome.split_issue, round(outcome.split_fraction, 4)
    (['retirement'], 'retirement', 0.8333)
    >>> round(outcome.points_a, 4), round(outcome.points_b, 4)
    (56.6667, 56.6667)

    References
    ----------
    .. [1] S. J. Brams and A. D. Taylor, *Fair Division: From Cake-Cutting to Dispute
       Resolution*, Cambridge University Press, 1996, ch. 4. ISBN 978-0-521-55644-6.
    .. [2] S. J. Brams and A. D. Taylor, *The Win-Win Solution: Guaranteeing Fair Shares to
       Everybody*, W. W. Norton, 1999. ISBN 0-393-32081-2.
    """
    _raise_on_problems(points_a, points_b)
    issues = list(points_a)
    values = {
        "a": {i: float(points_a[i]) for i in issues},
        "b": {i: float(points_b[i]) for i in issues},
    }
    a, b = values["a"], values["b"]

    initial_winner: dict[str, str] = {}
    tied: list[str] = []
    for i in issues:
        if a[i] == b[i]:
            tied.append(i)
        else:
            initial_winner[i] = "a" if a[i] > b[i] else "b"
    outright = {
        p: math.fsum(values[p][i] for i, w in initial_winner.items() if w == p) for p in _PARTIES
    }
    trailer = "b" if outright["b"] < outright["a"] else "a"
    for i in tied:
        initial_winner[i] = trailer
    initial_winner = {i: initial_winner[i] for i in issues}

    share_a = {i: 1.0 if initial_winner[i] == "a" else 0.0 for i in issues}
    totals = {
        p: math.fsum(values[p][i] for i in issues if initial_winner[i] == p) for p in _PARTIES
    }
    transfers: list[str] = []
    split_issue: str | None = None
    split_fraction: float | None = None
    gap = abs(totals["a"] - totals["b"])
    if gap > _ROUNDING:
        leader = "a" if totals["a"] > totals["b"] else "b"
        other = "b" if leader == "a" else "a"
        lead, follow = values[leader], values[other]
        movable = [i for i in issues if initial_winner[i] == leader and lead[i] > 0]
        movable.sort(key=lambda i: (_ratio(lead[i], follow[i]), i))
        for i in movable:
            transfers.append(i)
            swing = lead[i] + follow[i]  # how much a whole transfer narrows the gap
            if swing <= gap + _ROUNDING:
                share_a[i] = 1.0 - share_a[i]
                gap -= swing
            else:
                split_issue, split_fraction = i, 1.0 - gap / swing
                share_a[i] = split_fraction if leader == "a" else 1.0 - split_fraction
                break
            if gap <= _ROUNDING:
                break

    return AdjustedWinnerOutcome(
        share_a=share_a,
        initial_winner=initial_winner,
        transfers=transfers,
        split_issue=split_issue,
        split_fraction=split_fraction,
        points_a=math.fsum(share_a[i] * a[i] for i in issues),
        points_b=math.fsum((1.0 - share_a[i]) * b[i] for i in issues),
        ratios={i: _ratio(a[i], b[i]) for i in issues},
    )


def _ratio(numerator: float, denominator: float) -> float:
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else 1.0


def _raise_on_problems(points_a: Mapping[str, float], points_b: Mapping[str, float]) -> None:
    problems: list[Problem] = []
    for party, points, other_party, other in (
        ("a", points_a, "b", points_b),
        ("b", points_b, "a", points_a),
    ):
        field = f"points_{party}"
        problems.extend(
            Problem(
                f"points_{other_party}[{issue!r}]",
                f"party {party} scores issue {issue!r} but party {other_party} does not",
            )
            for issue in points
            if issue not in other
        )
        bad = False
        for issue, value in points.items():
            if not math.isfinite(value) or value < 0:
                bad = True
                problems.append(
                    Problem(
                        f"{field}[{issue!r}]",
                        f"party {party}'s points on issue {issue!r} must be a finite number "
                        f">= 0, not {value}",
                    )
                )
        if not bad:
            total = math.fsum(points.values())
            if abs(total - POINTS_TOTAL) > _TOTAL_TOLERANCE:
                problems.append(
                    Problem(
                        field,
                        f"party {party}'s points add up to {total}, not {POINTS_TOTAL:g} "
                        f"(tolerance {_TOTAL_TOLERANCE:g})",
                    )
                )
    if problems:
        raise PolicyError(problems)


# --- the rule in the engine ----------------------------------------------------------------

NAME = "adjusted_winner"


def case_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why Adjusted Winner cannot settle ``case``.

    It needs exactly two parties with equal entitlements, every issue a divisible resource
    in which both have an interest, each party's values summing to 100 points, and no red
    lines or extra constraints (the procedure does not take them).
    """
    problems: list[Problem] = []
    if len(case.stakeholders) != 2:
        problems.append(
            Problem(
                "stakeholders",
                f"Adjusted Winner is for two parties, the case has {len(case.stakeholders)}",
            )
        )
        return problems
    if case.stakeholders[0].weight != case.stakeholders[1].weight:
        problems.append(
            Problem(
                "stakeholders",
                "Adjusted Winner gives both parties the same 100 "
                "points: their weights must be equal",
            )
        )
    if case.constraints:
        problems.append(Problem("constraints", "Adjusted Winner takes no extra constraints"))
    parties = [s.id for s in case.stakeholders]
    for q, issue in enumerate(case.issues):
        if issue.kind != "resource" or not issue.divisible:
            problems.append(
                Problem(
                    f"issues[{q}]",
                    f"Adjusted Winner divides divisible resources; '{issue.id}' is not one",
                )
            )
        holders = {x.stakeholder for x in case.interests_by_issue[issue.id]}
        for party in parties:
            if party not in holders:
                problems.append(
                    Problem(
                        f"issues[{q}]",
                        f"'{party}' has no interest in '{issue.id}'; "
                        "give it one (value 0 if it does not care)",
                    )
                )
    for k, x in enumerate(case.interests):
        if x.min_share is not None or x.max_share is not None:
            problems.append(
                Problem(f"interests[{k}]", "Adjusted Winner takes no min_share/max_share")
            )
    for party in parties:
        total = sum(x.value for x in case.interests_by_stakeholder[party])
        if abs(total - POINTS_TOTAL) > _TOTAL_TOLERANCE:
            problems.append(
                Problem(
                    "interests",
                    f"'{party}' spreads {total:g} points; Adjusted Winner "
                    f"needs exactly {POINTS_TOTAL:g}",
                )
            )
    return problems


def allocate(case: Case, policy: Policy, index: CaseIndex) -> tuple[np.ndarray, list[Reason]]:
    """Shares (per interest) and the reasons: the winner phase, the transfers, the split."""
    a, b = (s.id for s in case.stakeholders)
    points = {a: {}, b: {}}  # type: dict[str, dict[str, float]]
    for x in case.interests:
        points[x.stakeholder][x.issue] = x.value
    outcome = adjusted_winner(points[a], points[b])
    shares = np.array(
        [
            outcome.share_a[x.issue] if x.stakeholder == a else 1.0 - outcome.share_a[x.issue]
            for x in case.interests
        ]
    )
    name = {"a": a, "b": b}
    steps: list[Reason] = [
        AwWinner(
            issue=issue,
            stakeholder=name[winner],
            points={a: points[a][issue], b: points[b][issue]},
        )
        for issue, winner in outcome.initial_winner.items()
    ]
    for issue in outcome.transfers:
        giver = name[outcome.initial_winner[issue]]
        steps.append(
            AwTransfer(
                issue=issue,
                stakeholder=giver,
                to=b if giver == a else a,
                ratio=outcome.ratios[issue],
                partial=issue == outcome.split_issue,
            )
        )
    if outcome.split_issue is not None:
        keeper = name[outcome.initial_winner[outcome.split_issue]]
        steps.append(
            AwSplit(issue=outcome.split_issue, stakeholder=keeper, kept=outcome.split_fraction)
        )
    steps.append(AwEquitable(points={a: outcome.points_a, b: outcome.points_b}))
    return shares, steps


def solve(ctx: Context) -> RuleResult:
    """Return the procedure's allocation of ``ctx.case`` under ``ctx.policy`` (no LP)."""
    shares, steps = allocate(ctx.case, ctx.policy, ctx.index)
    return RuleResult(Status.OPTIMAL, shares=shares, details=ProcedureSteps(steps))
