"""Fairness measures of an allocation: envy, proportionality, Gini; numpy only."""

from __future__ import annotations

import numpy as np

from .numeric import CaseIndex
from .settlement import Fairness

__all__ = [
    "ENVY_TOL",
    "NO_ROOM",
    "envy_matrix",
    "gini",
    "is_envy_free",
    "is_proportional",
    "measure",
    "no_room",
    "normalized_gains",
    "own_scale",
    "proportionality_gaps",
]

#: Envy or a shortfall below this fraction of a party's stake counts as none (solver noise).
ENVY_TOL = 1e-6


def _resource_matrices(index: CaseIndex, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, m = len(index.parties), len(index.issues)
    resource = index.sign > 0
    values = np.zeros((n, m))
    bundles = np.zeros((n, m))
    values[index.pair_party[resource], index.pair_issue[resource]] = index.value[resource]
    bundles[index.pair_party[resource], index.pair_issue[resource]] = shares[resource]
    return values, bundles


def envy_matrix(index: CaseIndex, shares: np.ndarray) -> np.ndarray:
    """``E[s, t]``: how much ``s`` prefers ``t``'s resources to its own, in ``s``'s points.

    With entitlements the comparison is weighted: ``E[s, t] = v_s(x_t)·w_s/w_t − v_s(x_s)``
    (weighted envy-freeness); with equal weights it is plain envy. Only resources count;
    ``E[s, s] = 0`` and the allocation is envy-free when no entry is positive.

    References
    ----------
    Foley, D. K. (1967). Resource allocation and the public sector. *Yale Economic Essays*
    7(1), 45–98.
    Chakraborty, M., Igarashi, A., Suksompong, W. & Zick, Y. (2021). Weighted envy-freeness in
    indivisible item allocation. *ACM Transactions on Economics and Computation* 9(3), 18.
    DOI 10.1145/3457166.

    Examples
    --------
    >>> from mediation.case import load_case
    >>> from mediation.numeric import index_case
    >>> case = load_case('''
    ... id: demo
    ... title: demo
    ... stakeholders: [{id: a, name: A, kind: other}, {id: b, name: B, kind: other}]
    ... issues: [{id: g, name: G, kind: resource, amount: 1}]
    ... interests: [{stakeholder: a, issue: g, value: 4}, {stakeholder: b, issue: g, value: 2}]
    ... ''')
    >>> envy_matrix(index_case(case), np.array([0.25, 0.75])).tolist()
    [[0.0, 2.0], [-1.0, 0.0]]
    """
    values, bundles = _resource_matrices(index, shares[: index.n])
    own = np.einsum("ij,ij->i", values, bundles)
    cross = values @ bundles.T * (index.weight[:, None] / index.weight[None, :])
    envy = cross - own[:, None]
    np.fill_diagonal(envy, 0.0)
    if len(index.compared) and not index.compared.all():
        # a fund's share is money set aside, not a bundle anybody could hold instead, and
        # a fund or an observer envies nobody
        envy[~index.compared, :] = 0.0
        envy[:, ~index.compared] = 0.0
    return np.asarray(envy, dtype=float)


def proportionality_gaps(index: CaseIndex, shares: np.ndarray) -> np.ndarray:
    """Each party's shortfall below its proportional share of its resource value (≥ 0).

    Party ``s`` is due ``w_s / Σw`` of the value it puts on all resources; the gap is what
    it lacks of that, in its own points (0 when it has at least its due).
    """
    return np.asarray(np.maximum(_proportional_due(index) - _resource_value(index, shares), 0.0))


def is_proportional(index: CaseIndex, shares: np.ndarray) -> bool:
    """Whether every party has its proportional due, up to :data:`ENVY_TOL` of it."""
    due = _proportional_due(index)
    return not bool(
        np.any(due - _resource_value(index, shares) > ENVY_TOL * np.where(due > 0, due, 1.0))
    )


def is_envy_free(index: CaseIndex, envy: np.ndarray) -> bool:
    """Whether no party envies another beyond the tolerance.

    No entry of :func:`envy_matrix` may exceed :data:`ENVY_TOL` of the envious party's
    resource value.
    """
    return not bool(np.any(envy > ENVY_TOL * index.resource_stake[:, None]))


def _resource_value(index: CaseIndex, shares: np.ndarray) -> np.ndarray:
    resource = index.sign > 0
    return np.bincount(
        index.pair_party[resource],
        weights=(index.value * shares[: index.n])[resource],
        minlength=len(index.parties),
    )


def _proportional_due(index: CaseIndex) -> np.ndarray:
    # among the compared parties: a fund or an observer is due nothing and dilutes no one
    weight = index.weight if index.compared.all() else np.where(index.compared, index.weight, 0.0)
    return np.asarray(weight / weight.sum() * _resource_value(index, np.ones(len(index.value))))


#: A party whose ideal exceeds its disagreement point by at most this fraction of its scale
#: (its stake, its disagreement point or 1, whichever is largest) has no room to gain.
NO_ROOM = 1e-9


def own_scale(stake: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
    """Each party's own scale: ``max(stake, |d|)``, or 1 for a party with neither."""
    scale = np.maximum(stake, np.abs(disagreement))
    return np.asarray(np.where(scale > 0, scale, 1.0), dtype=float)


def no_room(ideal: np.ndarray, disagreement: np.ndarray, stake: np.ndarray) -> np.ndarray:
    """Return which parties cannot gain from any deal.

    A party cannot gain when ``ideal − d ≤ NO_ROOM · max(stake, |d|)`` (1 for a party with
    neither): relative to the party's own scale, so that a party valuing in units of 1e-9
    is not taken for one with no room.

    The one definition the rules, the explanations and the fairness figures share.

    Examples
    --------
    >>> no_room(np.array([5.0, 1.0]), np.array([1.0, 1.0]), np.array([4.0, 2.0])).tolist()
    [False, True]
    """
    scale = own_scale(stake, disagreement)
    return np.asarray(ideal - disagreement <= NO_ROOM * scale, dtype=bool)


def normalized_gains(
    utilities: np.ndarray, disagreement: np.ndarray, ideal: np.ndarray, flat: np.ndarray
) -> np.ndarray:
    """Return each party's normalized gain ``(u − d) / (ideal − d)``.

    The gain is NaN for a party with no room to gain (``flat``, see :func:`no_room`).

    Examples
    --------
    >>> normalized_gains(np.array([3.0, 1.0]), np.array([1.0, 1.0]), np.array([5.0, 1.0]),
    ...                  np.array([False, True])).tolist()
    [0.5, nan]
    """
    room = np.where(flat, 1.0, ideal - disagreement)
    return np.where(flat, np.nan, (utilities - disagreement) / room)


def gini(values: np.ndarray) -> float | None:
    """Return the Gini coefficient (mean absolute difference over twice the mean).

    ``None`` when there are no values or their mean is not positive (the coefficient is
    then meaningless).

    Examples
    --------
    >>> gini(np.array([1.0, 1.0, 1.0]))
    0.0
    >>> round(gini(np.array([0.0, 0.0, 1.0])), 6)
    0.666667
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0 or values.mean() <= 0:
        return None
    ordered = np.sort(values)
    n = ordered.size
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.dot(ranks, ordered) / (n * ordered.sum())) - (n + 1.0) / n)


def measure(
    index: CaseIndex, shares: np.ndarray, ideal: np.ndarray, *, pareto: bool | None
) -> tuple[Fairness, np.ndarray]:
    """Return the fairness report of an allocation, and each party's normalized gain.

    The normalized gain is NaN for a party with no room to gain.

    ``pareto`` is the verdict of the Pareto check (an LP: see
    :func:`mediation.allocation.pareto.pareto_optimal`), reported as it is.
    """
    utilities = index.utilities(shares)
    flat = no_room(ideal, index.disagreement, index.stake)
    normalized = normalized_gains(utilities, index.disagreement, ideal, flat)
    if len(index.compared) and not index.compared.all():
        normalized = np.where(index.compared, normalized, np.nan)  # funds, observers
    envy = envy_matrix(index, shares)
    valid = normalized[~np.isnan(normalized)]
    fairness = Fairness(
        min_normalized_gain=float(valid.min()) if valid.size else None,
        gini=gini(valid),
        envy_free=is_envy_free(index, envy),
        max_envy=max(float(envy.max()), 0.0) if envy.size else 0.0,
        proportional=is_proportional(index, shares),
        pareto_optimal=pareto,
    )
    return fairness, normalized
