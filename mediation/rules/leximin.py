"""The leximin rule: maximise the worst-off, then the second worst-off, and so on."""

from __future__ import annotations

import numpy as np
import pulp

from ..errors import SolverError
from ..solver import Status
from .base import HOLD, Context, Outcome, add_level_rows, capture_prices, fix_parties

__all__ = ["NAME", "solve"]

NAME = "leximin"

#: A level row whose dual exceeds this is binding in every optimum: its party is saturated.
SATURATION_DUAL = 1e-9


def solve(ctx: Context) -> Outcome:
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
        ctx.reasons.append({"code": "nobody_to_compare"})
        status = ctx.solve()
        return Outcome(status, lps=ctx.session.solves)
    if ctx.session.is_mip:
        return _ordered_outcomes(ctx)
    return _saturation(ctx)


def _saturation(ctx: Context) -> Outcome:
    session = ctx.session
    levels = add_level_rows(ctx)
    free = sorted(levels.rows)
    found: list[tuple[float, list[int]]] = []
    while free:
        status = ctx.solve()
        if not status.solved:
            if not found:
                return Outcome(status, lps=session.solves)
            raise SolverError(
                f"leximin level {len(found) + 1} became {status} after fixing the earlier levels "
                "(numerical trouble); try the other solver"
            )
        level = session.value(levels.t)
        ctx.certify(accumulate=True)
        if not found:
            ctx.prices = capture_prices(ctx, "min_gain")
        duals = session.row_duals([levels.rows[p] for p in free])
        assert duals is not None  # an LP always has duals here
        saturated = [p for p, d in zip(free, duals, strict=True) if abs(d) > SATURATION_DUAL]
        if not saturated:  # degenerate duals: fall back to the parties sitting at the level
            gains = ctx.compared_gains(ctx.utilities()) / ctx.weight
            saturated = [p for p in free if gains[p] <= level + 1e-9 * max(1.0, abs(level))]
        fix_parties(ctx, levels, saturated, level)
        found.append((level, saturated))
        chosen = set(saturated)
        free = [p for p in free if p not in chosen]
    _report(ctx, found)
    return Outcome(
        Status.OPTIMAL if status == Status.OPTIMAL else status,
        lps=session.solves,
        details={"levels": len(found)},
    )


def _ordered_outcomes(ctx: Context) -> Outcome:
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
            pulp.LpConstraint(
                pulp.LpAffineExpression([(d[p], 1.0), (r, -1.0), (model.u[p], scale[p])]),
                pulp.LpConstraintGE,
                f"ord{k}_{p}",
                float(ctx.index.disagreement[p]) * scale[p],
            )
            for p in members
        ]
        session.add_constraints(rows, [r, *d.values()])
        objective = pulp.LpAffineExpression([(r, float(k)), *((d[p], -1.0) for p in members)])
        session.set_objective(objective, maximize=True)
        stage = ctx.solve()
        if not stage.solved:
            if k == 1:
                return Outcome(stage, lps=session.solves)
            break
        if stage == Status.FEASIBLE:
            status = Status.FEASIBLE
        total = session.objective_value()
        sums.append(total)
        hold = pulp.LpConstraint(
            objective, pulp.LpConstraintGE, f"ordhold{k}", total - HOLD * max(1.0, abs(total))
        )
        session.add_constraints([hold])
    gains = ctx.compared_gains(ctx.utilities()) / ctx.weight
    found: list[tuple[float, list[int]]] = []
    for p in sorted(members, key=lambda p: gains[p]):
        if found and abs(found[-1][0] - gains[p]) <= 1e-7 * max(1.0, abs(gains[p])):
            found[-1][1].append(p)
        else:
            found.append((float(gains[p]), [p]))
    _report(ctx, found)
    return Outcome(status, lps=session.solves, details={"levels": len(found)})


def _report(ctx: Context, found: list[tuple[float, list[int]]]) -> None:
    for rank, (level, parties) in enumerate(found, start=1):
        ctx.reasons.append(
            {
                "code": "leximin_level",
                "rank": rank,
                "level": level,
                "parties": [ctx.index.parties[p] for p in sorted(parties)],
            }
        )
