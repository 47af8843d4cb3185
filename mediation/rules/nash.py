"""The (weighted) Nash bargaining rule, solved by LP cutting planes to a certified gap."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import reasons
from ..allocation.evidence import ParetoCertificate
from ..allocation.model import Row
from ..backends import Status
from ..case import Case, Policy
from ..errors import Problem
from ..reasons import Reason
from .base import Context, NobodyToCompare, NoPositiveGain, RuleResult

__all__ = ["GAP", "NAME", "NASH_WEIGHT_RATIO", "NashCertificate", "case_problems", "solve"]

NAME = "nash"

#: The largest ratio of two parties' weights Nash's rule takes: its solution gives the light
#: party a gain of about the ratio, and tangents below 1e-10 cannot be placed reliably.
NASH_WEIGHT_RATIO = 1e9


def case_problems(case: Case, policy: Policy) -> list[Problem]:
    """Why Nash's rule cannot settle ``case``: weights too far apart for its logarithms."""
    weights = [s.weight for s in case.stakeholders]
    if weights and max(weights) > NASH_WEIGHT_RATIO * min(weights):
        heavy = max(case.stakeholders, key=lambda s: s.weight)
        light = min(case.stakeholders, key=lambda s: s.weight)
        return [
            Problem(
                "stakeholders",
                f"Nash's rule weighs gains by log: weights {heavy.weight:g} ('{heavy.id}') "
                f"and {light.weight:g} ('{light.id}') are more than "
                f"{NASH_WEIGHT_RATIO:g} apart, and the light party's share (about their "
                "ratio) is below what the solver can resolve; bring them closer or use "
                "leximin",
            )
        ]
    return []


@dataclass(frozen=True)
class NashCertificate:
    """The certified gap of the cutting planes, and the gap aimed at.

    ``rounds`` and ``cuts`` say how many rounds and cuts reached the certified gap.
    """

    gap: float
    rounds: int
    cuts: int
    target: float

    def reasons(self) -> list[Reason]:
        """Return the ``nash_certificate`` reason, and ``nash_gap_not_reached`` when due.

        ``nash_gap_not_reached`` is added when the gap stayed above the target.
        """
        found: list[Reason] = [
            reasons.NashCertificate(gap=self.gap, rounds=self.rounds, cuts=self.cuts)
        ]
        if self.gap > self.target:
            found.append(reasons.NashGapNotReached(gap=self.gap, target=self.target))
        return found


#: Stop when the certified upper bound on the weighted geometric mean of normalized gains is
#: within this relative distance of the value reached. The objective is flat at its optimum,
#: so the gains themselves are placed to about the square root of this (~3e-5): at 1e-6 a
#: textbook two-party split came out 1.998 for 2. Costs about 1.5x the rounds of 1e-6 at
#: 1,000 x 200 (bench/).
GAP = 1e-9
#: The gap when the solver's own tolerance is coarser than 1e-9 (indivisible issues, where
#: each round is a MIP solved to 1e-6, or CBC): a finer gap cannot be certified there (a
#: bundled case stalled at 1.9e-7).
COARSE_GAP = 1e-6

#: The LP feasibility tolerance the cuts are solved to: a tangent row met only within the
#: default 1e-9 overstates the upper bound by about that much, and the gap stalled at
#: 1.9e-9 for 200 rounds on a three-party case; at 1e-10 the same case took 14 rounds.
FEASIBILITY_TOLERANCE = 1e-10

#: The smallest gain a tangent is placed at: a cut at ``a`` puts ``1/a`` beside ``1`` in one
#: row, and beyond 1e10 the scaled row would lose the ``θ`` term. A party the LP still
#: leaves at zero with a tangent this close to zero has no positive gain within the solver's
#: resolution.
MIN_TANGENT = 1e-10
#: A gain at or below this is taken for none (the LP's tolerance leaves noise of ~1e-10).
STARVED = 1e-9

#: Rounds of cutting planes before giving up on the gap (the result is then ``feasible``).
MAX_ROUNDS = 200
#: Proportional-response iterations used to place the first cuts on plain market cases.
RESPONSE_ROUNDS = 300
#: Where, relative to the proportional-response approximation, the first local cuts go.
LOCAL = (0.97, 0.99, 0.997, 1.0, 1.003, 1.01, 1.03)


