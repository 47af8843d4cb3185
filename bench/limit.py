"""The limit: each rule's LPs built from numpy arrays and solved directly with highspy.

No modelling layer: the constraint matrix is assembled column-wise in numpy and handed to
HiGHS once; later stages edit bounds, costs and coefficients of the live model and re-solve
warm from the last basis. The LPs are the engine's on a market (see :mod:`bench.instances`):

- maximin: maximise ``t`` subject to ``Σ_i g_si x_si ≥ t`` for every party, ``Σ_s x_si = 1``
  for every resource and ``0 ≤ x ≤ 1``, where ``g_si = v_si / ideal_s``; then, holding ``t``,
  maximise ``Σ_s Σ_i g_si x_si``;
- leximin: the same first LP, then the saturation method: every party whose level row has a
  nonzero dual is at the level in every optimum; it is fixed there (its row loses ``t`` and
  keeps its gain as a lower bound) and the LP is re-solved warm for the others;
- utilitarian: maximise ``Σ_s Σ_i g_si x_si`` over the resource rows alone;
- nash: maximise ``Σ_s θ_s`` under tangent cuts ``θ_s ≤ log a − 1 + g_s / a`` (Kelley),
  started from proportional response and stopped on a certified relative gap of 1e-6 on
  the geometric mean: the engine's method without its modelling layer.

HiGHS's presolve stays off: on these LPs it never pays (13 s of presolve on the 1,000 × 200
utilitarian LP that the simplex solves in 0.2 s without it). The first LP's algorithm is a
parameter; :func:`probe_methods` measures both so that the caller can choose.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from .instances import Market

__all__ = [
    "METHODS",
    "NASH_GAP",
    "RULES",
    "Solution",
    "leximin",
    "max_sum_given_min",
    "maximin",
    "nash",
    "probe_methods",
    "utilitarian",
]

#: The rules this reference implements, in the order the report lists them.
RULES = ("maximin", "leximin", "nash", "utilitarian")

#: The algorithms tried for a first LP: HiGHS's interior point (with crossover, so that
#: duals and a basis for the warm re-solves exist) and its dual simplex.
METHODS = ("ipm", "simplex")
#: Nash stops when the certified bound on the geometric mean is this close, relatively.
NASH_GAP = 1e-6
#: A level row whose dual exceeds this is binding in every optimum. HiGHS's duals carry
#: noise (its dual feasibility tolerance is 1e-7; 5e-9 seen on unsaturated parties at
#: 1,000 × 200): a smaller threshold fixes unsaturated parties too early.
SATURATION_DUAL = 1e-7
#: A fixed party may drop this far below its level (normalized units), or later LPs can be
#: infeasible by more than HiGHS's tolerance; amplified by the trade-off ratios (~5,000
#: here) it stays below 1e-6.
FLOOR_SLACK = 1e-10
#: A saturated party's gain is at the level, up to this (relative) tolerance.
AT_LEVEL = 1e-9
#: HiGHS's ``simplex_strategy`` value for the primal simplex.
PRIMAL_SIMPLEX = 4
#: Proportional-response iterations that place the first Nash cuts (as the engine).
RESPONSE_ROUNDS = 300
#: Where, relative to the proportional-response gains, the first local Nash cuts go.
LOCAL = (0.97, 0.99, 0.997, 1.0, 1.003, 1.01, 1.03)
#: Cutting-plane rounds before giving up.
MAX_ROUNDS = 200

#: Above this many interests an untimed helper LP uses the interior point.
IPM_INTERESTS = 20_000

INF = highspy.kHighsInf


@dataclass
class Solution:
    """A reference's result: every party's normalized gain and where the time went."""

    gains: np.ndarray
    build: float = 0.0
    solve: float = 0.0
    lps: int = 0
    #: Rule-specific facts: ``level`` (maximin), ``levels`` (leximin), ``upper`` (Nash's
    #: certified bound on Σ log g), ``method`` (first LP's algorithm).
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.build + self.solve


def _silent_highs() -> highspy.Highs:
    """Return a ``Highs`` object that prints nothing.

    The first one in a process prints a banner to the C-level stdout whatever the options say.
    """
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        # highspy's Highs.__init__ is unannotated, as in mediation/backends/highs.py
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")
    return h


def _load(
    market: Market,
    *,
    extra_cols: int,
    extra_col_entries: tuple[np.ndarray, np.ndarray, np.ndarray],
    extra_rows: int,
    cost: np.ndarray,
    col_bounds: tuple[np.ndarray, np.ndarray],
    row_bounds: tuple[np.ndarray, np.ndarray],
    x_rows: tuple[np.ndarray, np.ndarray] | None,
) -> highspy.Highs:
    """Return a maximisation LP whose first columns are the shares ``x`` (one per interest).

    Rows ``0..M-1`` are the resource rows (each ``x`` has a 1 there); ``x_rows`` optionally
    gives every ``x`` one more entry (row, coefficient) among the ``extra_rows`` that follow.
    ``extra_col_entries`` = (column start offsets, row indices, values) of the columns after
    ``x``.
    """
    k = market.n_interests
    per_x = 1 if x_rows is None else 2
    x_index = np.empty(per_x * k, dtype=np.int32)
    x_value = np.empty(per_x * k)
    x_index[::per_x] = market.issue
    x_value[::per_x] = 1.0
    if x_rows is not None:
        x_index[1::2], x_value[1::2] = x_rows
    starts, rows, values = extra_col_entries
    lp = highspy.HighsLp()
    lp.num_col_ = k + extra_cols
    lp.num_row_ = market.n_issues + extra_rows
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = col_bounds
    lp.row_lower_, lp.row_upper_ = row_bounds
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate(
        [np.arange(0, per_x * k + 1, per_x), per_x * k + starts[1:]]
    ).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([x_index, rows]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([x_value, values])
    h = _silent_highs()
    h.passModel(lp)
    return h


def _solved(h: highspy.Highs, method: str) -> bool:
    h.setOptionValue("solver", method)
    h.run()
    return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)


def _run(h: highspy.Highs, method: str) -> None:
    if not _solved(h, method):
        raise RuntimeError(f"HiGHS ended {h.modelStatusToString(h.getModelStatus())}")


def _shares(h: highspy.Highs, k: int) -> np.ndarray:
    return np.asarray(h.getSolution().col_value)[:k]


# --- maximin and leximin -----------------------------------------------------------------


def _level_lp(market: Market, floors: np.ndarray | None = None) -> highspy.Highs:
    """Columns: x (K), t; rows: resources (M, = 1), levels (N, ``g_s·x − t ≥ 0``).

    With ``floors``, a party with a floor (not NaN) is fixed: its row is ``g_s·x ≥ floor``.
    """
    n, m, k = market.n_parties, market.n_issues, market.n_interests
    floors = np.full(n, np.nan) if floors is None else floors
    fixed = ~np.isnan(floors)
    free_rows = m + np.flatnonzero(~fixed)
    cost = np.zeros(k + 1)
    cost[k] = 1.0
    return _load(
        market,
        extra_cols=1,
        extra_col_entries=(
            np.array([0, len(free_rows)]),
            free_rows,
            np.full(len(free_rows), -1.0),
        ),
        extra_rows=n,
        cost=cost,
        col_bounds=(
            np.concatenate([np.zeros(k), [-INF]]),
            np.concatenate([np.ones(k), [INF]]),
        ),
        row_bounds=(
            np.concatenate([np.ones(m), np.where(fixed, floors, 0.0)]),
            np.concatenate([np.ones(m), np.full(n, INF)]),
        ),
        x_rows=(m + market.party, market.gain),
    )


def maximin(market: Market, *, method: str) -> Solution:
    """Maximise the smallest normalized gain, then, holding it, their sum."""
    k = market.n_interests
    start = time.perf_counter()
    h = _level_lp(market)
    built = time.perf_counter()
    _run(h, method)
    level = float(h.getInfo().objective_function_value)
    h.changeColBounds(k, level, INF)  # held exactly: see leximin() on why no slack
    h.changeColsCost(k + 1, np.arange(k + 1, dtype=np.int32), np.append(market.gain, 0.0))
    _run(h, "simplex")
    gains = market.gains(_shares(h, k))
    return Solution(
        gains,
        build=built - start,
        solve=time.perf_counter() - built,
        lps=2,
        facts={"level": level, "method": method},
    )


def max_sum_given_min(market: Market, floor: float) -> float:
    """Return the largest sum of normalized gains with every party's gain at least ``floor``.

    Maximin's second stage, given the first stage's level: comparing an allocation's sum
    with this at the allocation's own minimum is a well-conditioned test of that stage (the
    sum at the exact level is not: on sparse markets it moves by ~1e3 per unit of level).
    """
    k = market.n_interests
    h = _level_lp(market)
    h.changeColBounds(k, floor, floor)
    h.changeColsCost(k + 1, np.arange(k + 1, dtype=np.int32), np.append(market.gain, 0.0))
    _run(h, "ipm" if k > IPM_INTERESTS else "simplex")
    return float(h.getInfo().objective_function_value)


def leximin(market: Market, *, method: str) -> Solution:
    """Return the leximin gains by saturation, every LP after the first re-solved warm.

    After each LP, a free party is saturated when its level row's dual exceeds
    :data:`SATURATION_DUAL` (and it sits at the level, as it must then): it leaves the level
    (``t``'s coefficient in its row becomes 0) and keeps its current gain as the row's
    lower bound. Holding the gain exactly, rather than with a slack, matters: the slack is
    amplified by the parties' trade-off ratios, ~3,000× on the sparse 1,000 × 200 market.
    Re-solves use the primal simplex, for which the last solution stays feasible.
    """
    n, m, k = market.n_parties, market.n_issues, market.n_interests
    start = time.perf_counter()
    h = _level_lp(market)
    built = time.perf_counter()
    free = np.ones(n, dtype=bool)
    floors = np.full(n, np.nan)
    levels = 0
    rebuilds = 0
    while free.any():
        if not _solved(h, method if levels == 0 else "simplex"):
            h = _rebuilt_level_lp(market, floors)
            rebuilds += 1
        if levels == 0:
            h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        levels += 1
        level = float(h.getInfo().objective_function_value)
        solution = h.getSolution()
        dual = np.abs(np.asarray(solution.row_dual)[m : m + n])
        current = market.gains(_feasible(market, _shares(h, k)))
        at_level = current <= level + AT_LEVEL * max(1.0, abs(level))
        saturated = free & at_level & (dual > SATURATION_DUAL)
        if not saturated.any():  # the duals sum to 1: the largest is a saturated party's
            saturated = np.zeros(n, dtype=bool)
            saturated[np.argmax(np.where(free, dual, -1.0))] = True
        rows = (m + np.flatnonzero(saturated)).astype(np.int32)
        for r in rows.tolist():
            h.changeCoeff(r, k, 0.0)
        floors[saturated] = np.minimum(current[saturated], level) - FLOOR_SLACK
        # highspy 1.16's stubs omit changeRowsBounds, which its extension module has
        h.changeRowsBounds(  # type: ignore[attr-defined]
            len(rows), rows, floors[saturated], np.full(len(rows), INF)
        )
        free &= ~saturated
    gains = market.gains(_shares(h, k))
    return Solution(
        gains,
        build=built - start,
        solve=time.perf_counter() - built,
        lps=levels,
        facts={"levels": levels, "method": method, "rebuilds": rebuilds},
    )


def _rebuilt_level_lp(market: Market, floors: np.ndarray) -> highspy.Highs:
    """Return a fresh level LP with the fixed parties' floors, solved with presolve.

    It is solved by dual simplex, else by interior point.

    On sparse leximin levels HiGHS 1.16's warm primal simplex, and its interior point
    without presolve, reported "Infeasible" or "Unknown" for LPs feasible to 2e-10 that
    a fresh model with presolve solves; reloading the live model (``passModel(getLp())``)
    did not help.
    """
    h = _level_lp(market, floors)
    h.setOptionValue("presolve", "on")
    if not _solved(h, "simplex"):
        h.clearSolver()
        _run(h, "ipm")
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    return h


def _feasible(market: Market, shares: np.ndarray) -> np.ndarray:
    """``shares`` clipped to [0, 1] and rescaled so that every resource sums to exactly 1.

    Floors are set from this point's gains: it is feasible, so the floors are compatible.
    Floors taken from the solver's own point, which may over-allocate a resource within
    the feasibility tolerance (5e-8 seen), can contradict each other by far more than the
    tolerance (3.5e-4 seen): a broad party's floor missed by ε needs ε/g of a resource that
    a narrow party values ~1/g times more.
    """
    shares = np.clip(shares, 0.0, 1.0)
    total = np.bincount(market.issue, weights=shares, minlength=market.n_issues)
    return np.asarray(shares / total[market.issue])


# --- utilitarian ---------------------------------------------------------------------------


def _utilitarian_lp(market: Market) -> highspy.Highs:
    """Columns: x (K), costs ``g``; rows: resources (M, = 1)."""
    m, k = market.n_issues, market.n_interests
    return _load(
        market,
        extra_cols=0,
        extra_col_entries=(np.array([0]), np.zeros(0, dtype=np.int32), np.zeros(0)),
        extra_rows=0,
        cost=market.gain,
        col_bounds=(np.zeros(k), np.ones(k)),
        row_bounds=(np.ones(m), np.ones(m)),
        x_rows=None,
    )


def utilitarian(market: Market, *, method: str) -> Solution:
    """Maximise the sum of normalized gains."""
    k = market.n_interests
    start = time.perf_counter()
    h = _utilitarian_lp(market)
    built = time.perf_counter()
    _run(h, method)
    gains = market.gains(_shares(h, k))
    return Solution(
        gains,
        build=built - start,
        solve=time.perf_counter() - built,
        lps=1,
        facts={"objective": float(h.getInfo().objective_function_value), "method": method},
    )


# --- Nash ----------------------------------------------------------------------------------


def proportional_response(market: Market, rounds: int = RESPONSE_ROUNDS) -> np.ndarray:
    """Return the shares (per interest) after ``rounds`` of proportional-response dynamics.

    The dynamics, with equal budgets, converge to the Eisenberg–Gale allocation (Wu & Zhang
    2007).
    """
    g = market.gain
    bids = g / market.n_parties  # every party spends its budget 1/N in proportion to value
    for _ in range(rounds):
        prices = np.bincount(market.issue, weights=bids, minlength=market.n_issues)
        shares = bids / prices[market.issue]
        gains = market.gains(shares)
        bids = g * shares / (market.n_parties * gains[market.party])
    prices = np.bincount(market.issue, weights=bids, minlength=market.n_issues)
    return np.asarray(bids / prices[market.issue])


def nash(market: Market, *, method: str = "simplex") -> Solution:
    """Maximise ``Σ_s log g_s`` by Kelley's cutting planes, warm, to a certified gap.

    Columns: x (K), g (N), θ (N); rows: resources (M), gains (N, ``g_s − Σ_i g_si x_si = 0``),
    then cuts ``θ_s − g_s / a ≤ log a − 1`` (two nonzeros each: cutting on ``x`` directly
    made the 1,000 × 200 LPs 9× denser and 2× slower). The LP's optimum is an upper bound
    on the Nash welfare (tangents lie above the logarithm), returned as ``facts["upper"]``.
    """
    n, m, k = market.n_parties, market.n_issues, market.n_interests
    start = time.perf_counter()
    share0 = proportional_response(market)
    gain0 = market.gains(share0)
    grid_end = 2.0 ** -(int(math.log2(max(n, 2))) + 2)
    points = [np.array([1.0, grid_end, *(c * f for f in LOCAL)]) for c in gain0.tolist()]
    points = [np.unique(p[(p > 0) & (p <= 1.0)]) for p in points]
    h = _load(
        market,
        extra_cols=2 * n,
        extra_col_entries=(
            np.concatenate([np.arange(n + 1), np.full(n, n)]),
            m + np.arange(n),
            np.ones(n),
        ),
        extra_rows=n,
        cost=np.concatenate([np.zeros(k + n), np.ones(n)]),
        col_bounds=(
            np.concatenate([np.zeros(k), np.full(2 * n, -INF)]),
            np.concatenate([np.ones(k), np.full(2 * n, INF)]),
        ),
        row_bounds=(
            np.concatenate([np.ones(m), np.zeros(n)]),
            np.concatenate([np.ones(m), np.zeros(n)]),
        ),
        x_rows=(m + market.party, -market.gain),
    )

    def add_cuts(cuts: list[tuple[int, float]]) -> None:
        if not cuts:
            return
        party = np.array([s for s, _ in cuts])
        point = np.array([a for _, a in cuts])
        index = np.stack([k + n + party, k + party], axis=1).ravel().astype(np.int32)
        value = np.stack([np.ones(len(cuts)), -1.0 / point], axis=1).ravel()
        h.addRows(
            len(cuts),
            np.full(len(cuts), -INF),
            np.log(point) - 1.0,
            len(index),
            np.arange(0, 2 * len(cuts), 2, dtype=np.int32),
            index,
            value,
        )

    add_cuts([(s, a) for s, ps in enumerate(points) for a in ps.tolist()])
    start_point = np.concatenate([share0, gain0, np.log(np.maximum(gain0, 1e-300))])
    h.setSolution(k + 2 * n, np.arange(k + 2 * n, dtype=np.int32), start_point)
    built = time.perf_counter()
    smallest = np.full(n, grid_end)
    lps = 0
    gap = math.inf
    upper = math.inf
    while lps < MAX_ROUNDS:
        _run(h, method if lps == 0 else "simplex")
        lps += 1
        col = np.asarray(h.getSolution().col_value)
        gains = market.gains(col[:k])
        starved = np.flatnonzero(gains <= 1e-12)
        if starved.size:
            smallest[starved] /= 16.0
            add_cuts([(int(s), float(smallest[s])) for s in starved])
            continue
        upper = float(h.getInfo().objective_function_value)
        lower = float(np.log(gains).sum())
        gap = math.expm1(max(upper - lower, 0.0) / n)
        if gap <= NASH_GAP:
            break
        slack = col[k + n :] - np.log(gains)
        add_cuts([(int(s), float(gains[s])) for s in np.flatnonzero(slack > NASH_GAP * 0.1)])
    if gap > NASH_GAP:
        raise RuntimeError(f"Nash cutting planes stopped at gap {gap:.2e} after {lps} LPs")
    return Solution(
        gains,
        build=built - start,
        solve=time.perf_counter() - built,
        lps=lps,
        facts={"upper": upper, "gap": gap, "method": method},
    )


# --- choosing the algorithm ----------------------------------------------------------------


def probe_methods(market: Market, rule: str, *, patience: float = 10.0) -> dict[str, float | None]:
    """Seconds to solve ``rule``'s first LP with each algorithm in :data:`METHODS`.

    The interior point runs first; the simplex is stopped after ``patience`` times its time
    (at least 1 s) and reported as ``None`` then (too slow to matter).
    """
    builders: dict[str, Callable[[Market], highspy.Highs]] = {
        "maximin": _level_lp,
        "utilitarian": _utilitarian_lp,
    }
    seconds: dict[str, float | None] = {}
    for method in METHODS:
        h = builders[rule](market)
        if method == "simplex":
            h.setOptionValue("time_limit", max(1.0, patience * (seconds["ipm"] or 0.0)))
        start = time.perf_counter()
        h.setOptionValue("solver", method)
        h.run()
        elapsed = time.perf_counter() - start
        done = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        seconds[method] = elapsed if done else None
    return seconds
