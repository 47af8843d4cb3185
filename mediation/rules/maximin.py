"""The maximin (egalitarian) rule: raise the worst-off party first, then the sum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import reasons
from ..allocation.evidence import ParetoCertificate, Prices
from ..backends import Status
from ..reasons import Objective, Reason
from .base import Context, Details, NobodyToCompare, RuleResult, add_level_rows, hold_slack

__all__ = ["NAME", "WorstOff", "solve", "solve_levels_then_sum"]

NAME = "maximin"


@dataclass(frozen=True)
class WorstOff:
    """The parties at the lowest level, and that level (compared gain ÷ weight)."""

    parties: list[str]
    level: float

    def reasons(self) -> list[Reason]:
        """One ``worst_off`` reason."""
        return [reasons.WorstOff(parties=self.parties, level=self.level)]


def solve(ctx: Context) -> RuleResult:
    """Maximise ``min_s c_s / w_s``, then, holding that minimum, the weighted sum.

    ``c_s`` is the compared gain ``(u_s − d_s) / ρ_s`` (normalized or raw) and ``w_s`` the
    entitlement. The second stage makes the result efficient among the egalitarian optima;
    it is Pareto-optimal whenever the sum's weights are positive, which they are.

    References
    ----------
    Rawls, J. (1971). *A Theory of Justice*. Harvard University Press.
    Kalai, E. (1977). Proportional solutions to bargaining situations: interpersonal utility
    comparisons. *Econometrica* 45(7), 1623–1630. DOI 10.2307/1914161.
    """
    return solve_levels_then_sum(ctx, objective="min_gain")


def solve_levels_then_sum(ctx: Context, *, objective: Objective) -> RuleResult:
    """Maximin followed by the weighted sum (shared with Kalai–Smorodinsky)."""
    session = ctx.session
    stopped = False  # the level was found by a solve stopped at the time limit
    members: list[int] = []
    duals: np.ndarray | None = None
    level = 0.0
    certificate = ParetoCertificate()
    prices: Prices | None = None
    details: Details = NobodyToCompare()
    if ctx.compared.any():
        levels = add_level_rows(ctx)
        status = ctx.solve()
        if not status.solved:
            return RuleResult(status, lps=session.solves)
        stopped = status == Status.FEASIBLE
        level = session.value(levels.t)
        ctx.record(certificate, accumulate=True)
        prices = ctx.prices(objective)
        members = sorted(levels.rows)
        duals = session.row_duals([levels.rows[p] for p in members])
        # within HOLD of each party's own range (a slack in level units would be multiplied by
        # the weights: with every weight 1e5 the worst-off lost 1e-5 of its range)
        slack = hold_slack(session) * ctx.level_unit()
        session.set_bounds([levels.t], [level - slack], [np.inf])
    weights = ctx.utilitarian_weights()
    session.set_objective(ctx.model.utility_expression(weights), maximize=True)
    status = ctx.solve()
    if not status.solved:
        return RuleResult(status, lps=session.solves)
    ctx.record(certificate, accumulate=True)
    if members:
        # the worst-off: held at the level in every optimum (a nonzero dual) or left there by
        # the final allocation; not those a first-stage vertex happened to put at the level
        gains = ctx.compared_gains(ctx.utilities())[members] / ctx.weight[members]
        worst = [
            ctx.index.parties[p]
            for k, p in enumerate(members)
            if (duals is not None and abs(duals[k]) > 1e-9)
            or gains[k] <= level + 1e-7 * max(1.0, abs(level))
        ]
        details = WorstOff(worst, level)
    return RuleResult(
        Status.FEASIBLE if stopped else status,
        shares=session.values(ctx.model.x),
        details=details,
        prices=prices if prices is not None else ctx.prices("weighted_sum"),
        certificate=certificate,
        lps=session.solves,
    )
