"""The risk-sharing rule: least total expected loss, then the most even burden, then rewards.

The principles of risk allocation in public–private partnerships, as
:mod:`mediation.risk` makes them computable, applied in three lexicographic stages on the
allocation LP (every stage keeps the red lines, the capacities, the extra constraints and
the policy's constraints, individual rationality included):

1. **Control and cost.** Minimise the total expected loss after mitigation,
   ``Σ p_i · A_i · x_si · (1 − m · c_si)``: each risk goes to the parties that can best
   control it, as far as their red lines and capacities allow. Call the least total ``L*``.
2. **Burden.** Among the splits with total expected loss at most ``L* · (1 + τ)`` (τ is the
   policy's ``loss_tolerance``, 0 by default), make the largest burden (a party's expected
   loss ÷ what it can bear) as small as possible, then the next largest, and so on
   (lexicographic min–max, by the sequential saturation method as in leximin): nobody is
   left carrying far more than it can bear while others carry little.
3. **Reward.** With the risks so split, the resources are divided by leximin on the
   parties' net utilities: a party that bears more of the risks is the worse off for it, so
   it receives more of the resources (reward commensurate with risk).

A case without risks is divided by stage 3 alone: leximin. Uncontrolled risks (no party
states ``control``) cost the same wherever they go, so stage 2
alone spreads them, in proportion to what the parties can bear. With ``loss_tolerance``
above 0 the rule trades a bounded increase of the total expected loss for evenness.

References
----------
Irwin, T. C. (2007). *Government Guarantees: Allocating and Valuing Risk in Privately
Financed Infrastructure Projects.* World Bank. DOI 10.1596/978-0-8213-6858-9.
Ng, A. & Loosemore, M. (2007). Risk allocation in the private provision of public
infrastructure. *International Journal of Project Management* 25(1), 66–76.
DOI 10.1016/j.ijproman.2006.06.005.
Nace, D. & Pióro, M. (2008). Max-min fairness and its applications to routing and
load-balancing in communication networks: a tutorial. *IEEE Communications Surveys &
Tutorials* 10(4), 5–17. DOI 10.1109/SURV.2008.080403 (sequential saturation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import reasons
from ..allocation.model import Column, Row
from ..backends import Status
from ..errors import SolverError
from ..reasons import Reason
from ..risk import RiskView, risk_view
from . import leximin
from .base import Context, RuleResult

__all__ = ["NAME", "RiskSharingSteps", "solve"]

NAME = "risk_sharing"

#: A burden row whose dual exceeds this (the duals of the free parties sum to 1) binds in
#: every optimum: its party is saturated.
_SATURATED = 1e-6
#: How far a risk's share may move from the split found while the resources are divided.
_GRIP = 1e-9
#: Loss coefficients (relative to the largest) below this are left out of the hold row.
_RESOLVED = 1e-9
#: Burden rounds whose levels differ by less than this (relative) are one round.
_SAME_LEVEL = 1e-6
#: Relative slack on a stage's optimum when it is held for the next stage.
_HOLD = 1e-9


@dataclass(frozen=True)
class RiskSharingSteps:
    """What each stage reached: the least loss, the burden levels, the leximin levels."""

    total: float
    unmitigated: float
    unit: str
    tolerance: float
    burdens: list[tuple[float, list[str]]]
    #: Whether the case has a risk with an expected loss to place (else leximin alone).
    risky: bool = True
    reward_levels: leximin.LeximinLevels | None = None

    def reasons(self) -> list[Reason]:
        """``least_expected_loss``, one ``burden_level`` per round, then leximin's levels."""
        out: list[Reason] = []
        if self.risky:
            out.append(
                reasons.LeastExpectedLoss(
                    total=self.total,
                    unmitigated=self.unmitigated,
                    unit=self.unit,
                    tolerance=self.tolerance,
                )
            )
        out += [
            reasons.BurdenLevel(rank=rank, level=level, parties=parties)
            for rank, (level, parties) in enumerate(self.burdens, start=1)
        ]
        if self.reward_levels is not None:
            out += self.reward_levels.reasons()
        return out


