"""What rules share: the solving context, the result they return, lazy envy rows, levels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .. import reasons
from ..allocation.evidence import ParetoCertificate, Prices, capture_prices
from ..allocation.model import AllocationModel, Levels, add_envy_row
from ..backends import Session, Status
from ..case import Case, Policy
from ..fairness import envy_matrix
from ..numeric import CaseIndex
from ..reasons import Objective, Reason

__all__ = [
    "ENVY_SLACK",
    "HOLD",
    "MIP_HOLD",
    "Context",
    "Details",
    "Levels",
    "NoDetails",
    "NoPositiveGain",
    "NobodyToCompare",
    "ProcedureSteps",
    "RuleResult",
    "add_level_rows",
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
    #: The allocation of the last successful solve (every stage's LP keeps the hard and
    #: policy constraints): what a settlement stopped by its time limit falls back on.
    last_shares: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        """Each party's weight, as the case gives it."""
        return self.index.weight

    @property
    def span(self) -> np.ndarray:
        """Each party's own scale in utility units, whatever the comparison scale.

        It is the party's range (ideal − disagreement), or its stake when it has no range.
        Tolerances on a party's utility are relative to it.
        """
        room = self.ideal - self.index.disagreement
        return np.asarray(np.where(self.flat, self.index.stake, room), dtype=float)

    def level_unit(self) -> float:
        """Return the smallest compared party's range in level units (``span / (ρ w)``).

        A level held within ``HOLD`` of it costs no party more than ``HOLD`` of its own range.
        """
        unit = self.span / (self.rho * self.weight)
        return float(unit[self.compared].min()) if self.compared.any() else 1.0

    def utilitarian_weights(self) -> np.ndarray:
        """Coefficients on ``u`` of the entitlement-weighted sum of compared gains."""
        return np.asarray(self.weight / self.rho, dtype=float)

    def solve(self) -> Status:
        """Solve the model, adding envy rows as needed.

        With ``envy_free`` asked, add violated envy rows and re-solve until none remain.

        A pair that already has its row is not added again: what envy it still shows is
        within the solver's feasibility tolerance.
        """
        while True:
            status = self.session.solve().status
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

    def prices(self, objective: Objective) -> Prices | None:
        """Return the duals of the last solve as the price of each red line (``None`` for a MIP)."""
        return capture_prices(self.model, self.session, objective)

    def record(self, certificate: ParetoCertificate, *, accumulate: bool) -> None:
        """Add the last solve's duals to ``certificate`` (see :class:`ParetoCertificate`)."""
        certificate.record(self.model, self.session, accumulate=accumulate)

    def utilities(self) -> np.ndarray:
        """Return each party's utility at the last solve."""
        return self.session.values(self.model.u)

    def compared_gains(self, utilities: np.ndarray) -> np.ndarray:
        """Return the compared gains ``(u − d) / ρ`` of ``utilities``."""
        return np.asarray((utilities - self.index.disagreement) / self.rho, dtype=float)


class Details(Protocol):
    """What a rule found besides the allocation (its levels, its certificate, ...).

    These are the facts the settlement's reasons are derived from.
    """

    def reasons(self) -> list[Reason]:
        """Return the facts as typed reasons."""
        ...


@dataclass(frozen=True)
class NobodyToCompare:
    """No party's gain can move: every party is held at its no-deal point."""

    def reasons(self) -> list[Reason]:
        """One ``nobody_to_compare`` reason."""
        return [reasons.NobodyToCompare()]


@dataclass(frozen=True)
class NoPositiveGain:
    """Parties that cannot gain, though Nash's rule needs every compared party to gain.

    ``parties`` are positions in the case's stakeholders; the pipeline packages the
    diagnosis.
    """

    parties: list[int]

    def reasons(self) -> list[Reason]:
        """None: the infeasible settlement gives its own."""
        return []


@dataclass(frozen=True)
class ProcedureSteps:
    """The steps a procedural rule took, already as typed reasons.

    For example Adjusted Winner's phases, or a claims rule's awards.
    """

    steps: list[Reason]

    def reasons(self) -> list[Reason]:
        """Return the steps, in order."""
        return list(self.steps)


@dataclass(frozen=True)
class NoDetails:
    """A rule with nothing to say beyond its allocation."""

    def reasons(self) -> list[Reason]:
        """No reason."""
        return []


@dataclass
class RuleResult:
    """What a rule returns: how it ended, the allocation, and the evidence it gathered.

    Parameters
    ----------
    status
        ``optimal``, ``feasible`` (stopped by the time limit, or short of the rule's own
        target), or the status of the solve that failed.
    shares
        Per-interest shares; ``None`` when the rule ended without an allocation.
    details
        The rule's own facts (leximin's levels, Nash's certificate, ...), from which the
        settlement's reasons are derived.
    prices
        The duals of the hard constraints (the price of each red line), when the solves
        gave them.
    certificate
        The duals that prove Pareto optimality, when every solve that the final allocation
        attains gave them.
    lps
        How many LPs the rule solved.
    short
        Whether a ``feasible`` status means the rule's own target was missed (Nash's gap)
        rather than the time limit.
    stopped
        Whether the time limit cut the rule short: the allocation is the one its last
        solved stage found, and no refinement may follow.
    tie_broken
        Whether the rule chose among equally good allocations by its own principle (risk
        sharing places risks by control itself): the engine's control tie-break is skipped.
    """

    status: Status
    shares: np.ndarray | None = None
    details: Details = field(default_factory=NoDetails)
    prices: Prices | None = None
    certificate: ParetoCertificate | None = None
    lps: int = 0
    short: bool = False
    stopped: bool = False
    tie_broken: bool = False

    def reasons(self) -> list[Reason]:
        """Return the reasons derived from the rule's details."""
        return self.details.reasons()


# --- envy-freeness -------------------------------------------------------------------------


def envy_violations(
    index: CaseIndex, shares: np.ndarray, tol: float = ENVY_SLACK
) -> list[tuple[int, int]]:
    """Return the pairs ``(s, t)`` where ``s`` envies ``t``'s resources beyond ``tol``.

    ``tol`` is a fraction of the value ``s`` puts on resources (see
    :func:`mediation.fairness.envy_matrix`).
    """
    envy = envy_matrix(index, shares)
    bad = np.argwhere(envy > tol * index.resource_stake[:, None])
    return [(int(s), int(t)) for s, t in bad]


# --- levels (maximin, leximin, Kalai–Smorodinsky) ------------------------------------------


def add_level_rows(ctx: Context) -> Levels:
    """Add the level ``t`` with its columns and rows, and make ``t`` the objective.

    The columns are the release columns, the rows the level rows of every compared party.
    """
    m = ctx.model
    unit = 1.0 / (ctx.weight * ctx.rho)
    levels = m.level_rows(np.flatnonzero(ctx.compared).tolist(), unit)
    ctx.session.add_constraints(list(levels.rows.values()), levels.columns)
    ctx.session.set_objective(m.expression([(levels.t, 1.0)]), maximize=True)
    return levels


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
    """Return how loosely an earlier stage's optimum is held.

    :data:`HOLD`, or :data:`MIP_HOLD` for a MIP.
    """
    return MIP_HOLD if session.is_mip else HOLD


def hold_at(ctx: Context, parties: list[int], held: np.ndarray, slack: float) -> None:
    """Keep ``parties`` at compared gains (÷ weight) ``held``, less ``slack``.

    ``slack`` is relative to each party's own range.

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
