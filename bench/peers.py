"""Peers a user would pick instead of the engine: plain PuLP, and cvxpy with Clarabel.

The PuLP formulations are written the obvious way (``lpSum``, one ``prob +=`` per
constraint, ``pulp.HiGHS(msg=False)`` with its default options, a cold solve per LP), as a
user of PuLP would write them. cvxpy solves the Eisenberg–Gale program for Nash. fairpyx
runs in its own environment (see :mod:`bench.fairpyx_peer`).
"""

from __future__ import annotations

import time

import numpy as np
import pulp

from .instances import Market
from .limit import SATURATION_DUAL, Solution

__all__ = [
    "cvxpy_available",
    "cvxpy_nash",
    "pulp_leximin",
    "pulp_maximin",
    "pulp_utilitarian",
]


def _groups(keys: np.ndarray, size: int) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(size)]
    for k, key in enumerate(keys.tolist()):
        groups[key].append(k)
    return groups


def _solve(prob: pulp.LpProblem) -> None:
    prob.solve(pulp.HiGHS(msg=False))
    if prob.status != pulp.LpStatusOptimal or prob.sol_status != pulp.LpSolutionOptimal:
        raise RuntimeError(f"PuLP + HiGHS ended {pulp.LpStatus[prob.status]}")


def _shares(x: list[pulp.LpVariable]) -> np.ndarray:
    return np.array([v.value() for v in x], dtype=float)


def _plain_model(
    market: Market, name: str
) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[pulp.LpAffineExpression]]:
    """Share variables, the resource rows and each party's normalized gain expression."""
    prob = pulp.LpProblem(name, pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{k}", 0, 1) for k in range(market.n_interests)]
    for i, ks in enumerate(_groups(market.issue, market.n_issues)):
        prob += pulp.lpSum(x[k] for k in ks) == 1, f"resource{i}"
    g = market.gain
    gains = [pulp.lpSum(g[k] * x[k] for k in ks) for ks in _groups(market.party, market.n_parties)]
    return prob, x, gains


def pulp_maximin(market: Market) -> Solution:
    """Maximin in plain PuLP: maximise ``t``, then hold it and maximise the sum."""
    start = time.perf_counter()
    prob, x, gains = _plain_model(market, "maximin")
    t = pulp.LpVariable("t")
    prob += t
    for s, gain in enumerate(gains):
        prob += gain >= t, f"level{s}"
    built = time.perf_counter()
    _solve(prob)
    t.lowBound = t.value()
    prob.setObjective(pulp.lpSum(gains))
    _solve(prob)
    return Solution(
        market.gains(_shares(x)), build=built - start, solve=time.perf_counter() - built, lps=2
    )


def pulp_leximin(market: Market) -> Solution:
    """Settle by leximin in plain PuLP, with one cold LP per level.

    A party whose level row has a nonzero dual is held at the level in the next LP, which is
    built afresh.
    """
    start = time.perf_counter()
    n = market.n_parties
    floors: dict[int, float] = {}
    build = 0.0
    lps = 0
    x: list[pulp.LpVariable] = []
    while len(floors) < n:
        begun = time.perf_counter()
        prob, x, gains = _plain_model(market, "leximin")
        t = pulp.LpVariable("t")
        prob += t
        for s, gain in enumerate(gains):
            if s in floors:
                prob += gain >= floors[s], f"level{s}"
            else:
                prob += gain >= t, f"level{s}"
        build += time.perf_counter() - begun
        _solve(prob)
        lps += 1
        level = float(t.value())
        free = [s for s in range(n) if s not in floors]
        duals = [abs(prob.get_constraint_by_name(f"level{s}").pi) for s in free]
        saturated = [s for s, d in zip(free, duals, strict=True) if d > SATURATION_DUAL]
        for s in saturated or [free[int(np.argmax(duals))]]:
            floors[s] = level
    return Solution(
        market.gains(_shares(x)),
        build=build,
        solve=time.perf_counter() - start - build,
        lps=lps,
        facts={"levels": lps},
    )


def pulp_utilitarian(market: Market) -> Solution:
    """Return the utilitarian LP in plain PuLP."""
    start = time.perf_counter()
    prob, x, gains = _plain_model(market, "utilitarian")
    prob += pulp.lpSum(gains)
    built = time.perf_counter()
    _solve(prob)
    return Solution(
        market.gains(_shares(x)), build=built - start, solve=time.perf_counter() - built, lps=1
    )


# --- cvxpy ---------------------------------------------------------------------------------


def cvxpy_available() -> bool:
    """Whether cvxpy and Clarabel are installed (the ``bench`` extra)."""
    try:
        import clarabel  # noqa: F401
        import cvxpy
    except ImportError:
        return False
    return "CLARABEL" in cvxpy.installed_solvers()


def cvxpy_nash(market: Market) -> Solution:
    """Return the Eisenberg–Gale program ``max Σ log u_s`` in cvxpy, solved by Clarabel.

    Clarabel runs at its default tolerances.

    Each party's values are scaled so that its utility under equal split is 1 (Nash's
    solution does not change; Clarabel stalls on tiny utilities at 1,000 × 200 without it).
    Variables exist only where a party has an interest; matrices are sparse.
    """
    import cvxpy as cp
    from scipy import sparse

    start = time.perf_counter()
    crowd = np.bincount(market.issue, minlength=market.n_issues)[market.issue]
    equal_split = market.gains(1.0 / crowd)
    k = np.arange(market.n_interests)
    values = sparse.csr_array(
        (market.gain / equal_split[market.party], (market.party, k)),
        shape=(market.n_parties, market.n_interests),
    )
    x = cp.Variable(market.n_interests, nonneg=True)
    problem = cp.Problem(cp.Maximize(cp.sum(cp.log(values @ x))), [market.issue_matrix @ x <= 1])
    built = time.perf_counter()
    problem.solve(solver=cp.CLARABEL)
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"cvxpy + Clarabel ended {problem.status}")
    shares = np.clip(np.asarray(x.value, dtype=float), 0.0, None)
    total = np.bincount(market.issue, weights=shares, minlength=market.n_issues)
    shares = shares / np.maximum(total, 1.0)[market.issue]  # within the rows, exactly
    return Solution(
        market.gains(shares), build=built - start, solve=time.perf_counter() - built, lps=1
    )
