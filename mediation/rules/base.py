"""What LP rules share: the solving context, compared gains, lazy envy rows, level rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from ..case import Case, Policy
from ..fairness import envy_matrix
from ..formulation import AllocationModel, CaseIndex, add_envy_row
from ..solver import Session, Status

__all__ = [
    "ENVY_SLACK",
    "HOLD",
    "MIP_HOLD",
    "Context",
    "Levels",
    "Outcome",
    "Prices",
    "add_level_rows",
    "capture_prices",
    "envy_violations",
    "fix_parties",
    "hold_at",
    "hold_slack",
]

#: Relative tolerance used to hold a level or a utility fixed while optimising something else:
#: a party fixed at level ``l`` keeps at least ``l - HOLD`` (in compared-gain units). Small:
#: the slack is passed on to later levels multiplied by the parties' trade-off ratios (up to
#: ~1e3 in bench/), and 1e-8 put leximin vectors 1.7e-6 off; a later level that the
#: solver's tolerance makes infeasible is retried with wider holds (see leximin).
HOLD = 1e-10
#: The same for a MIP, whose incumbent meets its rows only to the MIP tolerance (1e-9 on the
#: scaled rows): a maximin level held within 1e-10 left the second stage infeasible.
MIP_HOLD = 1e-7
#: Envy up to this fraction of the value a party puts on resources is solver noise: it is not
#: a violation, and an envy row, added once envy goes beyond it, allows it too. The two must
#: agree: leximin fixes a level reached by an allocation that may carry such noise in a pair
#: without a row yet, and a row added later must not cut that allocation off.
ENVY_SLACK = 1e-9


@dataclass
class Prices:
    """Duals of the hard constraints from one solve: the price of each red line.

    Each array is "objective gained per unit of relaxation" of the bound in force, in the
    objective named by ``objective``; ``None`` when the solve gave no duals (a MIP).
    """

    objective: str
    shares: np.ndarray  # per interest: reduced cost of the share column
    utilities: np.ndarray  # per party: reduced cost of the utility column (disagreement points)
    capacities: dict[int, float]
    extra: dict[str, float]
    policy: dict[str, float]
    #: For leximin, the level (1 = the worst-off) whose LP gave each price: a red line that
    #: does not bind the worst-off can hold back a later level. Keys as in :meth:`level_of`.
    levels: dict[str, int] = field(default_factory=dict)

    def level_of(self, key: str) -> int:
        """The level a price comes from: ``share:k``, ``utility:p``, ``capacity:p``,
        ``extra:name``."""
        return self.levels.get(key, 1)

    def merge(self, later: Prices, rank: int, tol: float = 1e-9) -> None:
        """Take from ``later`` (level ``rank``) the prices this one does not have."""
        for name, mine, theirs in (
            ("share", self.shares, later.shares),
            ("utility", self.utilities, later.utilities),
        ):
            fill = (np.abs(mine) <= tol) & (np.abs(theirs) > tol)
            mine[fill] = theirs[fill]
            self.levels.update({f"{name}:{k}": rank for k in np.flatnonzero(fill).tolist()})
        for p, value in later.capacities.items():
            if abs(self.capacities.get(p, 0.0)) <= tol < abs(value):
                self.capacities[p] = value
                self.levels[f"capacity:{p}"] = rank
        for name, value in later.extra.items():
            if abs(self.extra.get(name, 0.0)) <= tol < abs(value):
                self.extra[name] = value
                self.levels[f"extra:{name}"] = rank


@dataclass
class Context:
    """Everything a rule needs to solve a case: the model, a live solver session, the scales.

    ``rho`` holds each party's unit of comparison: its range (ideal − disagreement) under the
    ``normalized`` scale, 1 under ``raw``; a party whose range is (almost) zero is *flat* and
    its stake (total value) is used instead. ``compared`` marks the parties whose gains the
    egalitarian rules compare: all, except flat parties held at their disagreement point by
    individual rationality (their gain is fixed at zero whatever the rule does).
    """

    case: Case
    policy: Policy
    index: CaseIndex
    model: AllocationModel
    session: Session
    ideal: np.ndarray
    rho: np.ndarray
    compared: np.ndarray
    flat: np.ndarray
    reasons: list[dict[str, Any]] = field(default_factory=list)
    prices: Prices | None = None
    #: Sum of the utility rows' duals over the solves whose optimum the final allocation
    #: attains (see :meth:`certify`); ``None`` when some solve gave no duals.
    certificate: np.ndarray | None = None
    policy_duals: float = 0.0
    #: The allocation of the last successful solve (every stage's LP keeps the hard and
    #: policy constraints): what a settlement stopped by its time limit falls back on.
    last_shares: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        return self.index.weight

    @property
    def span(self) -> np.ndarray:
        """Each party's own scale in utility units, whatever the comparison scale: its range
        (ideal − disagreement), or its stake when it has no range. Tolerances on a party's
        utility are relative to it."""
        room = self.ideal - self.index.disagreement
        return np.asarray(np.where(self.flat, self.index.stake, room), dtype=float)

    def level_unit(self) -> float:
        """The smallest compared party's range in level units (``span / (ρ w)``): a level
        held within ``HOLD`` of it costs no party more than ``HOLD`` of its own range."""
        unit = self.span / (self.rho * self.weight)
        return float(unit[self.compared].min()) if self.compared.any() else 1.0

    def utilitarian_weights(self) -> np.ndarray:
        """Coefficients on ``u`` of the entitlement-weighted sum of compared gains."""
        return np.asarray(self.weight / self.rho, dtype=float)

    def solve(self) -> Status:
        """Solve; with ``envy_free`` asked, add violated envy rows and re-solve until none
        remain.

        A pair that already has its row is not added again: what envy it still shows is
        within the solver's feasibility tolerance.
        """
        while True:
            status = self.session.solve()
            if status.solved and not self.policy.envy_free:
                self.last_shares = self.session.values(self.model.x)
            if not status.solved or not self.policy.envy_free:
                return status
            shares = self.session.values(self.model.x)
            rows = []
            first_new = len(self.model.variables)
            for s, t in envy_violations(self.index, shares):
                if (s, t) in self.model.envy_rows:
                    continue
                rows.append(add_envy_row(self.model, s, t, slack=ENVY_SLACK))
            if not rows:
                self.last_shares = shares
                return status
            self.session.add_constraints(rows, self.model.variables[first_new:])

    def certify(self, *, accumulate: bool) -> None:
        """Record the duals of the last solve as evidence of Pareto optimality.

        Relaxing the utility rows ``u_s = U_s(x)`` with their duals ``y_s`` shows that the
        solution maximises ``Σ y_s U_s(x)`` (plus the policy rows' terms) over the hard
        constraints. If the final allocation is optimal in every recorded solve, it maximises
        the sum of these weighted sums; when every weight is positive and no policy row has a
        price, no allocation can make a party better off without making another worse off.
        ``accumulate`` adds to the evidence (leximin's and maximin's stages, all attained by
        the final allocation); otherwise it replaces it (Nash's last round).
        """
        duals = self.session.row_duals(self.model.utility_rows)
        rows = [*self.model.policy_rows.values(), *self.model.envy_rows.values()]
        policy = self.session.row_duals(rows)
        if duals is None or policy is None:
            self.certificate, self.policy_duals = None, np.inf
            return
        if accumulate and self.certificate is not None:
            self.certificate = self.certificate + duals
            self.policy_duals += float(np.abs(policy).sum())
        elif accumulate and self.policy_duals == np.inf:
            return
        else:
            self.certificate = duals.copy()
            self.policy_duals = float(np.abs(policy).sum())

    def certified_pareto_optimal(self) -> bool:
        """Whether the recorded duals prove Pareto optimality (see :meth:`certify`)."""
        if self.certificate is None or self.policy_duals > 1e-9:
            return False
        stake = np.array([len(ks) > 0 for ks in self.index.interests_of_party])
        weights = self.certificate * self.rho
        if not stake.any():
            return True
        top = float(np.max(np.abs(weights[stake])))
        return bool(np.all(weights[stake] > 1e-7 * max(top, 1e-300)))

    def utilities(self) -> np.ndarray:
        return self.session.values(self.model.u)

    def compared_gains(self, utilities: np.ndarray) -> np.ndarray:
        return np.asarray((utilities - self.index.disagreement) / self.rho, dtype=float)


@dataclass
class Outcome:
    """What a rule returns: its status and facts for the explanation."""

    status: Status
    lps: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    #: The allocation, when it is not the session's last solution (a rule stopped by the
    #: time limit returns the one its last successful stage found).
    shares: np.ndarray | None = None


def capture_prices(ctx: Context, objective: str) -> Prices | None:
    """Read the duals of the current solve (``None`` for a MIP)."""
    s, m = ctx.session, ctx.model
    shares = s.reduced_costs(m.x)
    utilities = s.reduced_costs(m.u)
    if shares is None or utilities is None:
        return None
    caps = list(m.capacity_rows.items())
    extra = list(m.extra_rows.items())
    pol = list(m.policy_rows.items())
    cap_d = s.row_duals([c for _, c in caps])
    extra_d = s.row_duals([c for _, c in extra])
    pol_d = s.row_duals([c for _, c in pol])
    if cap_d is None or extra_d is None or pol_d is None:
        return None
    return Prices(
        objective=objective,
        shares=shares,
        utilities=utilities,
        capacities={p: float(d) for (p, _), d in zip(caps, cap_d, strict=True)},
        extra={n: float(d) for (n, _), d in zip(extra, extra_d, strict=True)},
        policy={n: float(d) for (n, _), d in zip(pol, pol_d, strict=True)},
    )


# --- envy-freeness -------------------------------------------------------------------------


def envy_violations(
    index: CaseIndex, shares: np.ndarray, tol: float = ENVY_SLACK
) -> list[tuple[int, int]]:
    """Pairs ``(s, t)`` where ``s`` envies ``t``'s resources beyond ``tol`` of the value ``s``
    puts on resources (see :func:`mediation.fairness.envy_matrix`)."""
    envy = envy_matrix(index, shares)
    bad = np.argwhere(envy > tol * index.resource_stake[:, None])
    return [(int(s), int(t)) for s, t in bad]


# --- levels (maximin, leximin, Kalai–Smorodinsky) ------------------------------------------


@dataclass
class Levels:
    """The level ``t`` and one row per compared party: ``c_p / w_p − t + r_p ≥ 0``.

    ``r_p`` is a release column held at 0 while party ``p`` takes part in the level; freeing
    it (upper bound ∞) takes ``p`` out without touching the row, so that all of leximin's edits
    are bound changes and HiGHS re-solves warm from the last basis.
    """

    t: pulp.LpVariable
    release: dict[int, pulp.LpVariable]
    rows: dict[int, pulp.LpConstraint]


def add_level_rows(ctx: Context) -> Levels:
    """Add ``t``, the release columns and the level rows for every compared party."""
    m = ctx.model
    t = m.new_variable("t")
    release: dict[int, pulp.LpVariable] = {}
    rows: dict[int, pulp.LpConstraint] = {}
    for p in np.flatnonzero(ctx.compared).tolist():
        r = m.new_variable(f"r{p}", 0.0, 0.0)
        scale = 1.0 / float(ctx.weight[p] * ctx.rho[p])
        rows[p] = pulp.LpConstraint(
            pulp.LpAffineExpression([(m.u[p], scale), (t, -1.0), (r, 1.0)]),
            pulp.LpConstraintGE,
            f"level{p}",
            float(ctx.index.disagreement[p]) * scale,
        )
        release[p] = r
    ctx.session.add_constraints(list(rows.values()), [t, *release.values()])
    ctx.session.set_objective(pulp.LpAffineExpression([(t, 1.0)]), maximize=True)
    return Levels(t=t, release=release, rows=rows)


def fix_parties(
    ctx: Context, levels: Levels, parties: list[int], level: float, gains: np.ndarray
) -> np.ndarray:
    """Hold ``parties`` at compared gain ``level`` (× weight) and take them out of the level.

    ``gains`` are the current compared gains (÷ weight): a party the solver left a hair below
    the level is held at what it has, so that the current allocation stays feasible and the
    next LP starts from a feasible point (on ill-conditioned markets, holding it at the level
    itself left later LPs infeasible by ~1e-5 for every simplex variant).
    """
    held = np.asarray(np.minimum(gains[parties], level), dtype=float)
    if not parties:
        return held
    hold_at(ctx, parties, held, HOLD)
    ctx.session.set_bounds(
        [levels.release[p] for p in parties], np.zeros(len(parties)), np.full(len(parties), np.inf)
    )
    return held


def hold_slack(session: Session) -> float:
    """How loosely an earlier stage's optimum is held: :data:`HOLD`, :data:`MIP_HOLD` for a
    MIP."""
    return MIP_HOLD if session.is_mip else HOLD


def hold_at(ctx: Context, parties: list[int], held: np.ndarray, slack: float) -> None:
    """Keep ``parties`` at compared gains (÷ weight) ``held``, less ``slack`` relative to each
    party's own range.

    The slack is measured in the party's own gain, never in the compared units: a party with
    weight 1e6 held at a level ``l`` has gain ``1e6 · l``, and a slack in level units would
    let it give up a millionfold more than a light party (a 1 : 1e6 split came out with the
    light party at 134x its weighted share).
    """
    idx = ctx.index
    gain = ctx.rho[parties] * ctx.weight[parties] * held
    floor = idx.disagreement[parties] + gain - slack * ctx.span[parties]
    if ctx.policy.individually_rational:  # never below the disagreement point (or the ideal)
        floor = np.maximum(floor, np.minimum(idx.disagreement[parties], ctx.ideal[parties]))
    ctx.session.set_bounds([ctx.model.u[p] for p in parties], floor, np.full(len(parties), np.inf))
