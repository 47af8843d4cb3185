"""What a rule's solves prove: the price of each red line, the Pareto certificate."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..backends import Session
from ..numeric import CaseIndex
from ..reasons import Objective
from .model import AllocationModel

__all__ = ["ParetoCertificate", "Prices", "capture_prices"]


@dataclass
class Prices:
    """Duals of the hard constraints from one solve: the price of each red line.

    Each array is "objective gained per unit of relaxation" of the bound in force, in the
    objective named by ``objective``; ``None`` when the solve gave no duals (a MIP).
    """

    objective: Objective
    shares: np.ndarray  # per interest: reduced cost of the share column
    utilities: np.ndarray  # per party: reduced cost of the utility column (disagreement points)
    capacities: dict[int, float]
    extra: dict[str, float]
    policy: dict[str, float]
    #: For leximin, the level (1 = the worst-off) whose LP gave each price: a red line that
    #: does not bind the worst-off can hold back a later level. Keys as in :meth:`level_of`.
    levels: dict[str, int] = field(default_factory=dict)

    def level_of(self, key: str) -> int:
        """Return the level a price comes from.

        ``key`` is one of ``share:k``, ``utility:p``, ``capacity:p``, ``extra:name``.
        """
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
class ParetoCertificate:
    """Duals that prove an allocation Pareto-optimal, gathered over a rule's solves.

    Relaxing the utility rows ``u_s = U_s(x)`` with their duals ``y_s`` shows that the
    solution maximises ``Σ y_s U_s(x)`` (plus the policy rows' terms) over the hard
    constraints. If the final allocation is optimal in every recorded solve, it maximises
    the sum of these weighted sums; when every weight is positive and no policy row has a
    price, no allocation can make a party better off without making another worse off.
    """

    #: Sum of the utility rows' duals over the recorded solves; ``None`` when some solve
    #: gave no duals.
    duals: np.ndarray | None = None
    policy_duals: float = 0.0
    recorded: int = 0

    def record(self, model: AllocationModel, session: Session, *, accumulate: bool) -> None:
        """Record the duals of the session's last solve.

        ``accumulate`` adds to the evidence (leximin's and maximin's stages, all attained by
        the final allocation); otherwise it replaces it (Nash's last round).
        """
        duals = session.row_duals(model.utility_rows)
        rows = [*model.policy_rows.values(), *model.envy_rows.values()]
        policy = session.row_duals(rows)
        first = self.recorded == 0
        self.recorded += 1
        if duals is None or policy is None:
            self.duals, self.policy_duals = None, np.inf
            return
        if accumulate and self.duals is not None:
            self.duals = self.duals + duals
            self.policy_duals += float(np.abs(policy).sum())
        elif accumulate and not first and self.policy_duals == np.inf:
            return
        else:
            self.duals = duals.copy()
            self.policy_duals = float(np.abs(policy).sum())

    def proves(self, index: CaseIndex, rho: np.ndarray) -> bool:
        """Whether the recorded duals prove Pareto optimality."""
        if self.duals is None or self.policy_duals > 1e-9:
            return False
        stake = np.array([len(ks) > 0 for ks in index.interests_of_party])
        weights = self.duals * rho
        if not stake.any():
            return True
        top = float(np.max(np.abs(weights[stake])))
        return bool(np.all(weights[stake] > 1e-7 * max(top, 1e-300)))


def capture_prices(model: AllocationModel, session: Session, objective: Objective) -> Prices | None:
    """Read the duals of the session's last solve (``None`` for a MIP)."""
    s, m = session, model
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