def solve(ctx: Context) -> RuleResult:
    """Maximise ``Σ_s w_s · log(u_s − d_s)`` over the hard and policy constraints.

    The logarithm is approximated from above by tangents (Kelley's cutting planes): the LP
    ``max Σ w_s θ_s`` with ``θ_s ≤ log a + (c_s − a) / a`` for tangent points ``a`` gives an
    upper bound; the allocation it returns gives a lower bound ``Σ w_s log c_s``; a tangent
    is added at every party's current gain and the LP is re-solved warm until the gap, as a
    relative distance on the weighted geometric mean, is below :data:`GAP`. Gains are
    normalized (``c_s = (u_s − d_s)/(ideal_s − d_s)``) so that the cuts are well scaled; the
    solution does not depend on it, as Nash's solution is invariant to rescaling any party's
    utility. First cuts: a ratio-2 grid, plus, on plain market cases (divisible resources,
    no bounds, constraints or disagreement points), tangents around the proportional-response
    approximation of the Eisenberg–Gale optimum.

    Nash's rule needs every compared party to gain strictly; when no allocation allows it,
    the outcome is ``infeasible``.

    References
    ----------
    Nash, J. F. (1950). The bargaining problem. *Econometrica* 18(2), 155–162.
    DOI 10.2307/1907266.
    Kalai, E. (1977). Nonsymmetric Nash solutions and replications of 2-person bargaining.
    *International Journal of Game Theory* 6(3), 129–133. DOI 10.1007/BF01774658.
    Eisenberg, E. & Gale, D. (1959). Consensus of subjective probabilities: the pari-mutuel
    method. *Annals of Mathematical Statistics* 30(1), 165–168. DOI 10.1214/aoms/1177706369.
    Kelley, J. E. (1960). The cutting-plane method for solving convex programs. *Journal of
    the SIAM* 8(4), 703–712. DOI 10.1137/0108053.
    Wu, F. & Zhang, L. (2007). Proportional response dynamics leads to market equilibrium.
    *STOC 2007*, 354–363. DOI 10.1145/1250790.1250844.
    """
    session, model, index = ctx.session, ctx.model, ctx.index
    members = [int(p) for p in np.flatnonzero(ctx.compared & ~ctx.flat)]
    if not members:
        status = ctx.solve()
        shares = session.values(model.x) if status.solved else None
        return RuleResult(status, shares, NobodyToCompare(), lps=session.solves)
    session.feasibility_tolerance = min(session.feasibility_tolerance, FEASIBILITY_TOLERANCE)
    w = ctx.weight[members]
    total_weight = float(w.sum())
    theta = {p: model.new_variable(f"theta{p}") for p in members}
    scale = {p: float(ctx.rho[p]) for p in members}

    def cut(p: int, a: float) -> Row:
        # theta_p <= log a - 1 + c_p / a, with c_p = (u_p - d_p) / rho_p
        k = 1.0 / (scale[p] * a)
        return model.row(
            [(theta[p], 1.0), (model.u[p], -k)],
            "<=",
            math.log(a) - 1.0 - float(index.disagreement[p]) * k,
        )

    grid = [2.0**-j for j in range(int(math.log2(max(len(members), 2))) + 3)]
    start = _market_start(ctx, members)
    start_gains = None if start is None else (start[1] / ctx.rho)[members]
    first = []
    for n, p in enumerate(members):
        if start_gains is None:
            points = set(grid)
        else:
            # near the approximation, plus the ends of the grid to bound every θ
            c0 = float(start_gains[n])
            points = {grid[0], grid[-1], *(c0 * f for f in LOCAL if 0 < c0 * f <= 1.0)}
        first += [cut(p, a) for a in sorted(points)]
    session.add_constraints(first, list(theta.values()))
    if start is not None and start_gains is not None:
        # start the simplex from the approximation: ~2x fewer iterations than a cold start
        theta_columns = [theta[p] for p in members]
        session.set_start(
            [*model.x, *model.u, *theta_columns],
            np.concatenate([start[0], start[1], np.log(start_gains)]),
        )
    session.set_objective(
        model.expression([(theta[p], float(ctx.weight[p])) for p in members]), maximize=True
    )
    smallest = {p: min(grid) for p in members}
    target = GAP if session.tolerance <= 1e-9 else COARSE_GAP
    cuts = len(first)
    rounds = 0
    gap = math.inf
    status = Status.OPTIMAL
    while rounds < MAX_ROUNDS:
        rounds += 1
        status = ctx.solve()
        if not status.solved:
            return RuleResult(status, lps=session.solves)
        gains = ctx.compared_gains(ctx.utilities())[members]
        if np.any(gains <= STARVED):
            # the LP parked a party at zero gain: tighten the cuts near zero for it
            starved = [p for p, g in zip(members, gains, strict=True) if g <= STARVED]
            if all(smallest[p] <= MIN_TANGENT for p in starved):
                return RuleResult(
                    Status.INFEASIBLE, details=NoPositiveGain(starved), lps=session.solves
                )
            new = []
            for p in starved:
                smallest[p] = max(smallest[p] / 16.0, MIN_TANGENT)
                new.append(cut(p, smallest[p]))
            session.add_constraints(new)
            cuts += len(new)
            continue
        upper = session.objective_value()
        lower = float(np.dot(w, np.log(gains)))
        gap = math.expm1(max(upper - lower, 0.0) / total_weight)
        if gap <= target:
            break
        thetas = session.values([theta[p] for p in members])
        slack = thetas - np.log(gains)
        tol = target * 0.1
        new = [
            cut(p, float(g))
            for p, g, gap_p in zip(members, gains, slack, strict=True)
            if gap_p > tol
        ]
        session.add_constraints(new)
        cuts += len(new)
    certificate = ParetoCertificate()
    ctx.record(certificate, accumulate=False)
    short = gap > target
    return RuleResult(
        Status.FEASIBLE if short else status,
        shares=session.values(model.x),
        details=NashCertificate(gap, rounds, cuts, target),
        prices=ctx.prices("nash_welfare"),
        certificate=certificate,
        lps=session.solves,
        short=short,
    )


