"""The leximin rule: maximise the worst-off, then the second worst-off, and so on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import reasons
from ..allocation.evidence import ParetoCertificate, Prices
from ..backends import Status
from ..errors import SolverError, TimeLimitError
from ..reasons import Reason
from .base import (
    HOLD,
    Context,
    NobodyToCompare,
    RuleResult,
    add_level_rows,
    fix_parties,
    hold_at,
    hold_slack,
)

__all__ = ["NAME", "WIDEN", "LeximinLevels", "solve"]

NAME = "leximin"

#: Gains of the ordered-outcomes stages (MIPs) this close (relative) are one level.
SAME_LEVEL = 1e-6


@dataclass(frozen=True)
class LeximinLevels:
    """The levels found, worst-off first.

    Each level gives its value (compared gain ÷ weight) and the parties held at it.
    """

    levels: list[tuple[float, list[str]]]
    #: Whether whole units, indivisible issues or choices made the model a MIP: a level is
    #: then the most the discrete parts allow, not one no party could rise above.
    discrete: bool = False

    def reasons(self) -> list[Reason]:
        """One ``leximin_level`` reason per level."""
        return [
            reasons.LeximinLevel(rank=rank, level=level, parties=parties, discrete=self.discrete)
            for rank, (level, parties) in enumerate(self.levels, start=1)
        ]


#: A level row whose dual exceeds ``SATURATION_SHARE / free parties`` (and at least
#: :data:`SATURATION_FLOOR`) is binding in every optimum: its party is saturated. The duals
#: sum to 1 over the free parties, so the largest is at least 1/free; duals within the
#: solver's dual feasibility tolerance are noise: a dual simplex solution of a sparse
#: 500 x 100 market gave every party a dual of at least 1.2e-7, unsaturated ones included
#: (bench/). A saturated party with a smaller dual is fixed in a later round instead.
SATURATION_SHARE = 1e-2
SATURATION_FLOOR = 1e-6
#: A saturated party's compared gain is at the level within this relative tolerance.
AT_LEVEL = 1e-9
#: How many times more loosely the earlier levels are held, in turn, when a later level
#: comes out infeasible by numerical trouble.
WIDEN = (10.0, 100.0, 1000.0)


def solve(ctx: Context) -> RuleResult:
    """Lexicographic maximin over the sorted vector of compared gains ``c_s / w_s``.

    For divisible issues (an LP) the sequential *saturation* method is used: solve the
    max–min LP; every party whose level row has a nonzero dual is saturated (by
    complementary slackness it is at the level in every optimum), so all of them are fixed
    at once; re-solve warm for the rest. The number of LPs is about the number of distinct
    levels, not the number of parties. For indivisible issues (a MIP) duals are not
    available and saturation can fail, so the ordered-outcomes formulation is used instead:
    stage k maximises the sum of the k smallest gains, held in later stages.

    The result is Pareto-optimal and the fairest in the egalitarian sense.

    References
    ----------
    Ogryczak, W. & Śliwiński, T. (2006). On direct methods for lexicographic min-max
    optimization. *ICCSA 2006*, LNCS 3982, 802–811. DOI 10.1007/11751595_85.
    Nace, D. & Pióro, M. (2008). Max-min fairness and its applications to routing and
    load-balancing in communication networks: a tutorial. *IEEE Communications Surveys &
    Tutorials* 10(4), 5–17. DOI 10.1109/SURV.2008.080403 (the sequential LPs and the dual
    test for blocking constraints).
    """
    if not ctx.compared.any():
        status = ctx.solve()
        shares = ctx.session.values(ctx.model.x) if status.solved else None
        return RuleResult(status, shares, NobodyToCompare(), lps=ctx.session.solves)
    if ctx.session.is_mip:
        return _ordered_outcomes(ctx)
    return _saturation(ctx)


def _saturation(ctx: Context) -> RuleResult:
    session = ctx.session
    certificate = ParetoCertificate()
    prices: Prices | None = None
    levels = add_level_rows(ctx)
    free = sorted(levels.rows)
    found: list[tuple[float, list[int]]] = []
    held: dict[int, float] = {}  # the compared gain each fixed party is held at
    stopped = False  # some level was found by a solve stopped at the time limit
    while free:
        try:
            status = ctx.solve()
        except TimeLimitError:
            if not found:
                raise
            # the time limit ran out within a level: the levels found so far stand, with the
            # allocation that reached them
            return RuleResult(
                Status.FEASIBLE,
                shares=ctx.last_shares,
                details=_levels(ctx, found),
                prices=prices,
                lps=session.solves,
                stopped=True,
            )
        if not status.solved and found:
            status = _widen_holds_and_retry(ctx, held)
        stopped |= status == Status.FEASIBLE
        if not status.solved:
            if not found:
                return RuleResult(status, lps=session.solves)
            raise SolverError(
                f"leximin level {len(found) + 1} became {status} after fixing the earlier levels "
                "(numerical trouble); try the other solver"
            )
        level = session.value(levels.t)
        ctx.record(certificate, accumulate=True)
        if not found:
            prices = ctx.prices("min_gain")
        elif prices is not None:
            # a red line slack for the worst-off may hold back a later level: its price is
            # the one of the first level it binds
            later = ctx.prices("min_gain")
            if later is not None:
                prices.merge(later, len(found) + 1)
        # no duals when the solve stopped at the time limit
        duals = session.row_duals([levels.rows[p] for p in free])
        gains = ctx.compared_gains(ctx.utilities()) / ctx.weight
        # a saturated party has a nonzero dual (beyond the solver's noise) and sits at the level
        at_level = gains[free] <= level + AT_LEVEL * max(1.0, abs(level))
        threshold = max(SATURATION_FLOOR, SATURATION_SHARE / len(free))
        saturated = (
            []
            if duals is None
            else [
                p
                for p, d, low in zip(free, duals, at_level, strict=True)
                if abs(d) > threshold and low
            ]
        )
        if not saturated:  # degenerate or no duals: fall back to the parties at the level
            # a solve stopped at the time limit may leave the level below every gain
            at = max(level, float(gains[free].min()))
            saturated = [p for p in free if gains[p] <= at + AT_LEVEL * max(1.0, abs(at))]
        held.update(
            zip(saturated, fix_parties(ctx, levels, saturated, level, gains).tolist(), strict=True)
        )
        found.append((level, saturated))
        chosen = set(saturated)
        free = [p for p in free if p not in chosen]
    return RuleResult(
        Status.FEASIBLE if stopped else Status.OPTIMAL,
        shares=session.values(ctx.model.x),
        details=_levels(ctx, found),
        prices=prices,
        certificate=certificate,
        lps=session.solves,
    )


def _widen_holds_and_retry(ctx: Context, held: dict[int, float]) -> Status:
    """Re-solve a later level with the earlier levels held more loosely.

    A level is held within ``HOLD``, but the solver meets its rows only within its own
    feasibility tolerance, and a party with large values can pass that on, many times over,
    to the level of a party with small ones: the levels fixed so far can then be out of reach
    together. Holding them (at what each was held at) up to :data:`WIDEN` times more loosely
    restores room.
    """
    parties = list(held)
    values = np.array([held[p] for p in parties])
    status = Status.INFEASIBLE
    for factor in WIDEN:
        hold_at(ctx, parties, values, factor * HOLD)
        status = ctx.solve()
        if status.solved:
            break
    return status


def _ordered_outcomes(ctx: Context) -> RuleResult:
    session, model = ctx.session, ctx.model
    members = [int(p) for p in np.flatnonzero(ctx.compared)]
    n = len(members)
    scale = {p: 1.0 / float(ctx.weight[p] * ctx.rho[p]) for p in members}
    sums: list[float] = []
    status = Status.OPTIMAL
    for k in range(1, n + 1):
        r = model.new_variable(f"ord{k}")
        d = {p: model.new_variable(f"ord{k}_{p}", 0.0) for p in members}
        # d_p >= r - c_p, with c_p = (u_p - disagreement_p) * scale_p
        rows = [
            model.row(
                [(d[p], 1.0), (r, -1.0), (model.u[p], scale[p])],
                ">=",
                float(ctx.index.disagreement[p]) * scale[p],
                f"ord{k}_{p}",
            )
            for p in members
        ]
        session.add_constraints(rows, [r, *d.values()])
        objective = model.expression([(r, float(k)), *((d[p], -1.0) for p in members)])
        session.set_objective(objective, maximize=True)
        stage = ctx.solve()
        if not stage.solved:
            if k == 1:
                return RuleResult(stage, lps=session.solves)
            # the failed solve left no allocation to read (nor the earlier stages' one)
            raise SolverError(
                f"leximin stage {k} became {stage} after holding the earlier stages "
                "(numerical trouble); try the other solver"
            )
        if stage == Status.FEASIBLE:
            status = Status.FEASIBLE
        total = session.objective_value()
        sums.append(total)
        hold = model.row(
            objective, ">=", total - hold_slack(session) * max(1.0, abs(total)), f"ordhold{k}"
        )
        session.add_constraints([hold])
    gains = ctx.compared_gains(ctx.utilities()) / ctx.weight
    found: list[tuple[float, list[int]]] = []
    for p in sorted(members, key=lambda p: gains[p]):
        # a MIP holds each stage within its feasibility tolerance (~1e-6): gains closer than
        # that are one level, not rounds the solver's noise would tell apart
        if found and abs(found[-1][0] - gains[p]) <= SAME_LEVEL * max(1.0, abs(gains[p])):
            found[-1][1].append(p)
        else:
            found.append((float(gains[p]), [p]))
    return RuleResult(
        status,
        shares=session.values(model.x),
        details=_levels(ctx, found, discrete=True),
        lps=session.solves,
    )


def _levels(
    ctx: Context, found: list[tuple[float, list[int]]], *, discrete: bool = False
) -> LeximinLevels:
    names = ctx.index.parties
    return LeximinLevels(
        [(level, [names[p] for p in sorted(ps)]) for level, ps in found], discrete=discrete
    )