def solve(ctx: Context) -> RuleResult:
    """Minimise the expected loss, balance the burden, then reward by leximin.

    See the module's docstring for the three stages.
    """
    view = risk_view(ctx.case, ctx.index)
    model, session = ctx.model, ctx.session
    risky = np.flatnonzero(view.risky)
    scale = float(view.loss[risky].max()) if risky.size else 0.0
    if scale <= 0.0:  # no expected loss anywhere: nothing to place, reward alone
        return _reward(ctx, view, split=None, burdens=[], release=[])
    costly = [int(k) for k in risky if view.loss[k] > 0]
    loss_terms = [(model.x[k], float(view.loss[k] / scale)) for k in costly]
    session.set_objective(model.expression(loss_terms), maximize=False)
    status = ctx.solve()
    if not status.solved:
        return RuleResult(status, lps=session.solves)
    least = session.objective_value()
    tolerance = float(ctx.policy.loss_tolerance)
    # the hold keeps the terms the solver resolves: a risk whose loss is below the hold's own
    # slack cannot move the total, and one row spanning 1e15 would be refused by the scaling;
    # such a risk is placed by the burden stage instead
    shares = session.values(model.x)
    small = [k for k in costly if view.loss[k] / scale < _RESOLVED]
    held_terms = [(model.x[k], float(view.loss[k] / scale)) for k in costly if k not in small]
    dropped = sum(float(view.loss[k] / scale * shares[k]) for k in small)
    cap = (least - dropped) * (1.0 + tolerance) + _HOLD * max(1.0, abs(least))
    hold_release = model.new_variable("loss_release", 0.0, 0.0)
    hold = model.row([*held_terms, (hold_release, -1.0)], "<=", cap, "least_loss")
    session.add_constraints([hold], [hold_release])
    release: list[Column] = [hold_release]
    burdens, status = _balance(ctx, view, release)
    if not status.solved:
        return RuleResult(status, lps=session.solves)
    return _reward(ctx, view, split=session.values(model.x), burdens=burdens, release=release)


def _balance(
    ctx: Context, view: RiskView, release: list[Column]
) -> tuple[list[tuple[float, list[int]]], Status]:
    """Stage 2: lexicographic min–max of the burdens, by sequential saturation."""
    model, session, index = ctx.model, ctx.session, ctx.index
    coef = np.where(view.risky, view.loss / view.basis[index.pair_party], 0.0)
    top = float(coef.max())
    parties = [
        p for p in range(len(index.parties)) if np.any(coef[index.interests_of_party[p]] > 0)
    ]
    if not parties:
        return [], Status.OPTIMAL
    z = model.new_variable("burden")
    rows: dict[int, Row] = {}
    frees: dict[int, Column] = {}
    for p in parties:
        r = model.new_variable(f"burden_release{p}", 0.0, 0.0)
        terms = [(model.x[k], float(coef[k] / top)) for k in index.interests_of_party[p]]
        rows[p] = model.row([*terms, (z, -1.0), (r, -1.0)], "<=", 0.0, f"burden{p}")
        frees[p] = r
    session.add_constraints(list(rows.values()), [z, *frees.values()])
    release += list(frees.values())
    session.set_objective(model.expression([(z, 1.0)]), maximize=False)
    free = list(parties)
    found: list[tuple[float, list[int]]] = []
    status = Status.OPTIMAL
    while free:
        status = ctx.solve()
        if not status.solved:
            if not found:
                return found, status
            raise SolverError(
                f"risk sharing: burden round {len(found) + 1} became {status} after holding "
                "the earlier rounds (numerical trouble); try the other solver"
            )
        level = session.value(z)
        shares = session.values(model.x)
        burden = view.burden(shares) / top
        duals = session.row_duals([rows[p] for p in free])
        at = level + 1e-9 * max(1.0, abs(level))
        saturated = (
            []
            if duals is None
            else [
                p
                for p, d in zip(free, duals, strict=True)
                if abs(d) > _SATURATED and burden[p] <= at
            ]
        )
        if not saturated:  # degenerate, or a MIP: the parties at the level
            saturated = [p for p in free if burden[p] >= level - 1e-9 * max(1.0, abs(level))]
            saturated = saturated or [max(free, key=lambda p: burden[p])]
        held = [
            model.row(
                [(model.x[k], float(coef[k] / top)) for k in index.interests_of_party[p]],
                "<=",
                max(level, float(burden[p])) + _HOLD * max(1.0, abs(level)),
                f"burden_hold{p}",
            )
            for p in saturated
        ]
        hold_releases = [model.new_variable(f"burden_hold_release{p}", 0.0, 0.0) for p in saturated]
        for row, r in zip(held, hold_releases, strict=True):
            model.add_term(row, r, -1.0)
        session.add_constraints(held, hold_releases)
        release += hold_releases
        session.set_bounds(
            [frees[p] for p in saturated], np.zeros(len(saturated)), np.full(len(saturated), np.inf)
        )
        burden_level = level * top
        # a burden is a fraction of what a party can bear: a billionth of it is noise
        if found and abs(found[-1][0] - burden_level) <= max(_SAME_LEVEL * abs(found[-1][0]), 1e-9):
            found[-1] = (found[-1][0], [*found[-1][1], *saturated])
        else:
            found.append((0.0 if abs(burden_level) <= 1e-9 else burden_level, saturated))
        chosen = set(saturated)
        free = [p for p in free if p not in chosen]
    return found, status


