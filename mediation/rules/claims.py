"""Claims (bankruptcy) rules: ration an estate among claims that together exceed it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..backends import Status
from ..case import Case, Interest, Policy
from ..errors import PolicyError, Problem
from ..numeric import CaseIndex
from ..reasons import ClaimsAwarded, Reason
from .base import Context, ProcedureSteps, RuleResult

__all__ = [
    "METHODS",
    "NAME",
    "allocate",
    "award",
    "case_problems",
    "equal_awards_level",
    "equal_losses_level",
    "solve",
]

METHODS: tuple[str, ...] = (
    "proportional",
    "constrained_equal_awards",
    "constrained_equal_losses",
    "talmud",
)
"""The names accepted by :func:`award`, in the order the case format lists them."""

# An estate above the total claim by at most this relative amount is rounding in the caller's
# own sum of the claims, not a surplus to hand out; it is treated as the total claim.
_SURPLUS_TOLERANCE = 1e-9


def award(estate: float, claims: Sequence[float], method: str = "proportional") -> list[float]:
    """Divide an estate among claimants whose claims add up to at least the estate.

    Every rule is efficient (the awards sum to the estate), bounded (each award lies between
    0 and the claim), order preserving (a larger claim gets no less and loses no less) and
    treats equal claims equally. With ``E`` the estate and ``c`` the claims:

    ``proportional``
        ``award_i = E * c_i / sum(c)`` (all zero when every claim is zero).
    ``constrained_equal_awards``
        ``award_i = min(c_i, λ)`` with λ chosen so that the awards sum to ``E``
        (see :func:`equal_awards_level`).
    ``constrained_equal_losses``
        ``award_i = max(0, c_i - μ)`` with μ chosen so that the awards sum to ``E``
        (see :func:`equal_losses_level`).
    ``talmud``
        Aumann and Maschler's rule, with half-claims ``h_i = c_i / 2``. If ``E <= sum(c) / 2``
        the estate is divided by constrained equal awards on the half-claims:
        ``award_i = min(h_i, λ)`` with ``sum(award) = E``. If ``E >= sum(c) / 2`` it is the
        losses that are divided that way, ``c_i - award_i = min(h_i, λ')`` with
        ``sum(c - award) = sum(c) - E``; equivalently each claimant first gets ``h_i`` and the
        surplus ``E - sum(c) / 2`` is divided by constrained equal losses on the half-claims,
        ``award_i = h_i + max(0, h_i - μ)``. At ``E = sum(c) / 2`` both give ``h_i``.

    The levels are found exactly by sorting the claims (O(n log n)); no iterative search.

    Parameters
    ----------
    estate : float
        What there is to divide, ``0 <= estate <= sum(claims)``. An estate above the total
        claim by no more than a relative 1e-9 (rounding in the caller's sum) is treated as
        equal to it.
    claims : sequence of float
        Each claimant's claim, ``>= 0``; the awards come back in the same order.
    method : str, default "proportional"
        One of :data:`METHODS`.

    Returns
    -------
    list of float
        The award of each claimant, in the order of ``claims``.

    Raises
    ------
    PolicyError
        If the estate or a claim is negative or not finite, if the estate exceeds the total
        claim, or if the method is unknown. Every problem found is reported.

    Examples
    --------
    The Talmud's estate of 200 for claims of 100, 200 and 300:

    >>> award(200, [100, 200, 300], "talmud")
    [50.0, 75.0, 75.0]
    >>> award(200, [100, 200, 300], "proportional")
    [33.33333333333333, 66.66666666666666, 100.0]
    >>> award(200, [100, 200, 300], "constrained_equal_losses")
    [0.0, 50.0, 150.0]

    References
    ----------
    .. [1] B. O'Neill, "A problem of rights arbitration from the Talmud", Mathematical
       Social Sciences 2(4), 345-371, 1982. https://doi.org/10.1016/0165-4896(82)90029-4
    .. [2] R. J. Aumann and M. Maschler, "Game theoretic analysis of a bankruptcy problem
       from the Talmud", Journal of Economic Theory 36(2), 195-213, 1985.
       https://doi.org/10.1016/0022-0531(85)90102-4
    .. [3] W. Thomson, "Axiomatic and game-theoretic analysis of bankruptcy and taxation
       problems: a survey", Mathematical Social Sciences 45(3), 249-297, 2003.
       https://doi.org/10.1016/S0165-4896(02)00070-7
    """
    problems = _problems(estate, claims)
    rule = _RULES.get(method)
    if rule is None:
        known = ", ".join(METHODS)
        problems.append(Problem("method", f"unknown claims method {method!r}; use one of {known}"))
    if problems or rule is None:
        raise PolicyError(problems)
    estate_, claims_ = _checked(estate, claims)
    return rule(estate_, claims_)


def equal_awards_level(estate: float, claims: Sequence[float]) -> float:
    """Return the level λ of constrained equal awards: ``sum(min(c_i, λ)) == estate``.

    λ is unique except when the estate covers every claim, where any λ at or above the
    largest claim works; the smallest one, the largest claim, is returned (0 without claims).

    Parameters
    ----------
    estate : float
        What there is to divide, ``0 <= estate <= sum(claims)``.
    claims : sequence of float
        The claims, each ``>= 0``.

    Returns
    -------
    float
        λ: claims up to λ are paid in full, larger claims receive exactly λ.

    Raises
    ------
    PolicyError
        On a negative or non-finite estate or claim, or an estate above the total claim.

    Examples
    --------
    >>> equal_awards_level(400, [100, 200, 300])
    150.0

    References
    ----------
    .. [1] W. Thomson, "Axiomatic and game-theoretic analysis of bankruptcy and taxation
       problems: a survey", Mathematical Social Sciences 45(3), 249-297, 2003.
       https://doi.org/10.1016/S0165-4896(02)00070-7
    """
    _raise_on_problems(estate, claims)
    return _awards_level(*_checked(estate, claims))


def equal_losses_level(estate: float, claims: Sequence[float]) -> float:
    """Return the level μ of constrained equal losses: ``sum(max(0, c_i - μ)) == estate``.

    μ is every claimant's loss unless the claim is smaller, in which case the whole claim is
    lost. It is unique except for an estate of 0, where any μ at or above the largest claim
    works; the smallest one, the largest claim, is returned (0 without claims).

    Parameters
    ----------
    estate : float
        What there is to divide, ``0 <= estate <= sum(claims)``.
    claims : sequence of float
        The claims, each ``>= 0``.

    Returns
    -------
    float
        μ: claims above μ receive their excess over μ, the others nothing.

    Raises
    ------
    PolicyError
        On a negative or non-finite estate or claim, or an estate above the total claim.

    Examples
    --------
    >>> equal_losses_level(200, [100, 200, 300])
    150.0

    References
    ----------
    .. [1] W. Thomson, "Axiomatic and game-theoretic analysis of bankruptcy and taxation
       problems: a survey", Mathematical Social Sciences 45(3), 249-297, 2003.
       https://doi.org/10.1016/S0165-4896(02)00070-7
    """
    _raise_on_problems(estate, claims)
    return _losses_level(*_checked(estate, claims))


def _problems(estate: float, claims: Sequence[float]) -> list[Problem]:
    problems: list[Problem] = []
    if not math.isfinite(estate) or estate < 0:
        problems.append(Problem("estate", f"the estate must be a finite number >= 0, not {estate}"))
    for i, claim in enumerate(claims):
        if not math.isfinite(claim) or claim < 0:
            message = f"claimant {i}'s claim must be a finite number >= 0, not {claim}"
            problems.append(Problem(f"claims[{i}]", message))
    if problems:
        return problems
    try:
        total = math.fsum(claims)
    except OverflowError:
        return [Problem("claims", "the total claim is too large to represent as a float")]
    if estate > total * (1 + _SURPLUS_TOLERANCE):
        message = f"the estate {estate} exceeds the total claim {total}: nothing to ration"
        problems.append(Problem("estate", message))
    return problems


def _raise_on_problems(estate: float, claims: Sequence[float]) -> None:
    problems = _problems(estate, claims)
    if problems:
        raise PolicyError(problems)


def _checked(estate: float, claims: Sequence[float]) -> tuple[float, list[float]]:
    """Return the validated problem as floats, the estate capped at the total claim."""
    claims_ = [float(c) for c in claims]
    return min(float(estate), math.fsum(claims_)), claims_


def _awards_level(estate: float, claims: list[float]) -> float:
    # Pay the smallest claims in full while the rest of the estate, shared equally among the
    # claimants not yet paid, would exceed the next claim; the share at the stop is λ.
    ordered = sorted(claims)
    remaining = len(ordered)
    paid = 0.0
    floor = 0.0
    for claim in ordered:
        left = estate - paid
        if left <= remaining * claim:
            # rounding must neither put λ below a claim already paid in full nor above the
            # claim that stopped it (1048576.537905 / 3 came out above three equal claims)
            return min(max(left / remaining, floor), claim)
        paid += claim
        floor = claim
        remaining -= 1
    return floor


def _losses_level(estate: float, claims: list[float]) -> float:
    # The k largest claims lose down to the (k+1)-th claim; stop at the first k for which that
    # already leaves no more than the estate, and share the exact loss among those k.
    ordered = sorted(claims, reverse=True)
    top = 0.0
    for k, claim in enumerate(ordered, start=1):
        top += claim
        next_claim = ordered[k] if k < len(ordered) else 0.0
        excess = top - estate
        if excess >= k * next_claim:
            # max(): rounding must not put μ below a claim that receives nothing.
            return max(excess / k, next_claim)
    return 0.0


def _proportional(estate: float, claims: list[float]) -> list[float]:
    total = math.fsum(claims)
    if total == 0:
        return [0.0] * len(claims)
    rate = estate / total  # <= 1 even after rounding, so no award exceeds its claim
    return [rate * c for c in claims]


def _equal_awards(estate: float, claims: list[float]) -> list[float]:
    level = _awards_level(estate, claims)
    return [min(c, level) for c in claims]


def _equal_losses(estate: float, claims: list[float]) -> list[float]:
    level = _losses_level(estate, claims)
    return [max(0.0, c - level) for c in claims]


def _talmud(estate: float, claims: list[float]) -> list[float]:
    halves = [c / 2 for c in claims]
    half_total = math.fsum(claims) / 2
    if estate <= half_total:
        return _equal_awards(estate, halves)
    level = _losses_level(estate - half_total, halves)
    return [h + max(0.0, h - level) for h in halves]


_RULES: dict[str, Callable[[float, list[float]], list[float]]] = {
    "proportional": _proportional,
    "constrained_equal_awards": _equal_awards,
    "constrained_equal_losses": _equal_losses,
    "talmud": _talmud,
}


# --- the rule in the engine ----------------------------------------------------------------

NAME = "claims"


class ClaimsOptions(BaseModel):
    """The claims rule's options: which method divides the amount."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal[
        "proportional", "constrained_equal_awards", "constrained_equal_losses", "talmud"
    ] = "proportional"


def case_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why the claims rule cannot settle ``case``: it rations resources among claims only.

    Every issue must be a divisible resource whose interests all carry a ``claim`` and whose
    claims add up to at least its amount; red lines, capacities and extra constraints are not
    taken, nor can envy-freeness or proportionality be promised.
    """
    problems: list[Problem] = []
    if policy.envy_free or policy.proportional:
        problems.append(
            Problem(
                "policy",
                "the claims rule cannot promise envy-freeness or "
                "proportionality; use leximin or nash",
            )
        )
    if case.constraints:
        problems.append(Problem("constraints", "the claims rule takes no extra constraints"))
    for q, issue in enumerate(case.issues):
        if issue.kind != "resource" or not issue.divisible:
            problems.append(
                Problem(
                    f"issues[{q}]",
                    f"the claims rule rations divisible resources; '{issue.id}' is not one",
                )
            )
            continue
        total = 0.0
        for x in case.interests_by_issue[issue.id]:
            if x.claim is None:
                problems.append(
                    Problem(
                        f"interests[{_position(case, x)}].claim",
                        f"'{x.stakeholder}' states no claim on '{issue.id}'",
                    )
                )
            else:
                total += x.claim
            if x.min_share is not None or x.max_share is not None:
                problems.append(
                    Problem(
                        f"interests[{_position(case, x)}]",
                        "the claims rule takes no min_share/max_share",
                    )
                )
        if total < issue.amount * (1 - _SURPLUS_TOLERANCE):
            problems.append(
                Problem(
                    f"issues[{q}]",
                    f"claims on '{issue.id}' total {total:g}, less "
                    f"than its amount {issue.amount:g}: nothing to ration",
                )
            )
    return problems


def options_of(policy: Policy) -> ClaimsOptions:
    """Return the claims rule's options in ``policy`` (format 1.x spells the method ``method``)."""
    return ClaimsOptions(method=policy.method)


def allocate(case: Case, policy: Policy, index: CaseIndex) -> tuple[np.ndarray, list[Reason]]:
    """Shares (award / amount, per interest) and the reasons, issue by issue."""
    method = options_of(policy).method
    shares = np.zeros(len(case.interests))
    steps: list[Reason] = []
    for q, issue in enumerate(case.issues):
        ks = index.interests_of_issue[q]
        claims = [float(case.interests[k].claim or 0.0) for k in ks]
        awards = award(issue.amount, claims, method)
        shares[ks] = np.asarray(awards) / issue.amount
        level = None
        if method == "constrained_equal_awards":
            level = equal_awards_level(issue.amount, claims)
        elif method == "constrained_equal_losses":
            level = equal_losses_level(issue.amount, claims)
        steps.append(
            ClaimsAwarded(
                issue=issue.id,
                method=method,
                awards={case.interests[k].stakeholder: a for k, a in zip(ks, awards, strict=True)},
                claims={case.interests[k].stakeholder: c for k, c in zip(ks, claims, strict=True)},
                level=level,
            )
        )
    return shares, steps


def _position(case: Case, interest: Interest) -> int:
    return case.interests.index(interest)


def solve(ctx: Context) -> RuleResult:
    """Return the procedure's allocation of ``ctx.case`` under ``ctx.policy`` (no LP)."""
    shares, steps = allocate(ctx.case, ctx.policy, ctx.index)
    return RuleResult(Status.OPTIMAL, shares=shares, details=ProcedureSteps(steps))