def _market_start(ctx: Context, members: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the proportional-response approximation's shares and utilities on plain markets.

    The shares are per interest; the markets are plain Fisher markets.

    A plain market: every issue a divisible resource, no share bounds, no extra or policy
    constraints, every disagreement point 0 and every party compared. There the weighted
    Nash solution is the Eisenberg–Gale equilibrium with budgets ``w``, which proportional
    response dynamics approach quickly; elsewhere ``None`` (the grid alone starts the cuts).
    """
    index = ctx.index
    plain = (
        not len(index.levers)  # a plain market has no payments, contributions or choices
        and not index.funded.any()
        and not index.is_risk.any()
        and index.divisible.all()
        and not ctx.case.constraints
        and not ctx.model.policy_rows
        and not ctx.policy.envy_free
        and not index.disagreement.any()
        and np.all(index.lower == 0.0)
        and np.all(index.upper == 1.0)
        and len(members) == int(index.compared.sum())  # observers stand aside
        and index.compared[index.pair_party].all()  # no fund holds a share
    )
    if not plain:
        return None
    n, m = len(index.parties), len(index.issues)
    values = np.zeros((n, m))
    values[index.pair_party, index.pair_issue] = index.value
    stake = values.sum(axis=1)
    if np.any(stake[index.compared] <= 0):
        return None
    weight = np.where(index.compared, index.weight, 0.0)
    budget = weight / weight.sum()
    bids = budget[:, None] * np.divide(
        values, stake[:, None], out=np.zeros_like(values), where=stake[:, None] > 0
    )
    for _ in range(RESPONSE_ROUNDS):
        prices = bids.sum(axis=0)
        alloc = np.divide(bids, prices, out=np.zeros_like(bids), where=prices > 0)
        utility = np.einsum("ij,ij->i", values, alloc)
        bids = budget[:, None] * values * alloc / np.maximum(utility, 1e-300)[:, None]
    prices = bids.sum(axis=0)
    alloc = np.divide(bids, prices, out=np.zeros_like(bids), where=prices > 0)
    return alloc[index.pair_party, index.pair_issue], np.einsum("ij,ij->i", values, alloc)