def _reward(
    ctx: Context,
    view: RiskView,
    *,
    split: np.ndarray | None,
    burdens: list[tuple[float, list[int]]],
    release: list[Column],
) -> RuleResult:
    """Stage 3: hold the risks' split and divide the resources by leximin; then let go.

    ``split`` is the allocation stages 1 and 2 found (``None``: no risk had a loss to place,
    and leximin divides everything).

    The risk columns and the rule's rows are released before returning, so that the Pareto
    check that follows judges the allocation against every split, not only this one.
    """
    model, session, index = ctx.model, ctx.session, ctx.index
    risky = np.flatnonzero(view.risky)
    shares = split
    resources = bool(np.any((index.sign > 0) & (index.value > 0)))
    levels: leximin.LeximinLevels | None = None
    status = Status.OPTIMAL
    if release:  # the split found keeps the rule's rows; held fixed, they would only get in the way
        session.set_bounds(release, np.zeros(len(release)), np.full(len(release), np.inf))
    if shares is not None and resources and risky.size:
        # held within the solvers' feasibility tolerance of the split found: held exactly,
        # a split that meets its rows only within CBC's tolerance can leave no room at all
        low = np.clip(shares[risky] - _GRIP, index.lower[risky], index.upper[risky])
        high = np.clip(shares[risky] + _GRIP, index.lower[risky], index.upper[risky])
        session.set_bounds([model.x[k] for k in risky], low, high)
        result = leximin.solve(ctx)
        if result.shares is None:
            return RuleResult(result.status, lps=session.solves)
        status = result.status
        shares = result.shares
        if isinstance(result.details, leximin.LeximinLevels):
            levels = result.details
        session.set_bounds([model.x[k] for k in risky], index.lower[risky], index.upper[risky])
    elif shares is None:
        result = leximin.solve(ctx)
        if result.shares is None:
            return RuleResult(result.status, lps=session.solves)
        status, shares = result.status, result.shares
        if isinstance(result.details, leximin.LeximinLevels):
            levels = result.details
    names = index.parties
    units = {ctx.case.issues[int(index.pair_issue[k])].unit for k in risky}
    steps = RiskSharingSteps(
        total=view.total(shares),
        unmitigated=float(view.unmitigated(shares).sum()),
        unit=units.pop() if len(units) == 1 else "",
        tolerance=float(ctx.policy.loss_tolerance),
        burdens=[(level, [names[p] for p in sorted(ps)]) for level, ps in burdens],
        risky=bool(risky.size) and float(view.loss[risky].max()) > 0,
        reward_levels=levels,
    )
    return RuleResult(status, shares=shares, details=steps, lps=session.solves, tie_broken=True)
